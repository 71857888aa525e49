import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readJsonBody, sendJson } from '../http-json.ts';
import type { Catalog } from './catalog.ts';
import { type ColumnType, KqlSyntaxError, parseCommand } from './kql.ts';
import type { StorageRoots } from './storage.ts';
import type { AdxFaults } from './worker.ts';

interface ResultTable {
  readonly columns: readonly { name: string; type: ColumnType }[];
  readonly rows: readonly unknown[][];
}

const DOTNET_TYPES: Record<ColumnType, string> = {
  string: 'String',
  int: 'Int32',
  long: 'Int64',
  real: 'Double',
  decimal: 'Decimal',
  bool: 'Boolean',
  datetime: 'DateTime',
  timespan: 'TimeSpan',
  dynamic: 'Object',
  guid: 'Guid',
};

export interface HttpDeps {
  readonly catalog: Catalog;
  readonly roots: StorageRoots;
  readonly faults: () => AdxFaults;
}

/**
 * Kusto's REST surface as azure-kusto-data uses it: auth metadata, v1 management, v1 and v2 queries; plus
 * `GET /stand-in/tables` (rows per table) for the local run's status page.
 */
export function createAdxServer(deps: HttpDeps): Server {
  return createServer((req, res) => {
    handle(req, res, deps).catch((error: unknown) => sendError(res, 500, 'General_InternalServerError', String(error)));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: HttpDeps): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method === 'GET' && path === '/v1/rest/auth/metadata') {
    // Kusto clients fall back to public-cloud defaults on 404; a local endpoint has no AAD to describe.
    return sendError(res, 404, 'NotFound', 'no auth metadata on the stand-in');
  }
  if (req.method === 'GET' && path === '/stand-in/tables') {
    // Read-only stats for the local run's status page (Kusto has no such route): rows per table, by name.
    const tables = deps.catalog
      .tableNames()
      .sort()
      .map((table) => ({ table, rows: deps.catalog.rows(table).length }));
    return sendJson(res, 200, { tables });
  }
  if (req.method !== 'POST' || !['/v1/rest/mgmt', '/v1/rest/query', '/v2/rest/query'].includes(path)) {
    return sendError(res, 404, 'NotFound', `${req.method} ${path} is not served`);
  }
  const body = await readJsonObject(req);
  const csl = typeof body?.csl === 'string' ? body.csl : undefined;
  if (csl === undefined) return sendError(res, 400, 'BadRequest', 'the request body needs "csl"');
  const status = deps.faults().mgmtStatus;
  if (status !== undefined) return sendError(res, status, 'InjectedFault', `injected HTTP ${status}`);
  try {
    const table = path === '/v1/rest/mgmt' ? management(csl, deps) : query(csl, deps.catalog);
    return sendJson(res, 200, path.startsWith('/v2') ? v2Frames(table) : v1Tables(table));
  } catch (error) {
    const code = error instanceof KqlSyntaxError ? 'SyntaxError' : 'BadRequest';
    return sendError(res, 400, code, (error as Error).message);
  }
}

function management(csl: string, deps: HttpDeps): ResultTable {
  const command = parseCommand(csl);
  const { roots, catalog } = deps;
  if (command.kind === 'get-ingestion-resources') {
    const rows: [string, string][] = [
      ['SecuredReadyForAggregationQueue', roots.ingestionQueue],
      ['SuccessfulIngestionsQueue', roots.successQueue],
      ['FailedIngestionsQueue', roots.failureQueue],
      ['TempStorage', roots.tempContainer],
      ['IngestionsStatusTable', roots.statusTable],
    ];
    return {
      columns: [
        { name: 'ResourceTypeName', type: 'string' },
        { name: 'StorageRoot', type: 'string' },
      ],
      rows,
    };
  }
  if (command.kind === 'get-identity-token') {
    return {
      columns: [{ name: 'AuthorizationContext', type: 'string' }],
      rows: [[`standin-identity-token-${randomUUID()}`]],
    };
  }
  if (command.kind === 'show-tables') {
    return { columns: [{ name: 'TableName', type: 'string' }], rows: catalog.tableNames().map((t) => [t]) };
  }
  catalog.apply(command);
  return { columns: [{ name: 'Result', type: 'string' }], rows: [['OK']] };
}

/** `T`, `T | count`, `T | take N` / `T | limit N`. */
function query(csl: string, catalog: Catalog): ResultTable {
  const m = /^\s*\[?'?([A-Za-z_][A-Za-z0-9_]*)'?\]?\s*(?:\|\s*(count|take|limit)\s*(\d+)?\s*)?;?\s*$/i.exec(csl);
  if (!m)
    throw new KqlSyntaxError(`the stand-in answers only "T", "T | count" and "T | take N", not: ${csl.slice(0, 80)}`);
  const table = m[1] ?? '';
  const columns = catalog.columns(table);
  if (!columns) throw new Error(`Failed to resolve table or column expression named '${table}'`);
  const rows = catalog.rows(table);
  if (m[2]?.toLowerCase() === 'count') return { columns: [{ name: 'Count', type: 'long' }], rows: [[rows.length]] };
  const limit = m[3] === undefined ? rows.length : Number(m[3]);
  return { columns, rows: rows.slice(0, limit).map((r) => columns.map((c) => r[c.name] ?? null)) };
}

function v1Tables(table: ResultTable): unknown {
  return {
    Tables: [
      {
        TableName: 'Table_0',
        Columns: table.columns.map((c) => ({ ColumnName: c.name, DataType: DOTNET_TYPES[c.type], ColumnType: c.type })),
        Rows: table.rows,
      },
    ],
  };
}

function v2Frames(table: ResultTable): unknown {
  return [
    { FrameType: 'DataSetHeader', IsProgressive: false, Version: 'v2.0' },
    {
      FrameType: 'DataTable',
      TableId: 0,
      TableKind: 'PrimaryResult',
      TableName: 'PrimaryResult',
      Columns: table.columns.map((c) => ({ ColumnName: c.name, ColumnType: c.type })),
      Rows: table.rows,
    },
    { FrameType: 'DataSetCompletion', HasErrors: false, Cancelled: false },
  ];
}

async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const parsed = await readJsonBody(req);
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) return void res.end();
  sendJson(res, status, {
    error: {
      code,
      message,
      '@type': 'Kusto.Data.Exceptions.KustoException',
      '@message': message,
      '@permanent': status < 500,
    },
  });
}
