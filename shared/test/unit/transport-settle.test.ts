import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { ServiceBusError } from '@azure/service-bus';
import { pino } from 'pino';
import type { DeadLetterCode } from '../../src/transport/failure-codes.ts';
import { outcome } from '../../src/transport/port.ts';
import { decideSettlement, executeSettlement, type SettleOps } from '../../src/transport/servicebus/settle.ts';

function captureLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const policy = { attempt: 1, maxAttempts: 3, backoff: { baseMs: 100, maxMs: 1000 }, now: 1_000_000 };

describe('decideSettlement', () => {
  it('completes on success', () => {
    assert.deepEqual(decideSettlement(outcome.success(), policy), { kind: 'complete' });
  });

  it('dead-letters with the reason and description, truncated to sane lengths', () => {
    const s = decideSettlement(outcome.deadLetter('R'.repeat(500) as DeadLetterCode, 'D'.repeat(5000)), policy);
    assert.equal(s.kind, 'deadLetter');
    assert.ok(s.kind === 'deadLetter' && s.reason.length <= 128 && s.description.length <= 1024);
    assert.ok(s.kind === 'deadLetter' && s.reason.startsWith('RRR') && s.description.endsWith('…[truncated]'));
  });

  it('scrubs dependency text in dead-letter descriptions and retry errors like a log line', () => {
    const sas = 'https://a.blob.core.windows.net/c/b?sv=1&sig=U0VDUkVUU0lH%3D&se=2';
    const dead = decideSettlement(outcome.deadLetter('LogsIngestionRejected', `400 body: ${sas}`), policy);
    assert.ok(dead.kind === 'deadLetter' && !dead.description.includes('U0VDUkVUU0lH'), JSON.stringify(dead));
    const retry = decideSettlement(outcome.retryLater('AdxIngestUnavailable', `failed: ${sas}`), policy);
    assert.ok(retry.kind === 'retry' && !retry.lastError.includes('U0VDUkVUU0lH'), JSON.stringify(retry));
  });

  it('retries with the requested delay and the next attempt', () => {
    const s = decideSettlement(outcome.retryLater('LogsIngestionThrottled', '429 Too Many Requests', 2500), policy);
    assert.deepEqual(s, {
      kind: 'retry',
      nextAttempt: 2,
      delayMs: 2500,
      at: new Date(policy.now + 2500),
      lastError: 'LogsIngestionThrottled: 429 Too Many Requests',
    });
  });

  it('an outage retry keeps the attempt, even the last one, and waits out the pause', () => {
    const outage = { dependency: 'adx', pauseMs: 4_000 };
    const s = decideSettlement(outcome.retryLater('AdxIngestUnavailable', '503'), {
      ...policy,
      attempt: 3,
      outage,
      random: () => 0.5,
    });
    assert.deepEqual(s, {
      kind: 'retry',
      nextAttempt: 3,
      delayMs: 4_050,
      at: new Date(policy.now + 4_050),
      lastError: 'AdxIngestUnavailable: 503',
      outage: 'adx',
    });
  });

  it('falls back to exponential backoff with full jitter, capped', () => {
    const at = (attempt: number) =>
      decideSettlement(outcome.retryLater('S3Unavailable', 'x'), {
        ...policy,
        attempt,
        maxAttempts: 10,
        random: () => 1,
      });
    assert.equal((at(1) as { delayMs: number }).delayMs, 100);
    assert.equal((at(3) as { delayMs: number }).delayMs, 400);
    assert.equal((at(9) as { delayMs: number }).delayMs, 1000);
  });

  it('dead-letters as MaxAttemptsExceeded with the last reason once attempts are used up', () => {
    const s = decideSettlement(outcome.retryLater('S3Unavailable', 'upstream 503'), { ...policy, attempt: 3 });
    assert.deepEqual(s, {
      kind: 'deadLetter',
      reason: 'MaxAttemptsExceeded',
      description: 'S3Unavailable: upstream 503',
    });
  });
});

function fakeOps(overrides: Partial<SettleOps> = {}) {
  const calls: string[] = [];
  const ops: SettleOps = {
    complete: async () => void calls.push('complete'),
    abandon: async () => void calls.push('abandon'),
    deadLetter: async (r, d) => void calls.push(`deadLetter:${r}:${d}`),
    scheduleRetry: async (n) => {
      calls.push(`schedule:${n}`);
      return async () => void calls.push('cancel');
    },
    ...overrides,
  };
  return { ops, calls };
}

const lockLost = () => new ServiceBusError('lock expired', 'MessageLockLost');

describe('executeSettlement', () => {
  it('schedules the retry copy before completing the original', async () => {
    const { log } = captureLogger();
    const { ops, calls } = fakeOps();
    const s = decideSettlement(outcome.retryLater('S3Unavailable', 'x', 10), policy);
    assert.equal(await executeSettlement(s, ops, log), 'retried');
    assert.deepEqual(calls, ['schedule:2', 'complete']);
  });

  it('abandons the original when the copy cannot be scheduled, so nothing is lost', async () => {
    const { log } = captureLogger();
    const { ops, calls } = fakeOps({
      scheduleRetry: async () => {
        throw new ServiceBusError('busy', 'ServiceBusy');
      },
    });
    const s = decideSettlement(outcome.retryLater('S3Unavailable', 'x', 10), policy);
    assert.equal(await executeSettlement(s, ops, log), 'abandoned');
    assert.deepEqual(calls, ['abandon']);
  });

  it('withdraws the scheduled copy when completing the original loses the lock', async () => {
    const { log, lines } = captureLogger();
    const { ops, calls } = fakeOps({
      complete: async () => {
        calls.push('complete');
        throw lockLost();
      },
    });
    const s = decideSettlement(outcome.retryLater('S3Unavailable', 'x', 10), policy);
    assert.equal(await executeSettlement(s, ops, log), 'lockLost');
    assert.deepEqual(calls, ['schedule:2', 'complete', 'cancel']);
    assert.ok(lines.some((l) => l.level === 40 && /lock lost/.test(l.msg)));
  });

  it('reports a lost lock on complete as a warning and does not throw', async () => {
    const { log, lines } = captureLogger();
    const { ops } = fakeOps({
      complete: async () => {
        throw lockLost();
      },
    });
    assert.equal(await executeSettlement({ kind: 'complete' }, ops, log), 'lockLost');
    assert.equal(lines.filter((l) => l.level >= 50).length, 0);
    assert.equal(lines.filter((l) => l.level === 40).length, 1);
  });

  it('logs any other settlement failure as an error and does not throw', async () => {
    const { log, lines } = captureLogger();
    const { ops } = fakeOps({
      deadLetter: async () => {
        throw new Error('socket closed');
      },
    });
    assert.equal(await executeSettlement({ kind: 'deadLetter', reason: 'r', description: 'd' }, ops, log), 'failed');
    assert.ok(lines.some((l) => l.level === 50));
  });
});
