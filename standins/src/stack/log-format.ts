const SKIP = new Set([
  'level',
  'time',
  'msg',
  'service',
  'name',
  'pid',
  'hostname',
  'trace_id',
  'span_id',
  'trace_flags',
]);
const MAX_FIELD = 160;

/**
 * One JSON log line as a short, colourless console line: `s3-fetcher  | info  fetched object key=… records=…`.
 * Lines that are not JSON (a stack trace, a Node warning) pass through as they are, prefixed.
 */
export function formatLogLine(service: string, line: string): string {
  const prefix = `${service.padEnd(18)} |`;
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return `${prefix} ${line}`;
    entry = parsed as Record<string, unknown>;
  } catch {
    return `${prefix} ${line}`;
  }
  const level = typeof entry.level === 'string' ? entry.level : String(entry.level ?? '');
  const fields = Object.entries(entry)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${short(v)}`);
  return `${prefix} ${level.padEnd(5)} ${String(entry.msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}`;
}

function short(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const oneLine = (text ?? '').replace(/\s*\n\s*/g, ' ');
  return oneLine.length > MAX_FIELD ? `${oneLine.slice(0, MAX_FIELD - 1)}…` : oneLine;
}
