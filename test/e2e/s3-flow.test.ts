// S3 → Log Analytics end to end: sqs-poller, s3-fetcher and la-uploader as separate processes against
// fauxqs, Azurite and the Service Bus, STS and Logs Ingestion stand-ins, on a mixed corpus with poison.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { waitUntil } from '@logferry/shared/testing/wait';
import { type OtlpReceiver, startOtlpReceiver } from '../src/otlp-receiver.ts';
import { buildCorpus, type Corpus } from '../src/s3-corpus.ts';
import { FLOW_SERVICES, type Flow, startFlow } from '../src/s3-flow.ts';
import { describeDiff, diffRecords, sinkMultiset } from '../src/s3-records.ts';

const LARGE_OBJECT_RECORDS = 200_000;

describe('S3 → Log Analytics flow, three processes', () => {
  let flow: Flow;
  let corpus: Corpus;
  let metrics: OtlpReceiver;

  before(async () => {
    metrics = await startOtlpReceiver();
    // sqs-poller's counters go where an operator would read them: an OTLP endpoint.
    flow = await startFlow({
      webIdentity: true,
      env: { 'sqs-poller': { OTEL_EXPORTER_OTLP_ENDPOINT: metrics.endpoint } },
    });
    corpus = buildCorpus({
      bucket: flow.stack.endpoints.bucket,
      recordsPerObject: 400,
      largeObjectRecords: LARGE_OBJECT_RECORDS,
    });
  });
  after(async () => {
    await flow?.stop();
    await metrics?.close();
  });

  it('delivers exactly the corpus records, empties the queue and dead-letters only the poison, with reasons', async () => {
    const started = performance.now();
    await flow.announce(corpus, await flow.upload(corpus));
    await flow.waitDrained(corpus.expectedCount, 150_000);
    // The body that is no notification reaches the SQS dead-letter queue through the redrive policy.
    const dlqUrl = flow.stack.endpoints.sqsDeadLetterQueueUrl;
    await waitUntil(
      'the non-notification body in the SQS dead-letter queue',
      async () => (await flow.queueDepth(dlqUrl)).visible === corpus.notNotifications,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const seconds = (performance.now() - started) / 1000;

    const received = sinkMultiset(flow.stack.logsIngestion.records(flow.stream));
    const diff = diffRecords(corpus.expected(), received.set);
    console.log(
      `e2e: ${diff.received} records in ${seconds.toFixed(1)} s (${Math.round(diff.received / seconds)} records/s)`,
    );
    assert.deepEqual(received.problems, [], 'every record carries TimeGenerated from its own time and its source');
    assert.equal(diff.missing + diff.unexpected + diff.duplicates, 0, describeDiff(diff));
    assert.equal(diff.received, corpus.expectedCount);

    assert.deepEqual(await flow.queueDepth(), { visible: 0, inFlight: 0 }, 'the notification queue ends empty');
    const left = await flow.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10 }));
    assert.deepEqual(
      left.Messages?.map((m) => m.Body),
      ['this is not a notification'],
    );

    const bus = flow.stack.serviceBus;
    const dead = bus.deadLetters('s3-objects', 's3-fetcher');
    assert.deepEqual(
      dead.map((d) => `${d.reason} ${(d.body as { key?: string }).key}`).sort(),
      corpus.deadLetters.map((d) => `${d.reason} ${d.key}`).sort(),
    );
    for (const d of dead) {
      const key = (d.body as { key: string }).key;
      assert.ok(
        d.description?.includes(`s3://${corpus.bucket}/${key}`),
        `description names the object: ${d.description}`,
      );
      assert.ok((d.description?.length ?? 0) > key.length + 20, `description says why: ${d.description}`);
    }
    assert.deepEqual(bus.deadLetters('staged-batches', 'la-uploader'), [], 'no batch dead-lettered');
    assert.deepEqual(bus.deadLetters('staged-batches', 'adx-ingester'), [], 'nothing else dead-lettered');

    const logs = await serviceLogs(flow);
    const poller = logs['sqs-poller'];
    const refusal = poller.find((l) => l.msg === 'refused an object outside the allow-list');
    assert.equal(refusal?.bucket, corpus.refused.bucket, 'the disallowed bucket is refused and logged');
    assert.ok(
      !logs['s3-fetcher'].some((l) => l.bucket === corpus.refused.bucket),
      'the disallowed bucket is never fetched',
    );
    // The broker's records: what sqs-poller published, and how s3-fetcher settled the poison.
    const published = bus.records.published('s3-objects').map((p) => p.body as { bucket: string; key: string });
    assert.ok(
      !published.some((body) => body.bucket === corpus.refused.bucket),
      'the disallowed bucket is never published',
    );
    assert.deepEqual(
      [...new Set(published.map((body) => `${body.bucket}/${body.key}`))].sort(),
      [...new Set([...corpus.objects.map((o) => o.key), ...corpus.deadLetters.map((d) => d.key)])]
        .map((key) => `${corpus.bucket}/${key}`)
        .sort(),
      'every announced object, and only those, is published to s3-objects',
    );
    const settledDead = bus.records.deadLetters('s3-objects', 's3-fetcher');
    assert.deepEqual(
      settledDead.map((d) => `${d.reason} ${d.description}`).sort(),
      dead.map((d) => `${d.reason} ${d.description}`).sort(),
      's3-fetcher dead-lettered each poison object once, with the reason and description the queue holds',
    );
    const dropped = poller.filter((l) => l.msg === 'acknowledged and dropped a record').map((l) => l.reason);
    assert.equal(dropped.length, 2, `test event and ObjectRemoved acknowledged: ${JSON.stringify(dropped)}`);
    assert.ok(poller.some((l) => String(l.msg).includes('not an S3 notification')));
    const plain = logs['s3-fetcher'].find((l) => l.msg === 'object staged' && String(l.key).endsWith('/plain.ndjson'));
    assert.equal(plain?.badRecords, 1, 'the unreadable NDJSON line is counted');

    // The AWS-facing services got their credentials from STS for an Azure token, holding no AWS key.
    assert.ok(flow.stack.sts.issued() >= 2, `STS issued ${flow.stack.sts.issued()} credentials`);
    assert.ok((flow.identity?.issued()['api://AzureADTokenExchange'] ?? 0) >= 2);
    for (const name of ['sqs-poller', 's3-fetcher'] as const) {
      assert.ok(
        logs[name].some((l) => l.awsAuth === 'web-identity'),
        `${name} uses web identity`,
      );
    }

    for (const name of FLOW_SERVICES) {
      assert.equal(await flow.services[name].stop('SIGTERM', 20_000), 0, `${name} exits 0 on SIGTERM`);
    }
  });

  it("counts sqs-poller's refusals and publications in the metrics it exports", () => {
    // Telemetry is flushed when the services stop (above), so the OTLP endpoint holds the final totals.
    assert.ok(metrics.counter('logferry.messages.in', { stage: 'sqs-poller' }) > 0, 'sqs-poller exports metrics');
    const announced = corpus.objects.length + 1; // the missing object is announced and published too
    assert.equal(metrics.counter('logferry.messages.out', { stage: 'sqs-poller' }), announced);
    assert.equal(
      metrics.counter('sqs_poller.objects.refused', { reason: 'bucket-not-allowed' }),
      1,
      'the disallowed bucket is counted (sqs_poller.objects.refused)',
    );
  });
});

type LogLine = Record<string, unknown>;

/** Each service's JSON log lines, from the files the stack keeps (what an operator would read). */
async function serviceLogs(flow: Flow): Promise<Record<(typeof FLOW_SERVICES)[number], LogLine[]>> {
  const out = {} as Record<(typeof FLOW_SERVICES)[number], LogLine[]>;
  for (const name of FLOW_SERVICES) {
    const text = await readFile(join(flow.stack.logDir, `${name}.log`), 'utf8');
    out[name] = text.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
  }
  return out;
}
