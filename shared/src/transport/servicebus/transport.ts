// First: corrects rhea's disposition coalescing before the SDK loads it (see the module).
import '../../amqp/rhea-dispositions-fix.ts';
import type { TokenCredential } from '@azure/core-auth';
import { type RetryOptions, ServiceBusClient } from '@azure/service-bus';
import type { Logger } from 'pino';
import { cachedCheck } from '../../lifecycle/readiness.ts';
import { assertPublishes, MANIFEST } from '../../manifest.ts';
import type { MessageOf, ServiceName, TopicName } from '../../messages/index.ts';
import type { SubscribeOptions, Subscription, Transport } from '../port.ts';
import { errorFields } from './errors.ts';
import { publishMessages, SenderCache } from './publisher.ts';
import { ServiceBusSubscription } from './subscription.ts';
import { createTransportMetrics } from './telemetry.ts';

export type ServiceBusConnection =
  | { readonly connectionString: string }
  | {
      readonly fullyQualifiedNamespace: string;
      readonly credential: TokenCredential;
      /** e.g. a local TLS listener standing in for the namespace (trust it via NODE_EXTRA_CA_CERTS). */
      readonly customEndpointAddress?: string;
    };

export interface ServiceBusTransportOptions {
  readonly connection: ServiceBusConnection;
  readonly logger: Logger;
  readonly service: ServiceName;
  /** Called once per subscription that hit an unrecoverable error (entity gone, access revoked). */
  readonly onUnrecoverable?: (err: unknown) => void;
  /** The SDK's own retry of operations (send, settle, renew); its defaults suit production. */
  readonly retryOptions?: RetryOptions;
  /** How often and how long ready() asks the broker; the defaults suit kubelet probes. */
  readonly readiness?: ReadinessProbeOptions;
}

export interface ReadinessProbeOptions {
  /** How long a probe that succeeded stands. Default 10 000 ms: probes every few seconds do not each open a link. */
  readonly ttlMs?: number;
  /** How long a probe that failed stands. Default 2 000 ms: a recovered namespace is seen soon. */
  readonly failureTtlMs?: number;
  /** A probe the broker has not answered by then fails. Default 5 000 ms. */
  readonly timeoutMs?: number;
}

type ProbeTarget =
  | { readonly kind: 'send'; readonly topic: TopicName }
  | { readonly kind: 'peek'; readonly topic: TopicName; readonly subscription: string };

function describeTarget(t: ProbeTarget): string {
  return t.kind === 'send' ? `send link to ${t.topic}` : `peek on ${t.topic}/${t.subscription}`;
}

/** Rejects after `ms`; the work goes on in the background and cleans up after itself. */
async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from Service Bus within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class TransportClosedError extends Error {
  constructor() {
    super('the Service Bus transport is closed');
    this.name = 'TransportClosedError';
  }
}

function createClient(options: ServiceBusTransportOptions): ServiceBusClient {
  const { connection } = options;
  const clientOptions = {
    identifier: `${options.service}-${process.pid}`,
    ...(options.retryOptions ? { retryOptions: options.retryOptions } : {}),
  };
  if ('connectionString' in connection) return new ServiceBusClient(connection.connectionString, clientOptions);
  return new ServiceBusClient(connection.fullyQualifiedNamespace, connection.credential, {
    ...clientOptions,
    ...(connection.customEndpointAddress ? { customEndpointAddress: connection.customEndpointAddress } : {}),
  });
}

/** The transport port over Azure Service Bus: one client (one AMQP connection) per transport. */
export function createServiceBusTransport(options: ServiceBusTransportOptions): Transport {
  const logger = options.logger.child({ component: 'transport' });
  const client = createClient(options);
  const senders = new SenderCache(client);
  const metrics = createTransportMetrics(options.service);
  const subscriptions = new Map<ServiceBusSubscription<TopicName>, { topic: TopicName; subscription: string }>();
  const published = new Set<TopicName>();
  let closed = false;
  const onUnrecoverable =
    options.onUnrecoverable ?? ((err: unknown) => logger.error({ err }, 'unrecoverable transport error'));

  /**
   * What to ask the broker: the first topic the manifest says the service publishes to (a send link,
   * so a publish-only service such as sqs-poller is ready only while it could publish), else one of
   * its subscriptions (la-uploader only consumes).
   */
  function probeTarget(): ProbeTarget | undefined {
    const topic = MANIFEST[options.service].publishes[0] ?? published.values().next().value;
    if (topic !== undefined) return { kind: 'send', topic };
    for (const [s, o] of subscriptions) if (!s.stopped) return { kind: 'peek', ...o };
    return undefined;
  }

  /**
   * One round trip that needs the namespace to answer and to accept our credential for the entity:
   * a send link opened and closed again (nothing is sent), or a one-message peek (nothing is locked;
   * the entity's management link stays open between probes).
   */
  async function probe(target: ProbeTarget, timeoutMs: number): Promise<void> {
    const abortSignal = AbortSignal.timeout(timeoutMs);
    if (target.kind === 'send') {
      const sender = client.createSender(target.topic);
      try {
        await sender.createMessageBatch({ abortSignal });
      } finally {
        await sender.close().catch(() => undefined);
      }
      return;
    }
    const receiver = client.createReceiver(target.topic, target.subscription, { skipParsingBodyAsJson: true });
    try {
      await receiver.peekMessages(1, { abortSignal });
    } finally {
      await receiver.close().catch(() => undefined);
    }
  }

  const probeTimeoutMs = options.readiness?.timeoutMs ?? 5_000;
  let brokerAnswered: boolean | undefined;
  const brokerReady = cachedCheck(
    async () => {
      const target = probeTarget();
      // Nothing published, consumed or known to publish yet: there is nothing of ours to ask about.
      if (target === undefined) return true;
      try {
        await withTimeout(probe(target, probeTimeoutMs), probeTimeoutMs, describeTarget(target));
        if (brokerAnswered === false) logger.info({ probe: describeTarget(target) }, 'Service Bus answers again');
        brokerAnswered = true;
        return true;
      } catch (err) {
        // Logged on the change only: kubelet probes every few seconds.
        if (brokerAnswered !== false) {
          logger.warn({ ...errorFields(err), probe: describeTarget(target) }, 'Service Bus readiness probe failed');
        }
        brokerAnswered = false;
        return false;
      }
    },
    { ttlMs: options.readiness?.ttlMs ?? 10_000, failureTtlMs: options.readiness?.failureTtlMs ?? 2_000 },
  );

  return {
    async publish<T extends TopicName>(topic: T, messages: readonly MessageOf<T>[]): Promise<void> {
      if (closed) throw new TransportClosedError();
      assertPublishes(options.service, topic);
      published.add(topic);
      await publishMessages(senders, metrics, topic, messages);
    },

    subscribe<T extends TopicName>(subscribeOptions: SubscribeOptions<T>): Subscription {
      if (closed) throw new TransportClosedError();
      const subscription = new ServiceBusSubscription<T>(
        { client, senders, logger, metrics, onUnrecoverable },
        subscribeOptions,
      );
      subscriptions.set(subscription as unknown as ServiceBusSubscription<TopicName>, {
        topic: subscribeOptions.topic,
        subscription: subscribeOptions.subscription,
      });
      return subscription;
    },

    /**
     * False when closed, when a subscription hit an unrecoverable error (entity gone, access revoked),
     * or when the broker does not answer a probe (see probe()): namespace unreachable, credential or
     * rights refused, entity missing. The probe's answer is cached (10 s after a success, 2 s after a
     * failure) and probes that arrive while one is in flight share it, so /readyz stays cheap.
     */
    async ready(): Promise<boolean> {
      if (closed) return false;
      for (const s of subscriptions.keys()) if (!s.healthy) return false;
      return (await brokerReady()) && !closed;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Subscriptions the service did not stop gracefully get no grace: abandon and go.
      await Promise.allSettled([...subscriptions.keys()].map((s) => s.stop(0)));
      await senders.closeAll();
      await client.close().catch((err) => logger.warn({ err }, 'closing the Service Bus client failed'));
    },
  };
}
