import { createHash } from 'node:crypto';
import { objectIdentityOrKey, S3ObjectMessage, s3ObjectMessage } from '@logferry/shared/messages/index';
import type { AnnouncedObject, Origin } from './parse-notification.ts';

/**
 * Message id for one announcement: a hash of the identity plus the sequencer, so a redelivered
 * notification yields the same id (downstream dedupe) while a later overwrite of the same key
 * without versioning (new sequencer) does not. Hashing keeps it under the 256-character id limit.
 */
export function announcementId(announced: AnnouncedObject): string {
  const digest = createHash('sha256')
    .update(`${objectIdentityOrKey(announced)}#${announced.sequencer ?? ''}`)
    .digest('hex');
  return `s3obj-${digest}`;
}

export type BuildResult =
  | { readonly ok: true; readonly message: S3ObjectMessage }
  | { readonly ok: false; readonly reason: string };

/** Builds the `s3-objects` message and checks it against the topic's schema, so a bad record never fails a publish. */
export function toS3ObjectMessage(announced: AnnouncedObject, origin: Origin, now: Date): BuildResult {
  const candidate = s3ObjectMessage(
    { id: announcementId(announced), producer: 'sqs-poller', now },
    {
      bucket: announced.bucket,
      key: announced.key,
      origin,
      ...(announced.size !== undefined ? { size: announced.size } : {}),
      ...(announced.etag !== undefined ? { etag: announced.etag } : {}),
      ...(announced.versionId !== undefined ? { versionId: announced.versionId } : {}),
      ...(announced.sequencer !== undefined ? { sequencer: announced.sequencer } : {}),
      ...(announced.eventTime !== undefined ? { eventTime: announced.eventTime } : {}),
    },
  );
  const r = S3ObjectMessage.safeParse(candidate);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, reason: `does not fit s3-objects: ${issue?.path.join('.')}: ${issue?.message}` };
  }
  return { ok: true, message: r.data };
}
