// Names are prefixed: standins/src/index.ts re-exports every stand-in with `export *`, where a clash would hide both.
export {
  parseIsoDuration as parseServiceBusDuration,
  parseTopology as parseServiceBusConfig,
  type ReceiverSettings as ServiceBusReceiverSettings,
  type Topology as ServiceBusTopology,
} from './config.ts';
export type {
  DeadLetteredMessage as ServiceBusDeadLetteredMessage,
  EntityCounts as ServiceBusEntityCounts,
} from './inspect.ts';
export { MAX_MESSAGE_SIZE as SERVICE_BUS_MAX_MESSAGE_SIZE } from './links.ts';
export type {
  BrokerRecord as ServiceBusRecord,
  BrokerRecords as ServiceBusRecords,
  PublishRecord as ServiceBusPublishRecord,
  SettlementRecord as ServiceBusSettlementRecord,
} from './records.ts';
export type { Rights as ServiceBusRights } from './sas-rights.ts';
export {
  DEFAULT_CONFIG_PATH as DEFAULT_SERVICE_BUS_CONFIG_PATH,
  type ServiceBusStandIn,
  type ServiceBusStandInOptions,
  startServiceBusStandIn,
} from './server.ts';
