import type { ServerResponse } from 'node:http';
import type { ServiceBusClient } from '@azure/service-bus';
import { bodyText, peekDeadLetters, peekFromStart } from '@logferry/shared/dead-letters/inspect';
import type { BatchStatusRow, BatchStatusStore } from '@logferry/shared/stores/batch-status';
import type { ObjectStatus, ObjectStatusStore } from '@logferry/shared/stores/object-status';
import { z } from 'zod';
import { BlobsQuery, decodePathSegment, parseQuery } from './request-input.ts';
import { HttpError, sendJson } from './respond.ts';

/** What the page shows for an S3 object: the stored state, read together with its batches' uploads. */
export const OBJECT_VIEW_STATUSES = [
  'announced',
  'fetching',
  'staged',
  'uploaded',
  'dead-lettered',
  'skipped',
] as const;
export type ObjectViewStatus = (typeof OBJECT_VIEW_STATUSES)[number];

export interface ObjectsDeps {
  readonly objects: Pick<ObjectStatusStore, 'get' | 'list'>;
  readonly batches: Pick<BatchStatusStore, 'listForObjects'>;
  readonly serviceBus: ServiceBusClient;
}

const S3_OBJECTS = { topic: 's3-objects', subscription: 's3-fetcher' } as const;
/** Dead letters looked through for an object's own (its detail view links to it). */
const DEAD_LETTER_SEARCH = 1_000;

const ObjectsQuery = BlobsQuery.extend({ status: z.enum(OBJECT_VIEW_STATUSES).optional() });

/** Which stored state a view status is read from (the rest is told apart by the batches). */
const STORED: Record<ObjectViewStatus, ObjectStatus['state'] | undefined> = {
  announced: undefined,
  fetching: 'fetching',
  staged: 'staged',
  uploaded: 'staged',
  skipped: 'staged',
  'dead-lettered': 'failed',
};

export async function listObjects(deps: ObjectsDeps, res: ServerResponse, params: URLSearchParams): Promise<void> {
  const q = parseQuery(ObjectsQuery, params);
  if (q.status === 'announced') {
    sendJson(res, 200, {
      items: await announced(deps, q.pageSize, q.prefix),
      pageSize: q.pageSize,
      continuationToken: null,
    });
    return;
  }
  const state = q.status ? STORED[q.status] : undefined;
  const page = await deps.objects.list({
    pageSize: q.pageSize,
    ...(state ? { state } : {}),
    ...(q.prefix ? { prefix: q.prefix } : {}),
    ...(q.continuationToken ? { continuationToken: q.continuationToken } : {}),
  });
  const batches = await deps.batches.listForObjects(page.rows.map((r) => r.objectId));
  const rows = page.rows
    .map((r) =>
      toView(
        r,
        batches.filter((b) => b.objectId === r.objectId),
      ),
    )
    // staged, uploaded and skipped share a stored state: the page narrows to the one asked for.
    .filter((i) => !q.status || i.status === q.status);
  // Objects still waiting on s3-objects have no row yet: the first unfiltered page shows them on top.
  const waiting = !q.status && !q.continuationToken ? await announced(deps, 20, q.prefix) : [];
  sendJson(res, 200, {
    items: [...waiting, ...rows],
    pageSize: q.pageSize,
    continuationToken: page.continuationToken ?? null,
  });
}

export async function getObject(deps: ObjectsDeps, res: ServerResponse, encodedId: string): Promise<void> {
  const id = decodePathSegment(encodedId, 'object id', 2048);
  const row = await deps.objects.get(id);
  if (!row) throw new HttpError(404, 'no status for this object');
  const view = toView(row, await deps.batches.listForObjects([id]));
  const deadLetter = view.status === 'dead-lettered' ? await findDeadLetter(deps, row.objectId) : undefined;
  sendJson(res, 200, { ...view, ...(deadLetter ? { deadLetter } : {}) });
}

export function toView(row: ObjectStatus, batches: readonly BatchStatusRow[]) {
  const uploaded = batches.filter((b) => b.status === 'uploaded');
  const status: ObjectViewStatus =
    row.state === 'failed'
      ? 'dead-lettered'
      : row.state === 'fetching'
        ? 'fetching'
        : row.recordCount === 0
          ? 'skipped'
          : uploaded.length >= row.batchCount
            ? 'uploaded'
            : 'staged';
  const uploadedAt = uploaded
    .map((b) => b.uploadedAt ?? b.updatedAt)
    .sort()
    .at(-1);
  const history = [
    ...(row.fetchingAt ? [{ at: row.fetchingAt, status: 'fetching', detail: `attempt ${row.attempts ?? 1}` }] : []),
    ...(row.stagedAt ? [{ at: row.stagedAt, status: 'staged', detail: `${row.batchCount} batch(es)` }] : []),
    ...(row.failedAt ? [{ at: row.failedAt, status: 'dead-lettered', detail: row.reason ?? '' }] : []),
    ...(uploadedAt && status === 'uploaded'
      ? [{ at: uploadedAt, status: 'uploaded', detail: `${uploaded.reduce((n, b) => n + b.records, 0)} records` }]
      : []),
  ].sort((a, b) => (a.at < b.at ? -1 : 1));
  return {
    ...row,
    status,
    streams: [...new Set(batches.map((b) => b.stream).filter(Boolean))],
    batchesUploaded: uploaded.length,
    recordsUploaded: uploaded.reduce((n, b) => n + b.records, 0),
    ...(uploadedAt ? { uploadedAt } : {}),
    history,
  };
}

/** Objects announced on s3-objects and not yet taken: peeked, so nothing is locked or counted as a delivery. */
async function announced(deps: ObjectsDeps, max: number, prefix: string | undefined) {
  const messages = await peekFromStart(deps.serviceBus, S3_OBJECTS, Math.min(max, 100));
  return messages.flatMap((m) => {
    const body = parseObjectMessage(bodyText(m.body));
    if (!body) return [];
    const objectId = `${body.bucket}/${body.key}`;
    if (prefix && !objectId.startsWith(prefix)) return [];
    return [{ objectId, status: 'announced' as const, updatedAt: m.enqueuedTimeUtc?.toISOString() ?? null }];
  });
}

/** The object's message in s3-fetcher's dead-letter queue, for the page's link to it. */
async function findDeadLetter(deps: ObjectsDeps, objectId: string) {
  const messages = await peekDeadLetters(deps.serviceBus, S3_OBJECTS, DEAD_LETTER_SEARCH);
  for (const m of messages) {
    const body = parseObjectMessage(bodyText(m.body));
    if (body && objectId.startsWith(`${body.bucket}/${body.key}@`)) {
      return { subscription: `${S3_OBJECTS.topic}/${S3_OBJECTS.subscription}`, messageId: String(m.messageId ?? '') };
    }
  }
  return undefined;
}

function parseObjectMessage(text: string): { bucket: string; key: string } | undefined {
  let v: { bucket?: unknown; key?: unknown } | null;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof v?.bucket === 'string' && typeof v.key === 'string' ? { bucket: v.bucket, key: v.key } : undefined;
}
