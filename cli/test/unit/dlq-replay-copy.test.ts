// A replayed dead-letter reaches only the subscription that dead-lettered it, with a fresh attempt count.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { buildReplayCopy, matchesId, replayDeadLetters } from '@logferry/shared/dead-letters/replay';
import { parseSubscriptionRef, readSubscriptions } from '@logferry/shared/dead-letters/topology';
import { UndeclaredTopicError } from '@logferry/shared/manifest';

const deadLettered = (props: Record<string, unknown>, messageId = 'm-1') =>
  ({
    messageId,
    body: Buffer.from('{"id":"m-1"}'),
    contentType: 'application/json',
    subject: 'staged-batch',
    applicationProperties: props,
  }) as unknown as ServiceBusReceivedMessage;

describe('buildReplayCopy', () => {
  it('addresses the copy to the one subscription, resets attempts, drops the dead-letter reason, keeps the trace', () => {
    const copy = buildReplayCopy(
      deadLettered({
        DeadLetterReason: 'SinkRejected',
        DeadLetterErrorDescription: '400 from the sink',
        'logferry-attempt': 8,
        'logferry-last-error': 'HTTP 400',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        producer: 's3-fetcher',
      }),
      'la-uploader',
      new Date('2024-05-01T10:00:00Z'),
    );
    const props = copy.applicationProperties ?? {};
    assert.equal(props['logferry-retry-for'], 'la-uploader');
    assert.equal(props['logferry-original-message-id'], 'm-1');
    assert.equal(props['logferry-attempt'], undefined);
    assert.equal(props['logferry-last-error'], undefined);
    assert.equal(props.DeadLetterReason, undefined);
    assert.equal(props.DeadLetterErrorDescription, undefined);
    assert.equal(props.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(props.producer, 's3-fetcher');
    assert.notEqual(copy.messageId, 'm-1', 'a new id: duplicate detection must not drop the copy');
    assert.equal(copy.subject, 'staged-batch');
    assert.equal(copy.contentType, 'application/json');
    assert.deepEqual(copy.body, Buffer.from('{"id":"m-1"}'));
  });

  it('keeps the original id across a retry copy and bounds long ids to 128 characters', () => {
    const long = 'x'.repeat(200);
    const copy = buildReplayCopy(deadLettered({ 'logferry-original-message-id': long }, 'retry-copy'), 'adx-ingester');
    assert.ok(String(copy.messageId).length <= 128);
    assert.equal(copy.applicationProperties?.['logferry-original-message-id'], long);
    assert.ok(matchesId(deadLettered({ 'logferry-original-message-id': 'orig' }, 'copy-id'), 'orig'));
    assert.ok(matchesId(deadLettered({}, 'copy-id'), 'copy-id'));
    assert.ok(!matchesId(deadLettered({}, 'copy-id'), 'other'));
  });
});

describe('replayDeadLetters', () => {
  it('refuses, before touching the bus, a topic the manifest does not say the service replays to', async () => {
    const touched: string[] = [];
    const client = new Proxy({}, { get: (_, name) => () => touched.push(String(name)) }) as never;
    const ref = { topic: 'staged-batches', subscription: 'la-uploader' };
    await assert.rejects(
      replayDeadLetters(client, ref, { service: 's3-fetcher', max: 1, scanLimit: 1 }),
      (err) =>
        err instanceof UndeclaredTopicError &&
        /s3-fetcher does not replay dead letters to staged-batches/.test(err.message),
    );
    assert.deepEqual(touched, []);
  });
});

describe('topology', () => {
  it('reads every subscription from deploy/servicebus/Config.json and accepts only those', () => {
    const subs = readSubscriptions();
    assert.ok(subs.some((s) => s.topic === 'staged-batches' && s.subscription === 'la-uploader'));
    assert.ok(subs.some((s) => s.topic === 'staged-batches' && s.subscription === 'adx-ingester'));
    assert.deepEqual(parseSubscriptionRef('s3-objects/s3-fetcher', subs), {
      topic: 's3-objects',
      subscription: 's3-fetcher',
    });
    assert.equal(parseSubscriptionRef('s3-objects/la-uploader', subs), undefined);
    assert.equal(parseSubscriptionRef('s3-objects', subs), undefined);
    assert.equal(parseSubscriptionRef('a/b/c', subs), undefined);
  });
});
