import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlobStatusRow, BlobStatusStore } from '@logferry/shared/stores/blob-status';
import type { ScanRecordStore } from '../scan-records.ts';
import { isScanId } from '../scan-records.ts';
import type { Scanner } from '../scanner.ts';
import { BlobsQuery, decodePathSegment, parseQuery, readJsonBody, ScanRequest, validate } from './request-input.ts';
import { HttpError, sendJson } from './respond.ts';

export interface ApiDeps {
  readonly scanner: Pick<Scanner, 'start' | 'recent'>;
  readonly store: Pick<BlobStatusStore, 'get' | 'list' | 'countsByStatus'>;
  readonly scans: Pick<ScanRecordStore, 'get'>;
  /** The data container: the API shows its blobs only. */
  readonly container: string;
}

/**
 * POST /scans. One scan at a time per replica: the same request while an identical scan runs answers
 * 202 with that scan's id (`alreadyRunning: true`) — the caller wanted a scan and one is running; a scan
 * of another prefix answers 409 with the running scan's id.
 */
export async function postScan(deps: ApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = validate(ScanRequest, (await readJsonBody(req)) ?? {}, 'request body');
  const result = deps.scanner.start({ prefix: body.prefix, trigger: 'manual' });
  const { scan } = result;
  if (result.kind === 'busy') {
    throw new HttpError(409, 'another scan is running on this replica; try again when it ends', {
      scanId: scan.scanId,
      prefix: scan.prefix ?? null,
    });
  }
  sendJson(
    res,
    202,
    { scanId: scan.scanId, state: scan.state, prefix: scan.prefix ?? null, alreadyRunning: result.kind === 'joined' },
    { Location: `/scans/${scan.scanId}` },
  );
}

export async function getScan(deps: ApiDeps, res: ServerResponse, scanId: string): Promise<void> {
  if (!isScanId(scanId)) throw new HttpError(400, 'not a scan id');
  const scan = deps.scanner.recent(scanId) ?? (await deps.scans.get(scanId));
  if (!scan) throw new HttpError(404, 'no such scan');
  sendJson(res, 200, scan);
}

export async function listBlobs(deps: ApiDeps, res: ServerResponse, params: URLSearchParams): Promise<void> {
  const q = parseQuery(BlobsQuery, params);
  const page = await deps.store.list({
    container: deps.container,
    pageSize: q.pageSize,
    ...(q.status ? { status: q.status } : {}),
    ...(q.prefix ? { prefix: q.prefix } : {}),
    ...(q.continuationToken ? { continuationToken: q.continuationToken } : {}),
  });
  sendJson(res, 200, {
    items: page.rows.map(withoutHistory),
    pageSize: q.pageSize,
    continuationToken: page.continuationToken ?? null,
  });
}

export async function getBlob(deps: ApiDeps, res: ServerResponse, encodedName: string): Promise<void> {
  const name = decodePathSegment(encodedName, 'blob name', 1024);
  const row = await deps.store.get(deps.container, name);
  if (!row) throw new HttpError(404, 'no status for this blob');
  sendJson(res, 200, row);
}

export async function getCounts(deps: ApiDeps, res: ServerResponse): Promise<void> {
  const counts = await deps.store.countsByStatus({ container: deps.container });
  sendJson(res, 200, { container: deps.container, counts });
}

/** List rows leave history out (up to 20 entries each); GET /blobs/{name} has it. */
function withoutHistory(row: BlobStatusRow): Omit<BlobStatusRow, 'history'> {
  const { history: _history, ...rest } = row;
  return rest;
}
