// Faults on the S3 → Log Analytics flow: a sink that throttles, fails and refuses, processes killed and
// stopped mid-corpus. At-least-once: nothing may go missing; duplicates are counted and reported.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { waitUntil } from '@logferry/shared/testing/wait';
import { buildCorpus, type Corpus } from '../src/s3-corpus.ts';
import { FLOW_SERVICES, type Flow, sinkDiff, startFlow } from '../src/s3-flow.ts';
import { describeDiff } from '../src/s3-records.ts';

const GRACE_MS = 5_000;

describe('S3 → Log Analytics flow under faults', () => {
  let flow: Flow;
  let run = 0;

  before(async () => {
    flow = await startFlow({
      // Killed consumers' locks lapse in seconds; renewals keep live ones.
      lockDuration: 'PT5S',
      env: {
        // One object at a time keeps the fetcher mid-corpus when it is stopped.
        's3-fetcher': { CONCURRENCY: '1', SHUTDOWN_GRACE_MS: String(GRACE_MS) },
        'la-uploader': { CONCURRENCY: '2', SHUTDOWN_GRACE_MS: String(GRACE_MS) },
        'sqs-poller': { SHUTDOWN_GRACE_MS: String(GRACE_MS) },
      },
    });
  });
  beforeEach(() => {
    // Each test judges only its own records and faults.
    flow.stack.logsIngestion.reset();
    run++;
  });
  after(async () => {
    await flow?.stop();
  });

  function corpus(): Corpus {
    return buildCorpus({
      bucket: flow.stack.endpoints.bucket,
      recordsPerObject: 3_000,
      extraObjects: 6,
      largeObjectRecords: 0,
      poison: false,
      tag: `run${run}`,
    });
  }

  /** Resolves once the sink holds some of the corpus, not all: the moment to hurt the flow. */
  async function midCorpus(c: Corpus): Promise<number> {
    await flow.stack.logsIngestion.waitFor(() => flow.stack.logsIngestion.stats(flow.stream).recordCount > 0, 60_000);
    const at = flow.stack.logsIngestion.stats(flow.stream).recordCount;
    assert.ok(at < c.expectedCount, `the fault must land mid-corpus (sink already held ${at} of ${c.expectedCount})`);
    return at;
  }

  it('delivers every record exactly once through 429 with Retry-After, 500 and 413 answers', async (t) => {
    const c = corpus();
    const sink = flow.stack.logsIngestion;
    sink.setFaults([
      { status: 429, count: 2, retryAfterSeconds: 1 },
      { status: 500, count: 2 },
      { status: 413, count: 2 },
    ]);
    await flow.announce(c, await flow.upload(c));
    await flow.waitDrained(c.expectedCount, 90_000);

    const diff = sinkDiff(flow, c, t);
    assert.equal(diff.missing + diff.unexpected + diff.duplicates, 0, describeDiff(diff));
    const statuses = sink.stats(flow.stream).statuses;
    t.diagnostic(`sink answers: ${JSON.stringify(statuses)}`);
    assert.deepEqual([statuses['429'], statuses['500'], statuses['413']], [2, 2, 2], 'every injected fault was met');
    assert.deepEqual(flow.stack.serviceBus.deadLetters('staged-batches', 'la-uploader'), []);
  });

  it('loses nothing when s3-fetcher and la-uploader are SIGKILLed mid-corpus and restarted', async (t) => {
    const c = corpus();
    await flow.announce(c, await flow.upload(c));
    await midCorpus(c);
    const { 's3-fetcher': fetcher, 'la-uploader': uploader } = flow.services;
    // The sink's first records can arrive while s3-fetcher (one object at a time) sits between objects, having
    // finished one and not yet locked the next (seen in CI): wait until it holds one, then kill at once.
    await waitUntil(
      's3-fetcher holding an object',
      () => flow.stack.serviceBus.counts('s3-objects', 's3-fetcher').locked > 0,
      { timeoutMs: 30_000, intervalMs: 2 },
    );
    const at = flow.stack.logsIngestion.stats(flow.stream).recordCount;
    const inFlight = {
      's3-objects': flow.stack.serviceBus.counts('s3-objects', 's3-fetcher'),
      'staged-batches': flow.stack.serviceBus.counts('staged-batches', 'la-uploader'),
    };
    const codes = await Promise.all([fetcher.kill(), uploader.kill()]);
    assert.deepEqual(codes, [137, 137], 'both were killed, not stopped');
    t.diagnostic(
      `killed s3-fetcher and la-uploader with ${at} of ${c.expectedCount} records in the sink; ${JSON.stringify(inFlight)}`,
    );
    assert.ok(inFlight['s3-objects'].locked > 0, 's3-fetcher was killed in the middle of an object');
    await Promise.all([fetcher.restart(), uploader.restart()]);
    await Promise.all([fetcher.waitForReady(60_000), uploader.waitForReady(60_000)]);
    await flow.waitDrained(c.expectedCount, 120_000);

    const diff = sinkDiff(flow, c, t);
    assert.equal(diff.missing, 0, `no record may be lost\n${describeDiff(diff)}`);
    assert.equal(diff.unexpected, 0, describeDiff(diff));
    // The at-least-once window (test/README.md): requests answered 204 whose batch row was not yet written.
    t.diagnostic(`duplicates after SIGKILL: ${diff.duplicates}`);
    console.log(`s3-flow faults: ${diff.duplicates} duplicate record(s) after SIGKILL of s3-fetcher and la-uploader`);
    assert.deepEqual(flow.stack.serviceBus.deadLetters('s3-objects', 's3-fetcher'), []);
    assert.deepEqual(flow.stack.serviceBus.deadLetters('staged-batches', 'la-uploader'), []);
  });

  it('stops every service cleanly on SIGTERM mid-corpus and loses nothing after restart', async (t) => {
    const c = corpus();
    await flow.announce(c, await flow.upload(c));
    await midCorpus(c);
    const stopped = await Promise.all(
      FLOW_SERVICES.map(async (name) => {
        const p = flow.services[name];
        // Past grace plus the lifecycle watchdog's margin the process is SIGKILLed: its code then is not 0.
        const code = await p.stop('SIGTERM', GRACE_MS + 10_000);
        // `exited` can resolve before the last lines are read from the pipe: poll the output briefly.
        let line: string | undefined;
        await waitUntil(
          `${name}'s "stopped" line`,
          () => {
            line = p
              .output()
              .split('\n')
              .find((l) => l.includes('"component":"lifecycle"') && l.includes('"msg":"stopped"'));
            return line !== undefined;
          },
          { timeoutMs: 5_000, intervalMs: 100 },
        );
        return { name, code, elapsedMs: (JSON.parse(line ?? '{}') as { elapsedMs?: number }).elapsedMs };
      }),
    );
    t.diagnostic(`SIGTERM: ${JSON.stringify(stopped)}`);
    for (const s of stopped) {
      assert.equal(s.code, 0, `${s.name} exits 0 on SIGTERM`);
      assert.ok(s.elapsedMs !== undefined && s.elapsedMs <= GRACE_MS + 2_000, `${s.name} stopped within its grace`);
    }
    for (const name of FLOW_SERVICES) await flow.services[name].restart();
    await Promise.all(FLOW_SERVICES.map((name) => flow.services[name].waitForReady(60_000)));
    await flow.waitDrained(c.expectedCount, 120_000);

    const diff = sinkDiff(flow, c, t);
    assert.equal(diff.missing, 0, `no record may be lost\n${describeDiff(diff)}`);
    assert.equal(diff.unexpected, 0, describeDiff(diff));
    t.diagnostic(`duplicates after SIGTERM and restart: ${diff.duplicates}`);
    console.log(`s3-flow faults: ${diff.duplicates} duplicate record(s) after SIGTERM and restart`);
  });
});
