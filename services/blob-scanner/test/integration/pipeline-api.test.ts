// GET /pipeline, GET /dead-letters and POST /dead-letters/replay on the Service Bus stand-in (the real
// @azure/service-bus clients, AMQP and the administration API) and Azurite.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ServiceBusAdministrationClient, ServiceBusClient } from '@azure/service-bus';
import { createLogger } from '@logferry/shared/logging/logger';
import { type AzuriteHandle, startAzurite } from '@logferry/shared/testing';
import { startServiceBusStandIn } from '@logferry/standins';
import { EventBus } from '../../src/live/event-bus.ts';
import { pipelineSubscriptions } from '../../src/pipeline/layout.ts';
import { PipelineSampler } from '../../src/pipeline/sampler.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { storageFixture } from '../support/fixtures.ts';

const KEY = 'pipeline-api-key-0123456789abcdef';
const S3 = { topic: 's3-objects', subscription: 's3-fetcher' };

describe('pipeline and dead-letter API', () => {
  let azurite: AzuriteHandle;
  let bus: Awaited<ReturnType<typeof startServiceBusStandIn>>;
  let client: ServiceBusClient;
  let app: TestApp;
  let sampler: PipelineSampler;
  const logLines: string[] = [];

  before(async () => {
    [azurite, bus] = await Promise.all([
      startAzurite(),
      startServiceBusStandIn({ logger: createLogger('sb', { level: 'silent' }) }),
    ]);
    client = new ServiceBusClient(bus.connectionString);
    const logger = createLogger('blob-scanner', {
      level: 'info',
      destination: new Writable({
        write(chunk, _enc, done) {
          logLines.push(String(chunk));
          done();
        },
      }),
    });
    const subscriptions = pipelineSubscriptions(
      [
        ['s3-objects', 's3-fetcher'],
        ['staged-batches', 'la-uploader'],
        ['staged-batches', 'adx-ingester'],
        ['ingest-requests', 'adx-ingester'],
        ['ingestion-results', 'blob-scanner'],
      ].map(([topic, subscription]) => ({ topic: topic!, subscription: subscription! })),
    );
    const fx = await storageFixture(azurite);
    sampler = new PipelineSampler({
      admin: new ServiceBusAdministrationClient(bus.connectionString, { tlsOptions: { ca: bus.caCertPem } }),
      table: fx.table,
      subscriptions,
      dataContainer: fx.container.containerName,
      readinessUrls: {},
      // Its events are not what this test checks (the browser test follows them on the page).
      events: new EventBus(),
      logger,
      sampleMs: 60_000,
    });
    app = await startTestApp(azurite, {
      auth: { apiKey: KEY },
      fx,
      pipeline: { sampler, serviceBus: client, subscriptions, logger },
    });
  });
  after(async () => {
    await app?.close();
    await client?.close();
    await bus?.close();
    await azurite?.stop();
  });

  const api = (path: string, body?: unknown) =>
    fetch(`${app.url}${path}`, {
      headers: { 'X-Api-Key': KEY, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) }),
    });

  async function deadLetter(ids: string[]) {
    await client.createSender(S3.topic).sendMessages(ids.map((id) => ({ body: { id }, messageId: id })));
    const receiver = client.createReceiver(S3.topic, S3.subscription);
    for (const m of await receiver.receiveMessages(ids.length, { maxWaitTimeInMs: 2_000 })) {
      await receiver.deadLetterMessage(m, {
        deadLetterReason: 'CorruptCompression',
        deadLetterErrorDescription: `bad ${m.messageId}`,
      });
    }
    await receiver.close();
  }

  it('counts dead letters per subscription, lists them, and replays one, then all, to that subscription only', async () => {
    await deadLetter(['one', 'two']);
    await sampler.sample();
    const pipeline = (await (await api('/pipeline')).json()) as {
      title: string;
      topics: { name: string; publishers: string[] }[];
      stages: { topic: string; subscription: string; active: number; deadLetter: number }[];
      history: Record<string, unknown[]>;
    };
    assert.equal(pipeline.title, 'logferry pipeline');
    // Who publishes where comes from the service manifest.
    assert.deepEqual(pipeline.topics, [
      { name: 's3-objects', publishers: ['sqs-poller'] },
      { name: 'staged-batches', publishers: ['s3-fetcher'] },
      { name: 'ingest-requests', publishers: ['blob-scanner', 'completion-checker'] },
      { name: 'ingestion-results', publishers: ['blob-scanner', 'adx-ingester', 'completion-checker'] },
    ]);
    const stage = pipeline.stages.find((s) => s.topic === S3.topic && s.subscription === S3.subscription);
    assert.deepEqual({ active: stage?.active, deadLetter: stage?.deadLetter }, { active: 0, deadLetter: 2 });
    assert.equal(pipeline.history['s3-objects/s3-fetcher']?.length, 1);

    const listed = (await (await api('/dead-letters?subscription=s3-objects/s3-fetcher')).json()) as {
      messages: { messageId: string; reason: string; description: string }[];
    };
    assert.deepEqual(
      listed.messages.map((m) => [m.messageId, m.reason, m.description]),
      [
        ['one', 'CorruptCompression', 'bad one'],
        ['two', 'CorruptCompression', 'bad two'],
      ],
    );
    // The list reads from the start every time (a long-lived client would otherwise continue after the last peek).
    const again = (await (await api('/dead-letters?subscription=s3-objects/s3-fetcher')).json()) as { messages: [] };
    assert.equal(again.messages.length, 2);

    const unknown = await api('/dead-letters/replay', { subscription: 's3-objects/s3-fetcher', messageId: 'nope' });
    assert.equal(unknown.status, 404);
    const one = await api('/dead-letters/replay', { subscription: 's3-objects/s3-fetcher', messageId: 'two' });
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), { subscription: 's3-objects/s3-fetcher', replayed: 1, failed: 0 });
    assert.deepEqual(
      bus.deadLetters(S3.topic, S3.subscription).map((m) => m.messageId),
      ['one'],
    );
    const copy = await client.createReceiver(S3.topic, S3.subscription).peekMessages(1);
    assert.equal(copy[0]?.applicationProperties?.['logferry-retry-for'], 's3-fetcher');
    assert.equal(copy[0]?.applicationProperties?.['logferry-original-message-id'], 'two');

    const all = await api('/dead-letters/replay', { subscription: 's3-objects/s3-fetcher' });
    assert.deepEqual(await all.json(), { subscription: 's3-objects/s3-fetcher', replayed: 1, failed: 0 });
    assert.equal(bus.counts(S3.topic, S3.subscription).deadLetter, 0);
    assert.equal(bus.counts(S3.topic, S3.subscription).active, 2);

    const audits = logLines.filter((l) => l.includes('"audit":"dead-letter-replay"')).map((l) => JSON.parse(l));
    assert.deepEqual(
      audits.map((a) => [a.principal.kind, a.subscription, a.messageId, a.replayed]),
      [
        ['api-key', 's3-objects/s3-fetcher', 'nope', 0],
        ['api-key', 's3-objects/s3-fetcher', 'two', 1],
        ['api-key', 's3-objects/s3-fetcher', null, 1],
      ],
    );
    assert.ok(!logLines.join('').includes(KEY), 'the key is in no log line');
  });

  it('refuses subscriptions outside the pipeline and malformed bodies', async () => {
    const res = await api('/dead-letters?subscription=s3-objects/e2e-audit');
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: string; details: { known: string[] } };
    assert.equal(body.error, 'unknown subscription');
    assert.ok(body.details.known.includes('s3-objects/s3-fetcher'));
    assert.equal((await api('/dead-letters/replay', { subscription: 's3-objects/s3-fetcher', extra: 1 })).status, 400);
    assert.equal((await api('/dead-letters?subscription=s3-objects/s3-fetcher&max=100000')).status, 400);
  });
});
