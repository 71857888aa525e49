/**
 * ADX's status reports (base64 JSON on the Successful/FailedIngestionsQueue), read leniently: the official
 * SDKs (.NET, Java, Python, Node) write and accept times as ISO strings or epoch numbers, `Details` as a
 * string or an object, `ShouldRetry`/`OriginatesFromUpdatePolicy` as booleans or strings (even ""), and
 * `FailureStatus` as a name or its enum number. Only the fields used here are read; the rest are ignored,
 * so a report never fails for a field we would not look at.
 */
export interface SuccessReport {
  readonly kind: 'success';
  readonly IngestionSourceId: string;
  readonly Table?: string;
  readonly Database?: string;
  readonly IngestionSourcePath?: string;
}

export interface FailureReport extends Omit<SuccessReport, 'kind'> {
  readonly kind: 'failure';
  readonly Details?: string;
  readonly ErrorCode?: string;
  readonly FailureStatus?: string;
}

export type StatusReport = SuccessReport | FailureReport;

/** A queue message we could not read as a report (no object, no IngestionSourceId): logged, never applied. */
export interface UnreadableReport {
  readonly kind: 'unreadable';
  readonly reason: string;
}

// Bounds keep a hostile or broken report from blowing up a row or a log line.
const MAX_ID = 64;
const MAX_NAME = 4096;
const MAX_DETAILS = 16_000;

// Kusto's FailureStatus enum: Unknown 0, Permanent 1, Transient 2, Exhausted 3.
const FAILURE_STATUS_NUMBERS: Readonly<Record<number, string>> = { 1: 'Permanent', 2: 'Transient', 3: 'Exhausted' };

/** Decodes one queue message into a report, or says why it is not one. */
export function decodeReport(kind: 'success' | 'failure', messageText: string): StatusReport | UnreadableReport {
  let data: unknown;
  try {
    const text = /^\s*\{/.test(messageText) ? messageText : Buffer.from(messageText, 'base64').toString('utf8');
    data = JSON.parse(text);
  } catch {
    return { kind: 'unreadable', reason: 'not base64 JSON' };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { kind: 'unreadable', reason: 'not a JSON object' };
  }
  const fields = data as Record<string, unknown>;
  const sourceId = sourceIdOf(fields.IngestionSourceId);
  if (sourceId === undefined) return { kind: 'unreadable', reason: 'no IngestionSourceId' };
  const common = {
    IngestionSourceId: sourceId,
    ...optional('Table', text(fields.Table, MAX_NAME)),
    ...optional('Database', text(fields.Database, MAX_NAME)),
    ...optional('IngestionSourcePath', text(fields.IngestionSourcePath, MAX_NAME)),
  };
  if (kind === 'success') return { kind, ...common };
  const status =
    typeof fields.FailureStatus === 'number'
      ? FAILURE_STATUS_NUMBERS[fields.FailureStatus]
      : text(fields.FailureStatus, MAX_ID);
  return {
    kind,
    ...common,
    ...optional('Details', details(fields.Details)),
    ...optional('ErrorCode', text(fields.ErrorCode, MAX_NAME)),
    ...optional('FailureStatus', status),
  };
}

/** Transient failures are retried by us while attempts remain; Permanent and Exhausted are final. */
export function failureStatusOf(report: FailureReport): 'Permanent' | 'Transient' | 'Exhausted' {
  const s = report.FailureStatus?.toLowerCase();
  if (s === 'transient') return 'Transient';
  if (s === 'exhausted' || s === 'retryattemptsexceeded') return 'Exhausted';
  return 'Permanent';
}

/** A GUID as the SDKs write it (any case, braces allowed), normalised to our lower-case form. */
function sourceIdOf(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const id = v.trim().replace(/^\{(.*)\}$/, '$1');
  return id.length > 0 && id.length <= MAX_ID ? id.toLowerCase() : undefined;
}

function text(v: unknown, max: number): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string' || v.length === 0) return undefined;
  return v.length <= max ? v : `${v.slice(0, max - 1)}…`;
}

function details(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return text(v, MAX_DETAILS);
  try {
    return text(JSON.stringify(v), MAX_DETAILS);
  } catch {
    return undefined;
  }
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
