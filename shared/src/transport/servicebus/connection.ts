import type { TokenCredential } from '@azure/core-auth';
import type { ServiceBusConfig } from '../../config/parts.ts';
import type { ServiceBusConnection } from './transport.ts';

/**
 * The connection the configuration selects: the connection string (emulator, stand-in, SAS) when set,
 * else the namespace with the Azure identity. The credential is a factory so that a connection-string
 * setup never builds an identity.
 */
export function serviceBusConnection(
  config: Partial<ServiceBusConfig>,
  credential: () => TokenCredential,
): ServiceBusConnection {
  if (config.SERVICEBUS_CONNECTION_STRING) return { connectionString: config.SERVICEBUS_CONNECTION_STRING };
  // The config rules require one of the two; this guards callers that bypassed them.
  if (!config.SERVICEBUS_NAMESPACE) throw new Error('SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE is required');
  return { fullyQualifiedNamespace: config.SERVICEBUS_NAMESPACE, credential: credential() };
}
