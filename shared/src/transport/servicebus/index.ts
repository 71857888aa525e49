export { serviceBusConnection } from './connection.ts';
export { classifyError, type ErrorClass } from './errors.ts';
export { PROP as SERVICE_BUS_PROPERTIES } from './properties.ts';
export { MessageTooLargeError } from './publisher.ts';
export { ConsumerStoppingError, LockLostError } from './subscription.ts';
export {
  createServiceBusTransport,
  type ServiceBusConnection,
  type ServiceBusTransportOptions,
  TransportClosedError,
} from './transport.ts';
export { MessageValidationError } from './validation.ts';
