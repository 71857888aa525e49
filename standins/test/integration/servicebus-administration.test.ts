import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ServiceBusAdministrationClient, ServiceBusClient } from '@azure/service-bus';
import { type ServiceBusStandIn, startServiceBusStandIn } from '../../src/servicebus/index.ts';

// The real ServiceBusAdministrationClient, built from the same connection string as the AMQP client: it derives
// https://<host:port>/ from it, and the stand-in answers ATOM on the port that also speaks AMQP.
describe('Service Bus stand-in: administration client runtime properties', () => {
  let sb: ServiceBusStandIn;
  let client: ServiceBusClient;
  let admin: ServiceBusAdministrationClient;

  before(async () => {
    sb = await startServiceBusStandIn();
    client = new ServiceBusClient(sb.connectionString);
    admin = new ServiceBusAdministrationClient(sb.connectionString, { tlsOptions: { ca: sb.caCertPem } });
  });
  after(async () => {
    await client.close();
    await sb.close();
  });

  it('counts active and dead-lettered messages of a subscription as they change', async () => {
    const before = await admin.getSubscriptionRuntimeProperties('s3-objects', 's3-fetcher');
    assert.equal(before.topicName, 's3-objects');
    assert.equal(before.subscriptionName, 's3-fetcher');
    assert.equal(before.activeMessageCount, 0);
    assert.equal(before.deadLetterMessageCount, 0);

    const sender = client.createSender('s3-objects');
    await sender.sendMessages([
      { body: 'a', messageId: 'a' },
      { body: 'b', messageId: 'b' },
    ]);
    await sender.close();
    const receiver = client.createReceiver('s3-objects', 's3-fetcher');
    const [first] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2_000 });
    assert.ok(first);
    await receiver.deadLetterMessage(first, { deadLetterReason: 'CorruptGzip', deadLetterErrorDescription: 'bad' });
    await receiver.close();

    const after = await admin.getSubscriptionRuntimeProperties('s3-objects', 's3-fetcher');
    assert.equal(after.activeMessageCount, 1);
    assert.equal(after.deadLetterMessageCount, 1);
    assert.equal(after.totalMessageCount, 2);
    assert.ok(after.accessedAt instanceof Date);
  });

  it('lists every subscription of a topic with its counts', async () => {
    await client.createSender('staged-batches').sendMessages({ body: 'x', messageId: 'x' });
    const seen: Record<string, number> = {};
    for await (const p of admin.listSubscriptionsRuntimeProperties('staged-batches')) {
      seen[p.subscriptionName] = p.activeMessageCount;
    }
    assert.deepEqual(seen, { 'la-uploader': 1, 'adx-ingester': 1 });
  });

  it('answers 404 for an entity the topology does not have, as the service does', async () => {
    await assert.rejects(
      admin.getSubscriptionRuntimeProperties('s3-objects', 'nobody'),
      (err: { statusCode?: number; code?: string }) =>
        err.statusCode === 404 && err.code === 'MessageEntityNotFoundError',
    );
  });

  it('refuses an unsigned request', async () => {
    const { request } = await import('node:https');
    const status = await new Promise<number>((resolve, reject) => {
      request(
        { host: '127.0.0.1', port: sb.port, path: '/s3-objects/Subscriptions/s3-fetcher', ca: sb.caCertPem },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
        .on('error', reject)
        .end();
    });
    assert.equal(status, 401);
  });
});
