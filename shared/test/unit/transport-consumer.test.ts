// Error paths of the consumer against a fake SDK receiver (the happy paths run against the
// Service Bus stand-in in test/integration/transport*.test.ts).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { type ServiceBusClient, ServiceBusError, type ServiceBusErrorCode } from '@azure/service-bus';
import { pino } from 'pino';
import type { StagedBatchMessage } from '../../src/messages/index.ts';
import { type Handler, outcome, type SubscribeOptions } from '../../src/transport/port.ts';
import { classifyError } from '../../src/transport/servicebus/errors.ts';
import { SenderCache } from '../../src/transport/servicebus/publisher.ts';
import { LockLostError, ServiceBusSubscription } from '../../src/transport/servicebus/subscription.ts';
import { createTransportMetrics } from '../../src/transport/servicebus/telemetry.ts';

function captureLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const batch = (id = 'b-1'): StagedBatchMessage => ({
  type: 'staged-batch',
  schemaVersion: 1,
  id,
  producer: 's3-fetcher',
  time: '2025-01-01T00:00:00.000Z',
  objectId: 'bucket/key@v1',
  batchIndex: 0,
  lastBatch: true,
  blobContainer: 'staging',
  blobName: 'x/0.ndjson.gz',
  recordCount: 1,
  rawBytes: 10,
  compressedBytes: 5,
  source: 'Code42FileEvents',
});

interface FakeMessage {
  body: unknown;
  messageId: string;
  deliveryCount: number;
  applicationProperties: Record<string, string | number>;
  lockedUntilUtc: Date;
  enqueuedTimeUtc: Date;
}

const message = (body: unknown, extra: Partial<FakeMessage> = {}): FakeMessage => ({
  body: typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body)),
  messageId: 'b-1',
  deliveryCount: 0,
  applicationProperties: {},
  lockedUntilUtc: new Date(Date.now() + 60_000),
  enqueuedTimeUtc: new Date(),
  ...extra,
});

function setup(handler: Handler<'staged-batches'>, overrides: Partial<SubscribeOptions<'staged-batches'>> = {}) {
  const calls: string[] = [];
  type Handlers = { processMessage(m: unknown): Promise<void>; processError(a: unknown): Promise<void> };
  let handlers: Handlers | undefined;
  let receiverOptions: unknown;
  let subscribeOptions: unknown;
  const receiver = {
    subscribe(h: Handlers, o: unknown) {
      handlers = h;
      subscribeOptions = o;
      return { close: async () => void calls.push('intake.close') };
    },
    completeMessage: async (m: FakeMessage) => void calls.push(`complete:${m.messageId}`),
    abandonMessage: async (m: FakeMessage) => void calls.push(`abandon:${m.messageId}`),
    deadLetterMessage: async (m: FakeMessage, o: { deadLetterReason: string; deadLetterErrorDescription: string }) =>
      void calls.push(`deadLetter:${m.messageId}:${o.deadLetterReason}:${o.deadLetterErrorDescription}`),
    close: async () => void calls.push('receiver.close'),
  };
  const scheduled: { message: { messageId: string; applicationProperties: Record<string, unknown> }; at: Date }[] = [];
  const sender = {
    isClosed: false,
    scheduleMessages: async (m: (typeof scheduled)[number]['message'], at: Date) => {
      scheduled.push({ message: m, at });
      calls.push(`schedule:${m.messageId}`);
      return [1];
    },
    cancelScheduledMessages: async () => void calls.push('cancel'),
    close: async () => undefined,
  };
  const client = {
    createReceiver: (_t: string, _s: string, o: unknown) => {
      receiverOptions = o;
      return receiver;
    },
    createSender: () => sender,
  } as unknown as ServiceBusClient;
  const { log, lines } = captureLogger();
  const unrecoverable: unknown[] = [];
  const sub = new ServiceBusSubscription(
    {
      client,
      senders: new SenderCache(client),
      logger: log,
      metrics: createTransportMetrics(),
      onUnrecoverable: (e) => unrecoverable.push(e),
    },
    {
      topic: 'staged-batches',
      subscription: 'la-uploader',
      handler,
      concurrency: 4,
      maxAttempts: 3,
      backoff: { baseMs: 100, maxMs: 1000 },
      maxLockRenewalMs: 300_000,
      ...overrides,
    },
  );
  const h = handlers as Handlers | undefined;
  assert.ok(h);
  return { sub, calls, lines, scheduled, unrecoverable, handlers: h, receiverOptions, subscribeOptions };
}

const errorArgs = (code: ServiceBusErrorCode) => ({
  error: new ServiceBusError(`failure ${code}`, code),
  errorSource: 'receive',
  entityPath: 'staged-batches/Subscriptions/la-uploader',
  fullyQualifiedNamespace: 'localhost',
  identifier: 'x',
});

describe('Service Bus consumer (fake receiver)', () => {
  it('receives in peek-lock with lock renewal, no auto-complete and bounded concurrency', async () => {
    const t = setup(async () => outcome.success());
    assert.deepEqual(t.receiverOptions, {
      receiveMode: 'peekLock',
      maxAutoLockRenewalDurationInMs: 300_000,
      skipParsingBodyAsJson: true,
    });
    const { abortSignal, ...rest } = t.subscribeOptions as { abortSignal: AbortSignal };
    assert.deepEqual(rest, { autoCompleteMessages: false, maxConcurrentCalls: 4 });
    assert.equal(abortSignal.aborted, false);
    await t.sub.stop(0);
    assert.equal(abortSignal.aborted, true, 'stop() cancels the SDK connect-retry loop');
  });

  for (const code of ['MessagingEntityNotFound', 'UnauthorizedAccess', 'MessagingEntityDisabled'] as const) {
    it(`${code}: marks the subscription unhealthy, closes it and reports once`, async () => {
      const t = setup(async () => outcome.success());
      assert.equal(classifyError(errorArgs(code).error), 'unrecoverable');
      await t.handlers.processError(errorArgs(code));
      await t.handlers.processError(errorArgs(code));
      assert.equal(t.sub.healthy, false);
      assert.equal(t.unrecoverable.length, 1);
      await t.sub.stop(0);
      assert.ok(t.calls.includes('intake.close') && t.calls.includes('receiver.close'));
      assert.ok(t.lines.some((l) => l.level === 50 && l.code === code));
    });
  }

  for (const code of ['ServiceBusy', 'ServiceTimeout', 'GeneralError', 'ServiceCommunicationProblem'] as const) {
    it(`${code}: logged as transient, left to the SDK's retries`, async () => {
      const t = setup(async () => outcome.success());
      await t.handlers.processError(errorArgs(code));
      assert.equal(t.sub.healthy, true);
      assert.equal(t.unrecoverable.length, 0);
      assert.ok(!t.calls.includes('receiver.close'));
      assert.ok(t.lines.some((l) => l.level === 40 && l.code === code));
      await t.sub.stop(0);
    });
  }

  it('MessageLockLost from the renewer is a warning', async () => {
    const t = setup(async () => outcome.success());
    await t.handlers.processError({ ...errorArgs('MessageLockLost'), errorSource: 'renewLock' });
    assert.equal(t.sub.healthy, true);
    assert.ok(t.lines.some((l) => l.level === 40 && l.code === 'MessageLockLost'));
    await t.sub.stop(0);
  });

  it('dead-letters unparsable JSON at once as InvalidJson, without calling the handler', async () => {
    let called = false;
    const t = setup(async () => {
      called = true;
      return outcome.success();
    });
    await t.handlers.processMessage(message('{not json'));
    assert.equal(called, false);
    assert.match(t.calls.join('\n'), /^deadLetter:b-1:InvalidJson:body is not JSON/m);
    await t.sub.stop(0);
  });

  it('dead-letters a schema violation at once, naming the failing fields', async () => {
    const t = setup(async () => outcome.success());
    const { recordCount: _r, ...missing } = batch();
    await t.handlers.processMessage(message({ ...missing, batchIndex: -1 }));
    const dl = t.calls.find((c) => c.startsWith('deadLetter:'));
    assert.ok(dl?.startsWith('deadLetter:b-1:SchemaValidation:'), dl);
    if (dl === undefined) return;
    assert.match(dl, /batchIndex/);
    assert.match(dl, /recordCount/);
    await t.sub.stop(0);
  });

  it('treats a throwing handler as a bug: logs the stack and reschedules a targeted copy', async () => {
    const t = setup(async () => {
      throw new Error('boom');
    });
    await t.handlers.processMessage(message(batch()));
    assert.deepEqual(
      t.calls.filter((c) => !c.startsWith('intake')),
      ['schedule:b-1|retry|la-uploader|2', 'complete:b-1'],
    );
    const copy = t.scheduled[0]?.message;
    assert.equal(copy?.applicationProperties['logferry-attempt'], 2);
    assert.equal(copy?.applicationProperties['logferry-retry-for'], 'la-uploader');
    assert.equal(copy?.applicationProperties['logferry-last-error'], 'HandlerBug: handler threw: boom');
    const bug = t.lines.find((l) => l.level === 50);
    assert.match(String((bug?.err as { stack?: string })?.stack), /boom/);
    await t.sub.stop(0);
  });

  it("completes and ignores a sibling subscription's retry copy", async () => {
    let called = false;
    const t = setup(async () => {
      called = true;
      return outcome.success();
    });
    await t.handlers.processMessage(
      message(batch(), { applicationProperties: { 'logferry-retry-for': 'adx-ingester' } }),
    );
    assert.equal(called, false);
    assert.deepEqual(t.calls, ['complete:b-1']);
    await t.sub.stop(0);
  });

  it('aborts the handler when the lock runs out unrenewed, warns, and leaves the message to the broker', async () => {
    let reason: unknown;
    const t = setup(
      (d) =>
        new Promise((resolve) => {
          d.signal.addEventListener('abort', () => {
            reason = d.signal.reason;
            resolve(outcome.success());
          });
        }),
    );
    await t.handlers.processMessage(message(batch(), { lockedUntilUtc: new Date(Date.now() + 20) }));
    assert.ok(reason instanceof LockLostError);
    assert.deepEqual(t.calls, []);
    assert.ok(t.lines.some((l) => l.level === 40 && /lock lost/.test(l.msg)));
    await t.sub.stop(0);
  });

  it('stop(): past the grace period aborts unfinished handlers and abandons their messages', async () => {
    const t = setup(
      (d) =>
        new Promise((resolve) => {
          d.signal.addEventListener('abort', () => resolve(outcome.success()));
        }),
    );
    const processing = t.handlers.processMessage(message(batch()));
    await t.sub.stop(10);
    await processing;
    assert.deepEqual(t.calls, ['intake.close', 'abandon:b-1', 'receiver.close']);
    assert.ok(t.sub.stopped);
  });
});
