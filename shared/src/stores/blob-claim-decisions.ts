import {
  type BlobRef,
  type Decision,
  freshRow,
  leaseEnd,
  movedRow,
  type RowPolicy,
  requeuedRow,
} from './blob-row-rules.ts';
import { claimLapsed, isRetryable } from './blob-scan-view.ts';
import { type BlobStatusRow, ERROR_LIMIT, storedText } from './blob-status-model.ts';

// The scanner's side of a row: claim a blob version for queueing, then mark its ingest request published
// (or release the claim when the publish failed), or record a version it will not queue.

/**
 * Claims when the row is missing, the blob's etag/size changed, its claim lapsed unpublished, or it failed
 * retryably or went unknown with attempts left.
 */
export function decideClaim(
  current: BlobStatusRow | undefined,
  at: string,
  blob: BlobRef,
  claim: { readonly scanId: string; readonly maxAttempts: number },
  policy: RowPolicy,
): Decision {
  if (!current || current.etag !== blob.etag || current.size !== blob.size) {
    const reason = current ? 'blob changed' : 'new blob';
    return { write: freshRow(blob, 'queued', claim, at, reason, current, policy) };
  }
  if (claimLapsed(current, at, policy.claimLeaseMs)) {
    // Its claimer never published (crashed, or the publish failed): ours now, and the attempt is not spent.
    const reason = `claimed again (scan ${claim.scanId}): its ingest request was never published`;
    const row = { ...current, scanId: claim.scanId, claimExpiresAt: leaseEnd(at, policy) };
    return { write: movedRow(row, 'queued', at, reason) };
  }
  if (!isRetryable(current, policy.defaultMaxAttempts)) return { keep: `status ${current.status}` };
  return { write: requeuedRow(current, at, `retry (scan ${claim.scanId})`, claim.scanId, policy) };
}

/** The claimed attempt's ingest request is on the bus. */
export function decidePublished(current: BlobStatusRow, at: string, claimed: BlobStatusRow): Decision {
  if (current.attempts !== claimed.attempts || current.publishedAt) return { keep: 'already published or moved on' };
  return { write: { ...current, publishedAt: at, claimExpiresAt: undefined } };
}

/** The publish failed: the claim lapses now, so the next scan claims the row again without spending an attempt. */
export function decideReleaseClaim(current: BlobStatusRow, at: string, reason: string): Decision {
  if (current.publishedAt) return { keep: 'already published' };
  return { write: { ...current, claimExpiresAt: at, lastError: storedText(reason, ERROR_LIMIT) } };
}

/** A version the scanner will not queue (e.g. 0 bytes) ends `skipped`, recorded once per version. */
export function decideSkippedVersion(
  current: BlobStatusRow | undefined,
  at: string,
  blob: BlobRef,
  scanId: string,
  reason: string,
  policy: RowPolicy,
): Decision {
  if (current && current.etag === blob.etag && current.size === blob.size) return { keep: `status ${current.status}` };
  const row = freshRow(blob, 'skipped', { scanId, maxAttempts: 0 }, at, reason, current, policy);
  return { write: { ...row, attempts: 0, lastError: reason, finishedAt: at } };
}
