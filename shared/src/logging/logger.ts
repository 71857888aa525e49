import { type Logger, pino } from 'pino';
import { REDACTED, scrubString, scrubValue, serializeError } from './redact.ts';
import { traceMixin } from './trace-mixin.ts';

export type { Logger };

/** Structured paths that are secret whatever they hold; pino censors them before serialization. */
const REDACT_PATHS = [
  'password',
  '*.password',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'req.headers.cookie',
  'config.SERVICEBUS_CONNECTION_STRING',
  'config.STORAGE_CONNECTION_STRING',
  'config.APPLICATIONINSIGHTS_CONNECTION_STRING',
  'config.AZURE_CLIENT_SECRET',
  'credentials',
  '*.credentials',
];

export interface LoggerOptions {
  level?: string;
  destination?: pino.DestinationStream;
  /** Extra structured paths to censor (pino redact syntax). */
  redactPaths?: readonly string[];
}

/**
 * JSON lines with the service name; every line is scrubbed of secrets (see redact.ts) so a
 * connection string in an error message cannot leak. Each line carries the active span's trace_id/span_id.
 */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: service,
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS, ...(options.redactPaths ?? [])], censor: REDACTED },
      mixin: traceMixin,
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => scrubValue(bindings) as Record<string, unknown>,
        log: (obj) => scrubValue(obj) as Record<string, unknown>,
      },
      serializers: { err: serializeError },
      // Last line of defence: the message text and anything a serializer produced are scrubbed too.
      hooks: { streamWrite: scrubString },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
