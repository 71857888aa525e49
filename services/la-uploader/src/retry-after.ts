/**
 * Delay a throttling answer asks for, in ms: `retry-after-ms` / `x-ms-retry-after-ms` (Azure), else
 * `Retry-After` as seconds or an HTTP date. Undefined when absent or unreadable.
 */
export function parseRetryAfter(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  now: () => number = Date.now,
): number | undefined {
  const first = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const ms = Number(first(name));
    if (first(name) !== undefined && Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  }
  const value = first('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now());
}
