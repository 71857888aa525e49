import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceBusMessage } from '@azure/service-bus';
import type { S3ObjectMessage } from '../../src/messages/index.ts';
import { boundedMessageId, readAttempt } from '../../src/transport/servicebus/properties.ts';
import {
  MessageTooLargeError,
  publishMessages,
  type SenderCache,
  toServiceBusMessage,
} from '../../src/transport/servicebus/publisher.ts';
import { buildRetryCopy, isRetryForOther } from '../../src/transport/servicebus/retry.ts';
import { createTransportMetrics } from '../../src/transport/servicebus/telemetry.ts';
import { MessageValidationError } from '../../src/transport/servicebus/validation.ts';

const s3 = (id: string, key = 'logs/a.gz'): S3ObjectMessage => ({
  type: 's3-object',
  schemaVersion: 1,
  id,
  producer: 'sqs-poller',
  time: '2025-01-01T00:00:00Z',
  bucket: 'my-bucket',
  key,
  origin: 's3-notification',
});

/** A sender whose batches hold `perBatch` messages, recording what is sent. */
function fakeSenders(perBatch: number) {
  const sent: ServiceBusMessage[][] = [];
  let batchesCreated = 0;
  const sender = {
    isClosed: false,
    async createMessageBatch() {
      batchesCreated++;
      const items: ServiceBusMessage[] = [];
      return {
        items,
        maxSizeInBytes: 1024,
        get count() {
          return items.length;
        },
        tryAddMessage(m: ServiceBusMessage) {
          if (items.length >= perBatch || String(m.body).length > 1024) return false;
          items.push(m);
          return true;
        },
      };
    },
    async sendMessages(batch: { items: ServiceBusMessage[] }) {
      sent.push(batch.items);
    },
  };
  const senders = { get: () => sender } as unknown as SenderCache;
  return { senders, sent, batches: () => batchesCreated };
}

describe('publish', () => {
  it('refuses the whole call when any message fails its schema, before touching the wire', async () => {
    const f = fakeSenders(10);
    const bad = { ...s3('b'), bucket: 'x' } as S3ObjectMessage;
    await assert.rejects(publishMessages(f.senders, createTransportMetrics(), 's3-objects', [s3('a'), bad]), (err) => {
      assert.ok(err instanceof MessageValidationError);
      assert.match(err.message, /message 1 .*bucket/);
      return true;
    });
    assert.equal(f.batches(), 0);
  });

  it('sets id, content type, subject and envelope properties', () => {
    const m = toServiceBusMessage(s3('obj-1'), { traceparent: 'tp', 'Diagnostic-Id': 'tp' });
    assert.equal(m.messageId, 'obj-1');
    assert.equal(m.contentType, 'application/json');
    assert.equal(m.subject, 's3-object');
    assert.deepEqual(m.applicationProperties, {
      schemaVersion: 1,
      producer: 'sqs-poller',
      traceparent: 'tp',
      'Diagnostic-Id': 'tp',
    });
    assert.deepEqual(JSON.parse(String(m.body)), s3('obj-1'));
  });

  it('opens new batches as they fill and sends every message once, in order', async () => {
    const f = fakeSenders(2);
    const messages = ['a', 'b', 'c', 'd', 'e'].map((id) => s3(id));
    await publishMessages(f.senders, createTransportMetrics(), 's3-objects', messages);
    assert.deepEqual(
      f.sent.map((b) => b.map((m) => m.messageId)),
      [['a', 'b'], ['c', 'd'], ['e']],
    );
  });

  it('rejects a message too large for any batch', async () => {
    const f = fakeSenders(10);
    await assert.rejects(
      publishMessages(f.senders, createTransportMetrics(), 's3-objects', [s3('big', 'k'.repeat(1000))]),
      MessageTooLargeError,
    );
  });
});

describe('message properties', () => {
  it('keeps ids Service Bus accepts and hashes longer ones stably', () => {
    assert.equal(boundedMessageId('a'.repeat(128)), 'a'.repeat(128));
    const long = boundedMessageId('b'.repeat(200));
    assert.ok(long.length <= 128 && long.startsWith('sha256:'));
    assert.equal(boundedMessageId('b'.repeat(200)), long);
  });

  it('reads the logical attempt, defaulting to 1', () => {
    assert.equal(readAttempt(undefined), 1);
    assert.equal(readAttempt({ 'logferry-attempt': 3 }), 3);
    assert.equal(readAttempt({ 'logferry-attempt': '2' }), 2);
    assert.equal(readAttempt({ 'logferry-attempt': 'junk' }), 1);
  });

  it('builds a retry copy addressed to one subscription, keeping body and trace context', () => {
    const received = {
      body: Buffer.from('{}'),
      messageId: 'orig',
      contentType: 'application/json',
      subject: 's3-object',
      applicationProperties: { traceparent: 'tp', schemaVersion: 1, 'logferry-attempt': 1 },
    };
    const copy = buildRetryCopy(received as never, 's3-fetcher', 2, 'throttled');
    assert.equal(copy.body, received.body);
    assert.equal(copy.messageId, 'orig|retry|s3-fetcher|2');
    assert.deepEqual(copy.applicationProperties, {
      traceparent: 'tp',
      schemaVersion: 1,
      'logferry-attempt': 2,
      'logferry-last-error': 'throttled',
      'logferry-retry-for': 's3-fetcher',
      'logferry-original-message-id': 'orig',
    });
    const again = buildRetryCopy({ ...received, ...copy } as never, 's3-fetcher', 3, 'again');
    assert.equal(again.messageId, 'orig|retry|s3-fetcher|3');
    // An outage retry keeps the attempt; the count keeps every copy's id new for duplicate detection.
    const paused = buildRetryCopy({ ...received, ...again } as never, 's3-fetcher', 3, 'down', true);
    assert.equal(paused.messageId, 'orig|retry|s3-fetcher|3|outage1');
    assert.equal(paused.applicationProperties?.['logferry-attempt'], 3);
    const pausedAgain = buildRetryCopy({ ...received, ...paused } as never, 's3-fetcher', 3, 'down', true);
    assert.equal(pausedAgain.messageId, 'orig|retry|s3-fetcher|3|outage2');
    const after = buildRetryCopy({ ...received, ...pausedAgain } as never, 's3-fetcher', 4, 'own fault');
    assert.equal(after.messageId, 'orig|retry|s3-fetcher|4|outage2');
    assert.equal(isRetryForOther(copy as never, 's3-fetcher'), false);
    assert.equal(isRetryForOther(copy as never, 'other'), true);
    assert.equal(isRetryForOther(received as never, 'other'), false);
  });
});
