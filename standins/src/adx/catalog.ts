import type { ColumnDef, ColumnType, KqlCommand, MappingColumn } from './kql.ts';

export type Row = Record<string, unknown>;

interface TableState {
  columns: ColumnDef[];
  rows: Row[];
  mappings: Map<string, MappingColumn[]>;
}

/** Tables, their ingestion mappings and their rows, in memory (one database). */
export class Catalog {
  readonly #tables = new Map<string, TableState>();
  readonly #maxRowsPerTable: number;

  constructor(maxRowsPerTable = 1_000_000) {
    this.#maxRowsPerTable = maxRowsPerTable;
  }

  apply(command: KqlCommand): void {
    switch (command.kind) {
      case 'create-table': {
        const existing = this.#tables.get(command.table);
        if (!existing) {
          this.#tables.set(command.table, { columns: [...command.columns], rows: [], mappings: new Map() });
          return;
        }
        if (!command.merge) throw new Error(`table ${command.table} already exists`);
        for (const column of command.columns) {
          const same = existing.columns.find((c) => c.name === column.name);
          if (same && same.type !== column.type) {
            throw new Error(`column ${column.name} of ${command.table} is ${same.type}, not ${column.type}`);
          }
          if (!same) existing.columns.push(column);
        }
        return;
      }
      case 'drop-table':
        this.#tables.delete(command.table);
        return;
      case 'create-mapping': {
        const table = this.#tables.get(command.table);
        if (!table) throw new Error(`table ${command.table} does not exist`);
        const unknown = command.columns.filter((m) => !table.columns.some((c) => c.name === m.column));
        if (unknown.length > 0) {
          throw new Error(
            `mapping ${command.name} names columns ${command.table} lacks: ${unknown.map((u) => u.column).join(', ')}`,
          );
        }
        table.mappings.set(`${command.mappingKind}:${command.name}`, command.columns);
        return;
      }
      default:
        return;
    }
  }

  columns(table: string): readonly ColumnDef[] | undefined {
    return this.#tables.get(table)?.columns;
  }

  mapping(table: string, kind: 'csv' | 'json', name: string): readonly MappingColumn[] | undefined {
    return this.#tables.get(table)?.mappings.get(`${kind}:${name}`);
  }

  tableNames(): string[] {
    return [...this.#tables.keys()];
  }

  append(table: string, rows: readonly Row[]): void {
    const state = this.#tables.get(table);
    if (!state) throw new Error(`table ${table} does not exist`);
    if (state.rows.length + rows.length > this.#maxRowsPerTable) {
      throw new Error(`table ${table} would exceed the stand-in's ${this.#maxRowsPerTable} rows`);
    }
    state.rows.push(...rows);
  }

  rows(table: string): Row[] {
    return [...(this.#tables.get(table)?.rows ?? [])];
  }

  snapshot(): Record<string, Row[]> {
    return Object.fromEntries([...this.#tables].map(([name, t]) => [name, [...t.rows]]));
  }
}

/** ADX's conversion of a source value to a column type: a value that does not convert becomes null. */
export function convertValue(value: unknown, type: ColumnType): unknown {
  if (value === undefined || value === null) return null;
  const text = typeof value === 'string' ? value : undefined;
  switch (type) {
    case 'string':
      return text ?? JSON.stringify(value);
    case 'int':
    case 'long': {
      const n =
        typeof value === 'number' ? value : text !== undefined && text.trim() !== '' ? Number(text) : Number.NaN;
      return Number.isInteger(n) ? n : null;
    }
    case 'real':
    case 'decimal': {
      const n =
        typeof value === 'number' ? value : text !== undefined && text.trim() !== '' ? Number(text) : Number.NaN;
      return Number.isFinite(n) ? n : null;
    }
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (text !== undefined && /^(true|1)$/i.test(text.trim())) return true;
      if (text !== undefined && /^(false|0)$/i.test(text.trim())) return false;
      return null;
    case 'datetime': {
      if (typeof value !== 'string' && typeof value !== 'number') return null;
      const d = new Date(value);
      return Number.isNaN(d.getTime()) ? null : d.toISOString();
    }
    case 'dynamic':
      if (text === undefined) return value;
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    default:
      return text ?? String(value);
  }
}
