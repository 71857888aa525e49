import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { ContainerClient } from '@azure/storage-blob';
import type { S3RefusalReason } from '@logferry/shared/auth/aws-allow-list';
import type { Logger } from '@logferry/shared/logging/logger';
import {
  bareEtag,
  objectIdentity,
  objectIdentityOrKey,
  realVersionId,
  type S3ObjectMessage,
} from '@logferry/shared/messages/index';
import { FORBIDDEN_REFERENCE } from '@logferry/shared/messages/references';
import type { Route, RouteTable } from '@logferry/shared/routes/index';
import type { ObjectStatusStore } from '@logferry/shared/stores/object-status';
import type { HeldClaim, WorkClaims } from '@logferry/shared/stores/work-claim';
import type { StageMetrics } from '@logferry/shared/telemetry/metrics';
import {
  type Delivery,
  failureCode,
  type Handler,
  type Outcome,
  outcome,
  type Publisher,
} from '@logferry/shared/transport/port';
import { claimUnstaged } from './claim-unstaged.ts';
import { classifyS3Error } from './classify-error.ts';
import { isDocumentError } from './document-error.ts';
import { markFetching, reportFailure } from './record-status.ts';
import { emptyResult, type PipelineSettings, stageObject } from './stage-object.ts';

export type FetcherSettings = PipelineSettings;

export interface FetchObjectDeps {
  readonly s3: S3Client;
  readonly container: ContainerClient;
  readonly status: ObjectStatusStore;
  /** Claims on object ids: a second delivery of an object being staged waits instead of staging it again. */
  readonly claims: Pick<WorkClaims, 'acquire'>;
  readonly publisher: Publisher;
  readonly logger: Logger;
  readonly settings: FetcherSettings;
  readonly metrics?: StageMetrics;
  /**
   * Which route an object is read by (format, time field, source, stream); also the allow-list, checked again
   * here: anyone able to send to s3-objects must not make us read other buckets.
   */
  readonly routes: RouteTable;
  /**
   * Whether adx-ingester reads a source's staged batches (mappings.json maps it). A route with `adx: true`
   * says so itself; this covers the one-route configuration, where mappings.json alone decides.
   */
  readonly adxReadsSource?: (source: string) => boolean;
}

/**
 * The s3-objects handler: streams the object from S3 into staged batches and publishes them, then
 * records the object as staged. At-least-once: a crash before the status row is written makes the
 * redelivery rewrite the same blob names and republish the same batch ids (consumers skip batch ids
 * they already finished); a redelivery after it is acknowledged without work. Two deliveries at once
 * (S3 sends duplicate notifications): the object is claimed before it is read, and the delivery that
 * finds it claimed retries after the claim's lease.
 */
export function createFetchObjectHandler(deps: FetchObjectDeps): Handler<'s3-objects'> {
  const handler = async (delivery: Delivery<S3ObjectMessage>): Promise<Outcome> => {
    const result = await fetchObject(deps, delivery);
    // By code; whether it was retried or dead-lettered in the end is the transport's count.
    if (result.kind !== 'success') deps.metrics?.failure(failureCode(result));
    return result;
  };
  return handler;
}

async function fetchObject(deps: FetchObjectDeps, delivery: Delivery<S3ObjectMessage>): Promise<Outcome> {
  const { body: announced, signal } = delivery;
  const where = `s3://${announced.bucket}/${announced.key}${announced.versionId ? ` version ${announced.versionId}` : ''}`;
  const log = deps.logger.child({
    bucket: announced.bucket,
    key: announced.key,
    messageId: delivery.messageId,
    attempt: delivery.attempt,
  });
  const started = performance.now();
  const verdict = deps.routes.resolve(announced.bucket, announced.key);
  if (!verdict.allowed) {
    log.warn({ reason: verdict.reason }, 'object outside the allow-list; refused');
    return outcome.deadLetter(FORBIDDEN_REFERENCE, `${JSON.stringify(where)}: ${REFUSALS[verdict.reason]}`);
  }
  const { route } = verdict;
  const named = route.sourceOf(announced.key);
  if (!named.ok) {
    log.warn({ problem: named.problem }, "the key's first segment yields no source name; refused");
    return outcome.deadLetter(
      FORBIDDEN_REFERENCE,
      `${JSON.stringify(where)}: SOURCE_FROM_KEY_PREFIX: ${named.problem}`,
    );
  }
  const { source } = named;
  const objectId = objectIdentity(announced);
  let claim: HeldClaim | undefined;
  if (objectId !== undefined) {
    const seen = await claimUnstaged(deps, objectId, signal, log);
    if (!('claim' in seen)) return seen;
    claim = seen.claim;
  }
  const ctx: FetchContext = { log, where, source, route, started, objectId, claim };
  try {
    return await fetchClaimed(deps, delivery, ctx);
  } finally {
    await ctx.claim?.release();
  }
}

interface FetchContext {
  readonly log: Logger;
  readonly where: string;
  readonly source: string;
  readonly route: Route;
  readonly started: number;
  objectId: string | undefined;
  claim: HeldClaim | undefined;
}

async function fetchClaimed(
  deps: FetchObjectDeps,
  delivery: Delivery<S3ObjectMessage>,
  ctx: FetchContext,
): Promise<Outcome> {
  const { body: announced, signal } = delivery;
  const { log, where, source, route, started } = ctx;
  let objectId = ctx.objectId;

  if (objectId !== undefined) await markFetching(deps, log, objectId, source, signal);
  let response: GetObjectCommandOutput;
  try {
    const etag = bareEtag(announced.etag);
    response = await deps.s3.send(
      new GetObjectCommand({
        Bucket: announced.bucket,
        Key: announced.key,
        ...(announced.versionId ? { VersionId: announced.versionId } : {}),
        // Without a version id, the ETag pins the bytes the notification announced.
        ...(!announced.versionId && etag ? { IfMatch: `"${etag}"` } : {}),
      }),
      { abortSignal: signal },
    );
  } catch (err) {
    return reportFailure(deps, log, classifyS3Error(err, where), objectId, source, emptyResult());
  }
  const body = response.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
  if (!body) return outcome.retryLater('S3NoBody', `${where}: GetObject returned no body`);

  if (objectId === undefined) {
    objectId = objectIdentityOrKey({
      bucket: announced.bucket,
      key: announced.key,
      versionId: response.VersionId,
      etag: response.ETag,
    });
    const seen = await claimUnstaged(deps, objectId, signal, log);
    if (!('claim' in seen)) {
      body.destroy?.();
      return seen;
    }
    // Released by fetchObject's finally.
    ctx.claim = seen.claim;
    await markFetching(deps, log, objectId, source, signal);
  }

  const eventTime = announced.eventTime ?? response.LastModified?.toISOString() ?? new Date().toISOString();
  const result = emptyResult();
  try {
    await stageObject(
      body,
      {
        bucket: announced.bucket,
        key: announced.key,
        versionId: announced.versionId ?? realVersionId(response.VersionId),
        objectId,
        source,
        route,
        adxReads: route.adx || (deps.adxReadsSource?.(source) ?? false),
        fallbackTime: eventTime,
        blobDate: new Date(eventTime),
      },
      { container: deps.container, publisher: deps.publisher, logger: log },
      deps.settings,
      signal,
      result,
    );
  } catch (err) {
    body.destroy?.();
    if (isDocumentError(err))
      return reportFailure(
        deps,
        log,
        outcome.deadLetter(err.reason, `${where}: ${err.message}`),
        objectId,
        source,
        result,
      );
    if (signal.aborted) return outcome.retryLater('Interrupted', 'lock lost or shutting down');
    if (isS3Error(err)) return reportFailure(deps, log, classifyS3Error(err, where), objectId, source, result);
    log.warn({ err, objectId, batchesPublished: result.batchesPublished }, 'staging failed; will retry');
    return outcome.retryLater('StagingFailed', `${(err as Error).message ?? err}`.slice(0, 300));
  }

  try {
    await deps.status.markStaged(
      {
        objectId,
        source,
        batchCount: result.batches,
        recordCount: result.records,
        badRecords: result.badRecords,
        droppedRecords: result.droppedRecords,
        rawBytes: result.rawBytes,
        badSamples: result.badSamples,
      },
      { abortSignal: signal },
    );
  } catch (err) {
    // Everything is published; a retry republishes the same batch ids, which consumers skip.
    log.warn({ err, objectId }, 'could not record the object as staged; will retry');
    return outcome.retryLater('StatusTableUnavailable', 'write failed');
  }
  deps.metrics?.records(result.records);
  deps.metrics?.bytes(result.bytesIn);
  log.info(
    {
      objectId,
      source,
      route: route.name,
      format: result.format,
      compression: result.compression,
      records: result.records,
      badRecords: result.badRecords,
      badByReason: result.badByReason,
      droppedRecords: result.droppedRecords,
      timeFallbacks: result.timeFallbacks,
      batches: result.batches,
      bytesIn: result.bytesIn,
      bytesOut: result.compressedBytes,
      rawBytes: result.rawBytes,
      ms: Math.round(performance.now() - started),
    },
    'object staged',
  );
  return outcome.success();
}

/** Why an object is outside the allow-list, for the ForbiddenReference description. */
const REFUSALS: Record<S3RefusalReason, string> = {
  'bucket-not-allowed': 'bucket not in S3_ALLOWED_BUCKETS / ROUTES_FILE',
  'prefix-not-allowed': 'key not under S3_ALLOWED_PREFIXES',
  'no-route': 'no route of ROUTES_FILE claims the key',
  'ambiguous-route': 'two routes of ROUTES_FILE claim the key equally well',
};

function isS3Error(err: unknown): boolean {
  return typeof err === 'object' && err !== null && '$metadata' in err;
}
