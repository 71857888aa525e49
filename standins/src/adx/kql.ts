/**
 * The management commands the stand-in understands, in the syntax a user runs on a real cluster:
 *   .create table T (c: type, …)   .create-merge table T (…)   .drop table T [ifexists]
 *   .create|.create-or-alter|.alter table T ingestion csv|json mapping 'name' '<mapping JSON>'
 *   .get ingestion resources        .get kusto identity token       .show tables
 */
export type KqlCommand =
  | { kind: 'create-table'; table: string; columns: ColumnDef[]; merge: boolean }
  | { kind: 'drop-table'; table: string }
  | { kind: 'create-mapping'; table: string; mappingKind: 'csv' | 'json'; name: string; columns: MappingColumn[] }
  | { kind: 'get-ingestion-resources' }
  | { kind: 'get-identity-token' }
  | { kind: 'show-tables' };

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
}

export const COLUMN_TYPES = [
  'string',
  'int',
  'long',
  'real',
  'decimal',
  'bool',
  'datetime',
  'timespan',
  'dynamic',
  'guid',
] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

const TYPE_ALIASES: Record<string, ColumnType> = {
  double: 'real',
  boolean: 'bool',
  date: 'datetime',
  time: 'timespan',
  uniqueid: 'guid',
  int32: 'int',
  int64: 'long',
};

export interface MappingColumn {
  readonly column: string;
  /** CSV: field index. */
  readonly ordinal?: number;
  /** JSON: `$.a.b` / `$['a b']` / `$`. */
  readonly path?: string;
  readonly constValue?: string;
}

export class KqlSyntaxError extends Error {
  override name = 'KqlSyntaxError';
}

const IDENT = '([A-Za-z_][A-Za-z0-9_]*|\\[\'[^\']+\'\\]|\\["[^"]+"\\])';

export function parseCommand(csl: string): KqlCommand {
  const text = csl.trim();
  if (/^\.get\s+ingestion\s+resources\b/i.test(text)) return { kind: 'get-ingestion-resources' };
  if (/^\.get\s+kusto\s+identity\s+token\s*$/i.test(text)) return { kind: 'get-identity-token' };
  if (/^\.show\s+tables\s*$/i.test(text)) return { kind: 'show-tables' };
  const drop = new RegExp(`^\\.drop\\s+table\\s+${IDENT}(\\s+ifexists)?\\s*$`, 'i').exec(text);
  if (drop) return { kind: 'drop-table', table: unquote(drop[1] ?? '') };
  const mapping = new RegExp(
    `^\\.(create|create-or-alter|alter)\\s+table\\s+${IDENT}\\s+ingestion\\s+(csv|json)\\s+mapping\\s+`,
    'i',
  ).exec(text);
  if (mapping) {
    const [name, afterName] = readLiteral(text, mapping[0].length);
    const [json, end] = readLiteral(text, afterName);
    if (text.slice(end).trim() !== '') throw new KqlSyntaxError('unexpected text after the mapping literal');
    const kind = (mapping[3] ?? '').toLowerCase() as 'csv' | 'json';
    return {
      kind: 'create-mapping',
      table: unquote(mapping[2] ?? ''),
      mappingKind: kind,
      name,
      columns: parseMapping(json, kind),
    };
  }
  const table = new RegExp(
    `^\\.(create|create-merge|create-or-alter)\\s+table\\s+${IDENT}\\s*\\(([\\s\\S]*)\\)\\s*$`,
    'i',
  ).exec(text);
  if (table) {
    return {
      kind: 'create-table',
      table: unquote(table[2] ?? ''),
      columns: parseColumns(table[3] ?? ''),
      merge: (table[1] ?? '').toLowerCase() !== 'create',
    };
  }
  throw new KqlSyntaxError(`unsupported command: ${text.slice(0, 80)}`);
}

/** Splits a .kql file into commands: blocks separated by blank lines, `//` comment lines dropped. */
export function splitKqlScript(script: string): string[] {
  const commands: string[] = [];
  let current: string[] = [];
  let inFence = false;
  for (const line of script.split(/\r?\n/)) {
    const fences = (line.match(/```/g) ?? []).length;
    if (!inFence && line.trim() === '') {
      if (current.length > 0) commands.push(current.join('\n'));
      current = [];
    } else if (inFence || !line.trim().startsWith('//')) {
      current.push(line);
    }
    if (fences % 2 === 1) inFence = !inFence;
  }
  if (current.length > 0) commands.push(current.join('\n'));
  return commands;
}

function unquote(identifier: string): string {
  const m = /^\[['"](.+)['"]\]$/.exec(identifier);
  return m?.[1] ?? identifier;
}

function parseColumns(text: string): ColumnDef[] {
  const columns = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const m = new RegExp(`^${IDENT}\\s*:\\s*([A-Za-z0-9]+)$`).exec(part);
      if (!m) throw new KqlSyntaxError(`bad column definition: ${part}`);
      const raw = (m[2] ?? '').toLowerCase();
      const type = (COLUMN_TYPES as readonly string[]).includes(raw) ? (raw as ColumnType) : TYPE_ALIASES[raw];
      if (!type) throw new KqlSyntaxError(`unknown column type ${raw}`);
      return { name: unquote(m[1] ?? ''), type };
    });
  if (columns.length === 0) throw new KqlSyntaxError('a table needs at least one column');
  return columns;
}

/** Reads a KQL string literal ('…', "…", @'…', @"…", ```…```) at `from`; returns its value and the end index. */
export function readLiteral(text: string, from: number): [string, number] {
  let i = from;
  while (i < text.length && /\s/.test(text[i] ?? '')) i++;
  if (text.startsWith('```', i)) {
    const end = text.indexOf('```', i + 3);
    if (end < 0) throw new KqlSyntaxError('unterminated ``` literal');
    return [text.slice(i + 3, end), end + 3];
  }
  const verbatim = text[i] === '@';
  if (verbatim) i++;
  const quote = text[i];
  if (quote !== "'" && quote !== '"') throw new KqlSyntaxError(`expected a string literal at ${i}`);
  let out = '';
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === quote) return [out, j + 1];
    if (c === '\\' && !verbatim) {
      const next = text[++j] ?? '';
      out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
    } else {
      out += c;
    }
  }
  throw new KqlSyntaxError('unterminated string literal');
}

function parseMapping(json: string, kind: 'csv' | 'json'): MappingColumn[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new KqlSyntaxError(`mapping is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new KqlSyntaxError('a mapping is a non-empty JSON array');
  return parsed.map((item: unknown) => {
    const entry = lowerKeys(item);
    const props = lowerKeys(entry.properties);
    const column = entry.column ?? entry.name;
    if (typeof column !== 'string' || column === '') throw new KqlSyntaxError('every mapping entry needs "column"');
    const constValue = props.constvalue ?? entry.constvalue;
    if (typeof constValue === 'string') return { column, constValue };
    if (kind === 'csv') {
      const ordinal = Number(props.ordinal ?? entry.ordinal);
      if (!Number.isInteger(ordinal) || ordinal < 0)
        throw new KqlSyntaxError(`column ${column}: Ordinal must be an integer ≥ 0`);
      return { column, ordinal };
    }
    const path = props.path ?? entry.path;
    if (typeof path !== 'string' || !path.startsWith('$'))
      throw new KqlSyntaxError(`column ${column}: Path must start with $`);
    return { column, path };
  });
}

function lowerKeys(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
}
