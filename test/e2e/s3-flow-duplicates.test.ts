// Nothing twice, nothing stuck on the S3 → Log Analytics flow, with the services as processes: the same object
// announced twice at once and the same batch delivered twice at once reach the sink once; a Logs Ingestion
// outage five times longer than the retry budget dead-letters nothing and everything arrives afterwards.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { waitUntil } from '@logferry/shared/testing/wait';
import { buildCorpus, type Corpus } from '../src/s3-corpus.ts';
import { type Flow, sinkDiff, startFlow, TAP_SUBSCRIPTION } from '../src/s3-flow.ts';
import { describeDiff } from '../src/s3-records.ts';

// Retry budget of la-uploader here: 3 attempts, backoff capped at 400 ms, 300 ms in place: about 2 s.
// The outage lasts 10 s: five times the budget, the ratio of a 10-minute outage to the default ~2-minute budget.
const OUTAGE_MS = 10_000;

describe('S3 → Log Analytics flow: duplicates at once and an outage', () => {
  let flow: Flow;
  let run = 0;

  before(async () => {
    flow = await startFlow({
      tapStagedBatches: true,
      env: {
        // A duplicate waits out the rest of the claim's lease before it looks again: short here.
        's3-fetcher': { CONCURRENCY: '4', CLAIM_LEASE_MS: '5000' },
        'la-uploader': {
          CONCURRENCY: '4',
          CLAIM_LEASE_MS: '5000',
          MAX_ATTEMPTS: '3',
          RETRY_BASE_MS: '100',
          RETRY_MAX_MS: '400',
          UPLOAD_INLINE_RETRY_MS: '300',
          BREAKER_THRESHOLD: '3',
          BREAKER_PAUSE_BASE_MS: '500',
          BREAKER_PAUSE_MAX_MS: '2000',
        },
      },
    });
  });
  beforeEach(() => {
    flow.stack.logsIngestion.reset();
    run++;
  });
  after(async () => {
    await flow?.stop();
  });

  const corpus = (): Corpus =>
    buildCorpus({
      bucket: flow.stack.endpoints.bucket,
      recordsPerObject: 1_000,
      extraObjects: 3,
      largeObjectRecords: 0,
      poison: false,
      tag: `dup${run}`,
    });

  const deadLetters = () => [
    ...flow.stack.serviceBus.deadLetters('s3-objects', 's3-fetcher'),
    ...flow.stack.serviceBus.deadLetters('staged-batches', 'la-uploader'),
  ];

  it('two deliveries of the same object and of the same batch at once: the sink holds each record once', async (t) => {
    const c = corpus();
    // A slow sink keeps each upload in flight while its copy arrives.
    flow.stack.logsIngestion.setLatency(400);
    const copies = tapAndCopy(flow);
    try {
      const etags = await flow.upload(c);
      // Each notification twice in the same SQS batch, the copy with another sequencer: a distinct
      // s3-objects message id (so the broker's duplicate detection passes it) for the same object version.
      const bodies = c.notifications.map((n) => n(etags));
      const twice: Corpus = {
        ...c,
        notifications: bodies.flatMap((b) => [
          () => b,
          () => b.replaceAll(/0055AED6DCD90281E5|617f08299329d189/g, 'FFFF'),
        ]),
      };
      await flow.announce(twice, etags);
      await flow.waitDrained(c.expectedCount, 120_000);
    } finally {
      await copies.stop();
      flow.stack.logsIngestion.setLatency(0);
    }
    const diff = sinkDiff(flow, c, t);
    assert.equal(diff.missing + diff.unexpected + diff.duplicates, 0, describeDiff(diff));
    assert.ok(copies.sent() > 0, 'batch copies were sent');
    // A delivery that finds the object or batch claimed is retried after the claim: a copy for its subscription.
    const heldOff = (topic: 's3-objects' | 'staged-batches', subscription: string) =>
      flow.stack.serviceBus.records
        .published(topic)
        .filter((p) => p.retryFor === subscription && p.retryError?.startsWith('InFlightElsewhere: ')).length;
    const fetcherWaits = heldOff('s3-objects', 's3-fetcher');
    const uploaderWaits = heldOff('staged-batches', 'la-uploader');
    t.diagnostic(
      `${copies.sent()} batch copies; claims held off ${fetcherWaits} object and ${uploaderWaits} batch deliveries`,
    );
    assert.ok(fetcherWaits > 0, 'a second delivery of an object found it claimed');
    assert.ok(uploaderWaits > 0, 'a second delivery of a batch found it claimed');
    assert.deepEqual(deadLetters(), []);
  });

  it('Logs Ingestion down for five times the retry budget: no dead letter, everything arrives after', async (t) => {
    const c = corpus();
    const sink = flow.stack.logsIngestion;
    sink.setFaults([{ status: 503, count: 1_000_000 }]);
    await flow.announce(c, await flow.upload(c));
    const uploader = flow.services['la-uploader'];
    await waitUntil('la-uploader to pause', () => uploader.output().includes('pausing intake'), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const readyDuring = await ready(uploader.healthPort);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const refused = sink.stats(flow.stream).statuses['503'] ?? 0;
    sink.setFaults([]);
    await flow.waitDrained(c.expectedCount, 60_000);

    const diff = sinkDiff(flow, c, t);
    assert.equal(diff.missing + diff.unexpected, 0, describeDiff(diff));
    assert.deepEqual(deadLetters(), [], 'an outage is not poison');
    assert.equal(readyDuring.status, 503, 'not ready while the sink is down');
    assert.match(readyDuring.body, /"dependency":"logs-ingestion","state":"(open|half-open)"/);
    assert.ok(uploader.output().includes('dependency answering again: intake resumed'));
    t.diagnostic(`${refused} requests refused during the outage; duplicates ${diff.duplicates}`);
  });
});

async function ready(port: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: await res.text() };
}

/**
 * Sends every staged batch again at once, under another message id and addressed to la-uploader only (as a
 * lock lost mid-upload or a copy outside the duplicate-detection window would arrive).
 */
function tapAndCopy(flow: Flow): { sent(): number; stop(): Promise<void> } {
  const client = new ServiceBusClient(flow.stack.endpoints.serviceBusConnectionString);
  const receiver = client.createReceiver('staged-batches', TAP_SUBSCRIPTION, { skipParsingBodyAsJson: true });
  const sender = client.createSender('staged-batches');
  let sent = 0;
  const subscription = receiver.subscribe(
    {
      processMessage: async (m) => {
        // Copies (ours and la-uploader's retry copies) are not copied again.
        if (m.applicationProperties?.['logferry-retry-for'] !== undefined) return receiver.completeMessage(m);
        await sender.sendMessages({
          body: m.body,
          messageId: `${m.messageId}|copy`,
          contentType: m.contentType,
          applicationProperties: { ...m.applicationProperties, 'logferry-retry-for': 'la-uploader' },
        });
        sent++;
        await receiver.completeMessage(m);
      },
      processError: async () => {},
    },
    { autoCompleteMessages: false, maxConcurrentCalls: 8 },
  );
  return {
    sent: () => sent,
    async stop() {
      await subscription.close();
      await client.close();
    },
  };
}
