import { createHash } from 'node:crypto';
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import type { S3AllowList } from '@logferry/shared/auth/aws-allow-list';
import { bareEtag, objectIdentityOrKey, type S3ObjectMessage, s3ObjectMessage } from '@logferry/shared/messages/index';
import type { Publisher } from '@logferry/shared/transport/port';

export interface BackfillOptions {
  readonly bucket: string;
  readonly prefix: string;
  readonly since?: Date;
  readonly until?: Date;
  readonly dryRun: boolean;
  readonly batchSize: number;
  readonly progressEvery: number;
  readonly allowList: S3AllowList;
  readonly onProgress?: (s: BackfillSummary) => void;
  /** Called per object that would be (dry run) or was published. */
  readonly onObject?: (key: string, size: number, lastModified: Date | undefined) => void;
  readonly now?: () => Date;
}

export interface BackfillSummary {
  listed: number;
  matched: number;
  published: number;
  /** Outside --since/--until, folder markers. */
  skipped: number;
  /** Outside the allow-list's prefixes: never published (s3-fetcher would refuse them anyway). */
  refused: number;
  failed: number;
  error?: string;
}

const PUBLISH_ATTEMPTS = 3;

/** The same identity s3-fetcher dedupes on (`bucket/key@etag`), so a backfilled object already fetched is skipped there. */
export function backfillMessage(
  bucket: string,
  key: string,
  size: number,
  etag: string | undefined,
  lastModified: Date | undefined,
  now: Date,
): S3ObjectMessage {
  const bare = bareEtag(etag);
  const identity = objectIdentityOrKey({ bucket, key, etag: bare });
  return s3ObjectMessage(
    { id: `backfill-${createHash('sha256').update(identity).digest('hex')}`, producer: 'cli', now },
    {
      bucket,
      key,
      size,
      ...(bare ? { etag: bare } : {}),
      ...(lastModified ? { eventTime: lastModified.toISOString() } : {}),
      origin: 'backfill',
    },
  );
}

/**
 * Whether an object last modified at `modified` falls in [since, until) (S3 LastModified, what --since/--until
 * filter on). With either bound set, an object without LastModified is outside: its age is unknown.
 */
export function inTimeWindow(modified: Date | undefined, since?: Date, until?: Date): boolean {
  if (!since && !until) return true;
  if (modified === undefined) return false;
  return (!since || modified.getTime() >= since.getTime()) && (!until || modified.getTime() < until.getTime());
}

/**
 * Lists the prefix page by page (memory bounded by the page and one publish batch, whatever the bucket's
 * size), keeps objects modified in [since, until), and publishes them to `s3-objects` as if SQS had announced
 * them. A batch that fails to publish is retried; if it still fails the backfill stops and reports how far it got.
 */
export async function backfill(s3: S3Client, publisher: Publisher, options: BackfillOptions): Promise<BackfillSummary> {
  const s: BackfillSummary = { listed: 0, matched: 0, published: 0, skipped: 0, refused: 0, failed: 0 };
  const now = options.now ?? (() => new Date());
  let batch: S3ObjectMessage[] = [];
  let nextProgress = options.progressEvery;
  const flush = async () => {
    if (batch.length === 0 || options.dryRun) {
      batch = [];
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await publisher.publish('s3-objects', batch);
        s.published += batch.length;
        batch = [];
        return;
      } catch (err) {
        if (attempt >= PUBLISH_ATTEMPTS) {
          s.failed += batch.length;
          s.error = (err as Error).message;
          batch = [];
          throw err;
        }
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      }
    }
  };
  try {
    const pages = paginateListObjectsV2(
      { client: s3, pageSize: 1000 },
      { Bucket: options.bucket, Prefix: options.prefix || undefined },
    );
    for await (const page of pages) {
      for (const obj of page.Contents ?? []) {
        s.listed += 1;
        const key = obj.Key ?? '';
        const modified = obj.LastModified;
        if (
          !key ||
          (key.endsWith('/') && (obj.Size ?? 0) === 0) ||
          !inTimeWindow(modified, options.since, options.until)
        ) {
          s.skipped += 1;
          continue;
        }
        if (!options.allowList.check(options.bucket, key).allowed) {
          s.refused += 1;
          continue;
        }
        s.matched += 1;
        options.onObject?.(key, obj.Size ?? 0, modified);
        batch.push(backfillMessage(options.bucket, key, obj.Size ?? 0, obj.ETag, modified, now()));
        if (batch.length >= options.batchSize) await flush();
        if (s.listed >= nextProgress) {
          nextProgress += options.progressEvery;
          options.onProgress?.(s);
        }
      }
    }
    await flush();
  } catch (err) {
    s.error ??= (err as Error).message;
  }
  return s;
}
