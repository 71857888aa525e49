// The broker's records (the end-to-end tests' spy): every publish and settlement, as the real SDK caused them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceBusClient } from '@azure/service-bus';
import type { ServiceBusStandIn } from '../../src/servicebus/index.ts';
import { type ConfiguredStandIn, receiveOne, startConfiguredStandIn } from '../support/servicebus-client.ts';

describe('Service Bus stand-in: records of publishes and settlements', () => {
  let broker: ConfiguredStandIn | undefined;
  let bus: ServiceBusStandIn;
  let client: ServiceBusClient;

  before(async () => {
    const subscription = {
      Name: 'worker',
      Properties: { LockDuration: 'PT30S', MaxDeliveryCount: 10 },
      Rules: [],
    };
    const config = {
      UserConfig: {
        Namespaces: [
          {
            Name: 'sbemulatorns',
            Queues: [],
            Topics: [{ Name: 'work', Properties: {}, Subscriptions: [subscription] }],
          },
        ],
        Logging: { Type: 'File' },
      },
    };
    broker = await startConfiguredStandIn(config);
    ({ bus, client } = broker);
  });
  after(async () => {
    await broker?.close();
  });

  it('records each publish with its topic, id, type and body, and each settlement with outcome and delivery count', async () => {
    const sender = client.createSender('work');
    const receiver = client.createReceiver('work', 'worker');
    const deadLettered = bus.records.waitFor((r) => r.kind === 'settlement' && r.outcome === 'deadLetter', 10_000);
    await sender.sendMessages([
      { messageId: 'ok', body: { type: 'job', n: 1 } },
      {
        messageId: 'bad',
        body: { type: 'job', n: 2 },
        applicationProperties: { 'logferry-retry-for': 'worker', 'logferry-last-error': 'Throttled: try later' },
      },
    ]);
    assert.deepEqual(
      bus.records
        .published('work')
        .map((p) => [p.topic, p.messageId, p.type, p.body, p.duplicate, p.retryFor, p.retryError]),
      [
        ['work', 'ok', 'job', { type: 'job', n: 1 }, false, undefined, undefined],
        ['work', 'bad', 'job', { type: 'job', n: 2 }, false, 'worker', 'Throttled: try later'],
      ],
    );

    const first = await receiveOne(receiver);
    assert.equal(first.messageId, 'ok');
    await receiver.completeMessage(first);
    const second = await receiveOne(receiver);
    await receiver.abandonMessage(second);
    const again = await receiveOne(receiver);
    await receiver.deadLetterMessage(again, { deadLetterReason: 'BadJob', deadLetterErrorDescription: 'n is even' });

    const dead = await deadLettered;
    assert.equal(dead.kind, 'settlement');
    assert.deepEqual(
      bus.records.settlements('work', 'worker').map((s) => [s.messageId, s.outcome, s.deliveryCount]),
      [
        ['ok', 'complete', 1],
        ['bad', 'abandon', 1],
        ['bad', 'deadLetter', 2],
      ],
    );
    assert.deepEqual(
      bus.records.deadLetters('work', 'worker').map((d) => [d.subscription, d.type, d.reason, d.description, d.body]),
      [['worker', 'job', 'BadJob', 'n is even', { type: 'job', n: 2 }]],
    );
    assert.deepEqual(bus.records.deadLetters('work', 'other'), [], 'filtered by subscription');
    await receiver.close();
    await sender.close();
  });

  it('waitFor rejects when nothing matches in time', async () => {
    await assert.rejects(
      bus.records.waitFor((r) => r.kind === 'publish' && r.topic === 'nowhere', 50),
      /no matching publish or settlement within 50 ms/,
    );
  });
});
