import type { LogsIngestionDestination } from '@logferry/shared/routes/index';
import {
  createLogsIngestionClient,
  type LogsIngestionClient,
  type LogsIngestionClientOptions,
} from './logs-ingestion-client.ts';

export interface LogsIngestionClients {
  /** la-uploader's own DCR_IMMUTABLE_ID and DCR_STREAM. */
  readonly default: LogsIngestionClient;
  /** The client of a route's stream; `dcr` unset means DCR_IMMUTABLE_ID. Made once per destination. */
  for(destination: LogsIngestionDestination): LogsIngestionClient;
  close(): void;
}

/** One client per (DCR, stream) a batch names, made on first use: routes name a handful, not one per batch. */
export function createLogsIngestionClients(options: LogsIngestionClientOptions): LogsIngestionClients {
  const byUrl = new Map<string, LogsIngestionClient>();
  const make = (ruleId: string, stream: string) => {
    const key = `${ruleId}/${stream}`;
    let client = byUrl.get(key);
    if (!client) {
      client = createLogsIngestionClient({ ...options, ruleId, stream });
      byUrl.set(key, client);
    }
    return client;
  };
  const fallback = make(options.ruleId, options.stream);
  return {
    default: fallback,
    for: (d) => make(d.dcr ?? options.ruleId, d.stream),
    close: () => {
      for (const c of byUrl.values()) c.close();
    },
  };
}
