import type { TokenCredential } from '@azure/core-auth';
import { type RetryOptions, ServiceBusClient } from '@azure/service-bus';
import type { Logger } from 'pino';
import type { MessageOf, ServiceName, TopicName } from '../../messages/index.ts';
import type { SubscribeOptions, Subscription, Transport } from '../port.ts';
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
  const metrics = createTransportMetrics();
  const subscriptions = new Set<ServiceBusSubscription<TopicName>>();
  let closed = false;
  const onUnrecoverable =
    options.onUnrecoverable ?? ((err: unknown) => logger.error({ err }, 'unrecoverable transport error'));

  return {
    async publish<T extends TopicName>(topic: T, messages: readonly MessageOf<T>[]): Promise<void> {
      if (closed) throw new TransportClosedError();
      await publishMessages(senders, metrics, topic, messages);
    },

    subscribe<T extends TopicName>(subscribeOptions: SubscribeOptions<T>): Subscription {
      if (closed) throw new TransportClosedError();
      const subscription = new ServiceBusSubscription<T>(
        { client, senders, logger, metrics, onUnrecoverable },
        subscribeOptions,
      );
      subscriptions.add(subscription as unknown as ServiceBusSubscription<TopicName>);
      return subscription;
    },

    /**
     * No network call: the SDK reconnects by itself after transient faults, so a dropped socket
     * is not a reason to pull the pod from service; an entity that is gone or forbidden is.
     */
    async ready(): Promise<boolean> {
      if (closed) return false;
      for (const s of subscriptions) if (!s.healthy) return false;
      return true;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Subscriptions the service did not stop gracefully get no grace: abandon and go.
      await Promise.allSettled([...subscriptions].map((s) => s.stop(0)));
      await senders.closeAll();
      await client.close().catch((err) => logger.warn({ err }, 'closing the Service Bus client failed'));
    },
  };
}
