import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * JSON lines with the service name; every line is scrubbed of secrets (see redact.ts) so a
 * connection string in an error message cannot leak. Trace/span ids are added by the telemetry mixin.
 */
export function createLogger(
  service: string,
  options: { level?: string; destination?: pino.DestinationStream } = {},
): Logger {
  return pino(
    {
      name: service,
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
