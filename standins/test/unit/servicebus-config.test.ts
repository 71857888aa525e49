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
