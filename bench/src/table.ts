/** One line of the bench table: what, figure, notes. */
export type Row = readonly [string, string, string];

export function formatTable(title: string, rows: readonly Row[]): string {
  const widths = [0, 1].map((c) => Math.max(0, ...rows.map((r) => (c === 0 ? r[0] : r[1]).length)));
  const lines = rows.map((r) => `  ${r[0].padEnd(widths[0]!)}  ${r[1].padStart(widths[1]!)}  ${r[2]}`);
  return [title, ...lines].join('\n');
}

/** A count or rate for a table cell: rounded, with thousands separators. */
export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
