export { authEventsJson, dnsQueriesGzip, trafficFlowsCsv } from './adx-samples.ts';
export { code42FileEvents, type FileEvent } from './code42-events.ts';
export {
  type AuditEvent,
  code42AuditEvents,
  type FlowLogRecord,
  VPC_FLOW_LOG_FIELDS,
  vpcFlowLogRecords,
  vpcFlowLogText,
} from './more-sources.ts';
export {
  LOCAL_RUN_SEED,
  recordsBySource,
  type SeededObject,
  type SeedOptions,
  type SeedResult,
  type SeedTarget,
  s3Notification,
  seedSampleData,
  seedSummary,
} from './seed.ts';
