/** Help in one shape for every command: what it does, usage, options, examples, exit codes. */
export function helpText(h: {
  usage: string | readonly string[];
  summary: string;
  options?: readonly (readonly [string, string])[];
  environment?: readonly (readonly [string, string])[];
  examples?: readonly string[];
  exitCodes?: readonly (readonly [number, string])[];
  notes?: readonly string[];
}): string {
  const section = (title: string, rows: readonly (readonly [string | number, string])[]) => {
    const width = Math.max(...rows.map(([k]) => String(k).length));
    return ['', `${title}:`, ...rows.map(([k, v]) => `  ${String(k).padEnd(width)}  ${v}`)];
  };
  const usage = typeof h.usage === 'string' ? [h.usage] : h.usage;
  return [
    ...usage.map((u, i) => `${i === 0 ? 'Usage: ' : '       '}${u}`),
    '',
    h.summary,
    ...(h.options?.length ? section('Options', [...h.options, ['-h, --help', 'show this help']]) : []),
    ...(h.environment?.length ? section('Environment', h.environment) : []),
    ...(h.notes?.length ? ['', ...h.notes] : []),
    ...(h.examples?.length ? ['', 'Examples:', ...h.examples.map((e) => `  ${e}`)] : []),
    ...section(
      'Exit codes',
      h.exitCodes ?? [
        [0, 'done'],
        [1, 'failed'],
        [2, 'usage error'],
      ],
    ),
  ].join('\n');
}
