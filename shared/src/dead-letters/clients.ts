// First: corrects rhea's disposition coalescing before the SDK loads it (see the module).
import '../amqp/rhea-dispositions-fix.ts';
import { ServiceBusAdministrationClient, ServiceBusClient } from '@azure/service-bus';
import type { ServiceBusConnection } from '../transport/servicebus/transport.ts';

export interface OperatorClients {
  /** Peeks and replays dead letters (a connection of its own, apart from the service's transport). */
  readonly client: ServiceBusClient;
  /** Reads runtime properties (message counts) over the ATOM management API. */
  readonly admin: ServiceBusAdministrationClient;
  close(): Promise<void>;
}

/** The clients an operator's tools need, for the same connection the transport uses. */
export function createOperatorClients(connection: ServiceBusConnection, identifier: string): OperatorClients {
  const options = { identifier, retryOptions: { maxRetries: 2, timeoutInMs: 30_000 } };
  const client =
    'connectionString' in connection
      ? new ServiceBusClient(connection.connectionString, options)
      : new ServiceBusClient(connection.fullyQualifiedNamespace, connection.credential, options);
  const admin =
    'connectionString' in connection
      ? new ServiceBusAdministrationClient(connection.connectionString)
      : new ServiceBusAdministrationClient(connection.fullyQualifiedNamespace, connection.credential);
  return { client, admin, close: () => client.close() };
}
