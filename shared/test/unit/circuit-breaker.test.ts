import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blamedDependency, CircuitBreakers } from '../../src/transport/circuit-breaker.ts';
import { outcome } from '../../src/transport/port.ts';

describe('CircuitBreakers', () => {
  const down = outcome.retryLater('LogsIngestionUnavailable', '503');
  const policy = { threshold: 3, pauseBaseMs: 1_000, pauseMaxMs: 8_000 };

  function breakers() {
    let now = 0;
    const changes: string[] = [];
    const b = new CircuitBreakers(['logs-ingestion', 'tables'], policy, {
      now: () => now,
      random: () => 1,
      onChange: (d, from, to, pauseMs) => changes.push(`${d} ${from}→${to}${pauseMs ? ` ${pauseMs}` : ''}`),
    });
    return { b, changes, advance: (ms: number) => (now += ms) };
  }

  it('blames retry codes on their dependency, and nothing else', () => {
    assert.equal(blamedDependency(down), 'logs-ingestion');
    assert.equal(blamedDependency(outcome.retryLater('AdxIngestUnavailable', '')), 'adx');
    assert.equal(blamedDependency(outcome.retryLater('StatusTableUnavailable', '')), 'tables');
    assert.equal(blamedDependency(outcome.retryLater('HandlerBug', '')), undefined);
    assert.equal(blamedDependency(outcome.deadLetter('InvalidJson', '')), undefined);
    assert.equal(blamedDependency(outcome.success()), undefined);
  });

  it('opens after threshold failures in a row, probes after the pause, closes on a success', () => {
    const { b, changes, advance } = breakers();
    assert.equal(b.record(down), undefined, 'one failure is the message’s own, its attempt counts');
    assert.equal(b.record(down), undefined);
    assert.equal(b.record(down), 'logs-ingestion', 'the third opens it: an outage');
    assert.equal(b.paused, true);
    assert.equal(b.pauseLeftMs(), 1_000);
    assert.equal(b.record(down), 'logs-ingestion', 'failures while open are the outage’s');
    advance(999);
    assert.equal(b.tick(), false);
    advance(1);
    assert.equal(b.tick(), true);
    assert.equal(b.paused, false);
    assert.equal(b.snapshot()[0]?.state, 'half-open');
    assert.equal(b.record(down), 'logs-ingestion', 'a failed probe opens it again, longer');
    assert.equal(b.pauseLeftMs(), 2_000);
    advance(2_000);
    b.tick();
    b.record(outcome.success());
    assert.deepEqual(
      b.snapshot().map((s) => s.state),
      ['closed', 'closed'],
    );
    assert.deepEqual(changes, [
      'logs-ingestion closed→open 1000',
      'logs-ingestion open→half-open',
      'logs-ingestion half-open→open 2000',
      'logs-ingestion open→half-open',
      'logs-ingestion half-open→closed',
    ]);
  });

  it('a success in between keeps it closed; undeclared dependencies are never blamed', () => {
    const { b } = breakers();
    b.record(down);
    b.record(down);
    b.record(outcome.success());
    b.record(down);
    b.record(down);
    assert.equal(b.paused, false);
    for (let i = 0; i < 10; i++) assert.equal(b.record(outcome.retryLater('AdxIngestUnavailable', '')), undefined);
    assert.equal(b.paused, false);
  });

  it('caps the pause however long the outage lasts', () => {
    const { b, advance } = breakers();
    for (let i = 0; i < 3; i++) b.record(down);
    for (let trip = 0; trip < 10; trip++) {
      advance(b.pauseLeftMs());
      b.tick();
      b.record(down);
    }
    assert.equal(b.pauseLeftMs(), 8_000);
    assert.ok(b.snapshot()[0]?.since !== undefined);
  });
});
