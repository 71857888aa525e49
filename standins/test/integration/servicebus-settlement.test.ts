import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { waitUntil } from '@logferry/shared/testing/wait';
import type { ServiceBusStandIn } from '../../src/servicebus/index.ts';
import { type ConfiguredStandIn, receiveOne, startConfiguredStandIn } from '../support/servicebus-client.ts';

const subscription = (name: string, maxDeliveryCount: number) => ({
  Name: name,
  Properties: { LockDuration: 'PT30S', MaxDeliveryCount: maxDeliveryCount, DeadLetteringOnMessageExpiration: true },
  Rules: [],
});

/** Both messages, received in one call so their deliveries have consecutive ids on the link's session. */
async function receiveTwo(
  receiver: ServiceBusReceiver,
): Promise<[ServiceBusReceivedMessage, ServiceBusReceivedMessage]> {
  const got: ServiceBusReceivedMessage[] = [];
  while (got.length < 2) got.push(...(await receiver.receiveMessages(2 - got.length, { maxWaitTimeInMs: 2000 })));
  const byId = new Map(got.map((m) => [m.messageId, m]));
  const a = byId.get('a');
  const b = byId.get('b');
  assert.ok(a && b, 'both messages received');
  return [a, b];
}

describe('Service Bus stand-in: abandon, dead-letter, defer', () => {
  let broker: ConfiguredStandIn | undefined;
  let sb: ServiceBusStandIn;
  let client: ServiceBusClient;

  before(async () => {
    const config = {
      UserConfig: {
        Namespaces: [
          {
            Name: 'sbemulatorns',
            Queues: [],
            Topics: [
              { Name: 'retries', Properties: {}, Subscriptions: [subscription('abandon', 10)] },
              { Name: 'work', Properties: {}, Subscriptions: [subscription('dl', 10)] },
              { Name: 'deferrals', Properties: {}, Subscriptions: [subscription('worker', 10)] },
              { Name: 'poison', Properties: {}, Subscriptions: [subscription('worker', 2)] },
              { Name: 'mixed', Properties: {}, Subscriptions: [subscription('worker', 10)] },
              { Name: 'pair', Properties: {}, Subscriptions: [subscription('worker', 10)] },
            ],
          },
        ],
        Logging: { Type: 'File' },
      },
    };
    broker = await startConfiguredStandIn(config);
    ({ bus: sb, client } = broker);
  });
  after(async () => {
    await broker?.close();
  });

  it('redelivers an abandoned message with delivery count + 1 and modified properties', async () => {
    await client.createSender('retries').sendMessages({ body: 'retry-me', messageId: 'a1' });
    const receiver = client.createReceiver('retries', 'abandon');
    const first = await receiveOne(receiver);
    assert.equal(first.deliveryCount, 0);
    await receiver.abandonMessage(first, { attempt: 1 });
    const second = await receiveOne(receiver);
    assert.equal(second.messageId, 'a1');
    assert.equal(second.deliveryCount, 1);
    assert.notEqual(second.lockToken, first.lockToken);
    assert.equal(second.applicationProperties?.attempt, 1);
    await receiver.completeMessage(second);
    assert.deepEqual(sb.counts('retries', 'abandon'), { active: 0, scheduled: 0, deadLetter: 0, locked: 0 });
    await receiver.close();
  });

  it('dead-letters with reason and description, readable from the DLQ by receive and peek', async () => {
    await client
      .createSender('work')
      .sendMessages({ body: { bad: true }, messageId: 'd1', applicationProperties: { k: 'v' } });
    const receiver = client.createReceiver('work', 'dl');
    const m = await receiveOne(receiver);
    await receiver.deadLetterMessage(m, {
      deadLetterReason: 'SchemaInvalid',
      deadLetterErrorDescription: 'missing key',
    });
    assert.deepEqual(sb.counts('work', 'dl'), { active: 0, scheduled: 0, deadLetter: 1, locked: 0 });
    assert.deepEqual(sb.deadLetters('work', 'dl'), [
      {
        body: { bad: true },
        reason: 'SchemaInvalid',
        description: 'missing key',
        applicationProperties: { k: 'v' },
        deliveryCount: 1,
        messageId: 'd1',
      },
    ]);
    await receiver.close();

    const dlq = client.createReceiver('work', 'dl', { subQueueType: 'deadLetter' });
    const peeked = await dlq.peekMessages(10);
    assert.equal(peeked.length, 1);
    assert.equal(peeked[0]?.deadLetterReason, 'SchemaInvalid');
    assert.equal(peeked[0]?.lockToken, undefined);
    const dead = await receiveOne(dlq);
    assert.deepEqual(dead.body, { bad: true });
    assert.equal(dead.deadLetterReason, 'SchemaInvalid');
    assert.equal(dead.deadLetterErrorDescription, 'missing key');
    assert.equal(dead.deadLetterSource, 'work/Subscriptions/dl');
    await dlq.completeMessage(dead);
    assert.equal(sb.counts('work', 'dl').deadLetter, 0);
    assert.deepEqual(await dlq.peekMessages(10), []);
    await dlq.close();
  });

  it('moves a message to the DLQ after MaxDeliveryCount abandons', async () => {
    await client.createSender('poison').sendMessages({ body: 'never-works', messageId: 'p1' });
    const receiver = client.createReceiver('poison', 'worker');
    for (let attempt = 0; attempt < 2; attempt++) {
      const m = await receiveOne(receiver);
      assert.equal(m.deliveryCount, attempt);
      await receiver.abandonMessage(m);
    }
    await sb.waitFor(() => sb.counts('poison', 'worker').deadLetter === 1);
    assert.equal(sb.counts('poison', 'worker').active, 0);
    const [dead] = sb.deadLetters('poison', 'worker');
    assert.equal(dead?.reason, 'MaxDeliveryCountExceeded');
    assert.equal(dead?.messageId, 'p1');
    assert.equal(dead?.deliveryCount, 2);
    await receiver.close();
  });

  it('defers, fetches by sequence number and settles through the management link', async () => {
    await client.createSender('deferrals').sendMessages({ body: 'later', messageId: 'f1' });
    const receiver = client.createReceiver('deferrals', 'worker');
    const m = await receiveOne(receiver);
    await receiver.deferMessage(m);
    assert.equal(sb.counts('deferrals', 'worker').active, 0);
    const [deferred] = await receiver.receiveDeferredMessages([m.sequenceNumber!]);
    assert.equal(deferred?.messageId, 'f1');
    assert.ok(deferred?.lockToken);
    await receiver.completeMessage(deferred!);
    assert.deepEqual(await receiver.peekMessages(5, { fromSequenceNumber: m.sequenceNumber! }), []);
    await receiver.close();
  });

  // Two peek-locked messages settled in the same tick: rhea 3.0.5 coalesced them into one disposition frame with
  // the first one's outcome (shared/src/amqp/rhea-dispositions-fix.ts), completing the abandoned message.
  it('same tick, complete + abandon: the abandoned message is delivered again, the completed one is gone', async () => {
    await client.createSender('mixed').sendMessages([
      { body: 'done', messageId: 'a' },
      { body: 'retry', messageId: 'b' },
    ]);
    const receiver = client.createReceiver('mixed', 'worker');
    const [a, b] = await receiveTwo(receiver);
    await Promise.all([receiver.completeMessage(a), receiver.abandonMessage(b)]);

    const again: ServiceBusReceivedMessage[] = [];
    await waitUntil(
      'the abandoned message again',
      async () => {
        again.push(...(await receiver.receiveMessages(2, { maxWaitTimeInMs: 1000 })));
        return again.length > 0;
      },
      { timeoutMs: 5000, intervalMs: 0 },
    );
    assert.deepEqual(
      again.map((m) => [m.messageId, m.deliveryCount]),
      [['b', 1]],
      'only the abandoned message comes back, once more',
    );
    await receiver.completeMessage(again[0]!);
    assert.deepEqual(sb.counts('mixed', 'worker'), { active: 0, scheduled: 0, deadLetter: 0, locked: 0 });
    await receiver.close();
  });

  it('same tick, dead-letter A + dead-letter B: each dead letter carries its own reason and description', async () => {
    await client.createSender('pair').sendMessages([
      { body: 'first', messageId: 'a' },
      { body: 'second', messageId: 'b' },
    ]);
    const receiver = client.createReceiver('pair', 'worker');
    const [a, b] = await receiveTwo(receiver);
    await Promise.all([
      receiver.deadLetterMessage(a, { deadLetterReason: 'SchemaInvalid', deadLetterErrorDescription: 'missing key' }),
      receiver.deadLetterMessage(b, { deadLetterReason: 'TooLarge', deadLetterErrorDescription: '9 MB body' }),
    ]);
    await sb.waitFor(() => sb.counts('pair', 'worker').deadLetter === 2);
    const dead = sb
      .deadLetters('pair', 'worker')
      .map((d) => [d.messageId, d.reason, d.description])
      .sort();
    assert.deepEqual(dead, [
      ['a', 'SchemaInvalid', 'missing key'],
      ['b', 'TooLarge', '9 MB body'],
    ]);
    await receiver.close();
  });
});
