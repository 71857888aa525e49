export { MAX_REQUEST_BYTES } from './ingest-request.ts';
export {
  type LogsIngestionStandIn,
  type LogsIngestionStandInOptions,
  startLogsIngestionStandIn,
} from './server.ts';
export type { LogsIngestionFault, RequestLogEntry, StreamStats } from './state.ts';
