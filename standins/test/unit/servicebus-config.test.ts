import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lockTokenToDeliveryTag, swapGuidBytes, uuidToString } from '../../src/servicebus/codec.ts';
import { loadTopology, parseIsoDuration, parseTopology } from '../../src/servicebus/config.ts';
import { DEFAULT_SERVICE_BUS_CONFIG_PATH } from '../../src/servicebus/index.ts';
import { Namespace } from '../../src/servicebus/namespace.ts';

describe('Service Bus stand-in config', () => {
  it('parses the ISO 8601 durations Config.json uses', () => {
    assert.equal(parseIsoDuration('PT1M'), 60_000);
    assert.equal(parseIsoDuration('PT2S'), 2000);
    assert.equal(parseIsoDuration('PT0.5S'), 500);
    assert.equal(parseIsoDuration('P14D'), 14 * 86_400_000);
    assert.equal(parseIsoDuration('P1DT1H'), 90_000_000);
    for (const bad of ['', 'P', 'PT', '1M', 'PT1X', 'P1H']) assert.throws(() => parseIsoDuration(bad), /duration/);
  });

  it('reads the repository Config.json with subscription settings', async () => {
    const topology = await loadTopology(DEFAULT_SERVICE_BUS_CONFIG_PATH);
    const staged = topology.topics.get('staged-batches');
    assert.deepEqual([...(staged?.subscriptions.keys() ?? [])].sort(), ['adx-ingester', 'la-uploader']);
    assert.deepEqual(staged?.subscriptions.get('la-uploader')?.settings, {
      lockDurationMs: 60_000,
      maxDeliveryCount: 10,
      defaultTtlMs: 14 * 86_400_000,
      deadLetterOnExpiration: true,
    });
  });

  it('rejects malformed topology with a message naming the field', () => {
    assert.throws(() => parseTopology({}), /UserConfig/);
    const withSub = (props: unknown) => ({
      UserConfig: { Namespaces: [{ Topics: [{ Name: 't', Subscriptions: [{ Name: 's', Properties: props }] }] }] },
    });
    assert.throws(() => parseTopology(withSub({ MaxDeliveryCount: 0 })), /MaxDeliveryCount/);
    assert.throws(() => parseTopology(withSub({ LockDuration: 5 })), /LockDuration/);
    assert.throws(
      () => parseTopology({ UserConfig: { Namespaces: [{ Topics: [{ Name: 'bad/name' }] }] } }),
      /Topics\[0\]\.Name/,
    );
  });
});

describe('Service Bus stand-in codec and queue', () => {
  it('sends lock tokens as delivery tags in .NET Guid byte order', () => {
    const token = '01020304-0506-0708-090a-0b0c0d0e0f10';
    const tag = lockTokenToDeliveryTag(token);
    assert.equal(tag.toString('hex'), '0403020106050807090a0b0c0d0e0f10');
    assert.equal(uuidToString(swapGuidBytes(tag)), token);
  });

  it('dead-letters expired messages instead of delivering them when the subscription says so', () => {
    const ns = new Namespace(
      parseTopology({
        UserConfig: {
          Namespaces: [
            {
              Topics: [
                {
                  Name: 't',
                  Subscriptions: [
                    {
                      Name: 's',
                      Properties: { DefaultMessageTimeToLive: 'PT1S', DeadLetteringOnMessageExpiration: true },
                    },
                  ],
                },
              ],
            },
          ],
        },
      }),
    );
    const target = ns.sendTarget('t')!;
    const [seq] = ns.publish(target, [{ body: 'old', message_id: 'x' }], 1_000);
    assert.equal(seq, 1);
    assert.equal(ns.deliver(ns.receiver('t/Subscriptions/s')!, true, 5_000), undefined);
    const dlq = ns.receiver('t/subscriptions/s/$deadletterqueue')!;
    assert.equal(dlq.active.length, 1);
    assert.equal(dlq.active[0]?.message.application_properties?.DeadLetterReason, 'TTLExpiredException');
    ns.close();
  });
});

describe('Service Bus stand-in duplicate detection', () => {
  const topology = (props: Record<string, unknown>) =>
    parseTopology({
      UserConfig: { Namespaces: [{ Topics: [{ Name: 't', Properties: props, Subscriptions: [{ Name: 's' }] }] }] },
    });

  it('reads RequiresDuplicateDetection with its window (default 10 minutes, 20 s to 7 days)', async () => {
    const repo = await loadTopology(DEFAULT_SERVICE_BUS_CONFIG_PATH);
    for (const name of ['s3-objects', 'staged-batches', 'ingest-requests', 'ingestion-results']) {
      assert.deepEqual(repo.topics.get(name)?.duplicateDetection, { windowMs: 600_000 }, name);
    }
    assert.equal(topology({}).topics.get('t')?.duplicateDetection, undefined);
    assert.equal(topology({ RequiresDuplicateDetection: false }).topics.get('t')?.duplicateDetection, undefined);
    assert.deepEqual(topology({ RequiresDuplicateDetection: true }).topics.get('t')?.duplicateDetection, {
      windowMs: 600_000,
    });
    assert.throws(
      () => topology({ RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 'PT5S' }),
      /between 20 seconds and 7 days/,
    );
    assert.throws(() => topology({ RequiresDuplicateDetection: 'yes' }), /RequiresDuplicateDetection/);
  });

  it('drops a message id seen within the window, scheduled sends included, and accepts it again after', () => {
    const ns = new Namespace(
      topology({ RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 'PT1M' }),
    );
    const target = ns.sendTarget('t')!;
    const queue = ns.receiver('t/Subscriptions/s')!;
    ns.publish(target, [{ body: 'a', message_id: 'same' }], 1_000);
    ns.publish(target, [{ body: 'b', message_id: 'same' }], 60_999);
    ns.publish(
      target,
      [{ body: 'c', message_id: 'same', message_annotations: { 'x-opt-scheduled-enqueue-time': 120_000 } }],
      30_000,
    );
    ns.publish(target, [{ body: 'd', message_id: 'other' }], 2_000);
    assert.deepEqual(
      queue.active.map((m) => m.message.body),
      ['a', 'd'],
    );
    assert.equal(ns.duplicatesDropped, 2);
    // The window runs from the first send: the repeats inside it did not extend it.
    ns.publish(target, [{ body: 'e', message_id: 'same' }], 61_000);
    assert.deepEqual(
      queue.active.map((m) => m.message.body),
      ['a', 'd', 'e'],
    );
    ns.close();
  });
});
