import { type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { S3AllowList } from '@logferry/shared/auth/aws-allow-list';
import type { Logger } from '@logferry/shared/logging/logger';
import { SpanKind, SpanStatusCode, trace } from '@logferry/shared/telemetry/api';
import { backoffDelay, sleep } from '@logferry/shared/transport/backoff';
import type { Publisher } from '@logferry/shared/transport/port';
import { checkQueue } from './check-queue.ts';
import { deleteMessages } from './delete-messages.ts';
import { handleSqsMessage, type MessageDecision } from './handle-message.ts';
import { createPollerMetrics, type PollerMetrics, type PollerStats } from './poller-metrics.ts';
import { type Heartbeat, startHeartbeat } from './visibility-heartbeat.ts';

export interface PollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly publisher: Publisher;
  readonly allowList: S3AllowList;
  readonly logger: Logger;
  /** Concurrent long-poll loops. */
  readonly pollers: number;
  readonly visibilityTimeoutSeconds: number;
  /** Long-poll wait (SQS maximum 20 s). */
  readonly waitTimeSeconds?: number;
  readonly maxMessages?: number;
  /** Backoff of a loop after a receive error or a failed publish. */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  readonly metrics?: PollerMetrics;
}

export interface SqsPoller {
  /** Checks the queue, then starts the loops; resolves once they run. */
  start(): Promise<void>;
  /** Stops receiving, lets in-flight messages finish within graceMs, then resolves (the rest is redelivered by SQS). */
  stop(graceMs: number): Promise<void>;
  /**
   * True once SQS has answered (the queue's attributes read at start, or a receive), and until
   * repeated receive failures (credentials, missing queue, network); true again after the next success.
   */
  readonly healthy: boolean;
  stats(): PollerStats;
}

const UNHEALTHY_AFTER = 5;
const tracer = trace.getTracer('logferry.sqs-poller');

export function createSqsPoller(options: PollerOptions): SqsPoller {
  const metrics = options.metrics ?? createPollerMetrics();
  const backoff = options.backoff ?? { baseMs: 1_000, maxMs: 60_000 };
  const log = options.logger;
  const stopSignal = new AbortController();
  const heartbeats = new Set<Heartbeat>();
  let loops: Promise<void>[] = [];
  let receiveFailures = 0;
  /** Nothing proves the queue answers us until a call to it has succeeded. */
  let answered = false;

  async function loop(index: number): Promise<void> {
    let errors = 0;
    let publishFailures = 0;
    while (!stopSignal.signal.aborted) {
      let messages: Message[];
      try {
        const r = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: options.maxMessages ?? 10,
            WaitTimeSeconds: options.waitTimeSeconds ?? 20,
            VisibilityTimeout: options.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: stopSignal.signal },
        );
        messages = r.Messages ?? [];
        errors = 0;
        receiveFailures = 0;
        answered = true;
      } catch (err) {
        if (stopSignal.signal.aborted) break;
        errors += 1;
        receiveFailures += 1;
        log.warn({ loop: index, err: (err as Error).message, attempt: errors }, 'SQS receive failed');
        await pause(backoffDelay(errors, backoff.baseMs, backoff.maxMs));
        continue;
      }
      if (messages.length === 0) continue;
      metrics.received(messages.length);
      const publishFailed = await handleBatch(messages);
      publishFailures = publishFailed ? publishFailures + 1 : 0;
      // The broker is down or refusing: do not spin through the queue re-receiving what we cannot publish.
      if (publishFailed) await pause(backoffDelay(publishFailures, backoff.baseMs, backoff.maxMs));
    }
  }

  async function handleBatch(messages: Message[]): Promise<boolean> {
    const usable = messages.filter(
      (m): m is Message & { ReceiptHandle: string } => typeof m.ReceiptHandle === 'string',
    );
    const hb = startHeartbeat(
      usable.map((m) => m.ReceiptHandle),
      Date.now(),
      {
        sqs: options.sqs,
        queueUrl: options.queueUrl,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
        logger: log,
        onExtended: (n) => metrics.visibilityExtended(n),
      },
    );
    heartbeats.add(hb);
    try {
      const decisions = await Promise.all(
        usable.map(async (m) => {
          const decision = await handleTraced(m);
          if (decision.action === 'leave') hb.release(m.ReceiptHandle);
          return { m, decision };
        }),
      );
      const done = decisions
        .filter((d) => d.decision.action === 'delete')
        .map((d) => ({ messageId: d.m.MessageId ?? '?', receiptHandle: d.m.ReceiptHandle }));
      if (done.length > 0) metrics.deleted(await deleteMessages(options.sqs, options.queueUrl, done, log));
      return decisions.some((d) => d.decision.action === 'leave' && d.decision.publishFailed);
    } finally {
      hb.stop();
      heartbeats.delete(hb);
    }
  }

  function handleTraced(m: Message): Promise<MessageDecision> {
    const messageId = m.MessageId ?? '?';
    return tracer.startActiveSpan(
      'sqs-poller process',
      { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'aws_sqs', 'messaging.message.id': messageId } },
      async (span): Promise<MessageDecision> => {
        try {
          const decision = await handleSqsMessage(
            {
              messageId,
              body: m.Body ?? '',
              receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
            },
            { publisher: options.publisher, allowList: options.allowList, logger: log, metrics },
          );
          if (decision.action === 'leave') span.setAttribute('logferry.left_reason', decision.reason);
          return decision;
        } catch (err) {
          // A bug, not bad input: leave the message so SQS redelivers it, and back off like a failed publish.
          log.error({ sqsMessageId: messageId, err }, 'unexpected error handling SQS message');
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          return { action: 'leave', reason: 'unexpected error', publishFailed: true };
        } finally {
          span.end();
        }
      },
    );
  }

  async function pause(ms: number): Promise<void> {
    await sleep(ms, stopSignal.signal).catch(() => undefined);
  }

  return {
    async start() {
      if ((await checkQueue(options.sqs, options.queueUrl, log)) !== undefined) answered = true;
      loops = Array.from({ length: Math.max(1, options.pollers) }, (_, i) => loop(i));
      log.info({ queueUrl: options.queueUrl, pollers: loops.length }, 'polling SQS');
    },
    async stop(graceMs) {
      stopSignal.abort(new Error('poller stopping'));
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        Promise.all(loops).then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (!finished) {
        // Without heartbeats the unfinished messages become visible again and are redelivered.
        for (const hb of heartbeats) hb.stop();
        log.warn({ graceMs }, 'stopped with messages still in progress; SQS will redeliver them');
      }
    },
    get healthy() {
      return answered && receiveFailures < UNHEALTHY_AFTER;
    },
    stats: () => metrics.stats(),
  };
}
