import { z } from 'zod';

/** An S3 object a notification announces, with its key already decoded. */
export interface AnnouncedObject {
  readonly bucket: string;
  readonly key: string;
  readonly size?: number | undefined;
  readonly etag?: string | undefined;
  readonly versionId?: string | undefined;
  readonly sequencer?: string | undefined;
  readonly eventTime?: string | undefined;
}

export type Origin = 's3-notification' | 'sns' | 'eventbridge';

/** What to do with one record of a notification. */
export type RecordVerdict =
  | { readonly verdict: 'object'; readonly object: AnnouncedObject }
  /** Acknowledge and drop (test event, deletions, other event types). */
  | { readonly verdict: 'ignore'; readonly reason: string; readonly detail?: string }
  /** Shaped like a notification but unreadable: redelivery cannot fix it. */
  | { readonly verdict: 'poison'; readonly reason: string };

export type ParsedBody =
  | { readonly kind: 'notification'; readonly origin: Origin; readonly records: readonly RecordVerdict[] }
  | { readonly kind: 'not-a-notification'; readonly reason: string };

// Lenient at the boundary: unknown fields are ignored, only what we use is checked.
// Limits mirror S3's (key ≤ 1024 bytes of UTF-8, so ≤ 3 × 1024 percent-encoded characters).
const s3Record = z.object({
  eventName: z.string().max(128),
  eventTime: z.string().max(64).optional(),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1).max(255) }),
    object: z.object({
      key: z
        .string()
        .min(1)
        .max(3 * 1024),
      size: z.number().int().nonnegative().optional(),
      eTag: z.string().max(128).optional(),
      versionId: z.string().max(1024).optional(),
      sequencer: z.string().max(128).optional(),
    }),
  }),
});

const eventBridgeDetail = z.object({
  bucket: z.object({ name: z.string().min(1).max(255) }),
  object: z.object({
    key: z.string().min(1).max(1024),
    size: z.number().int().nonnegative().optional(),
    etag: z.string().max(128).optional(),
    'version-id': z.string().max(1024).optional(),
    sequencer: z.string().max(128).optional(),
  }),
});

type Json = Record<string, unknown>;

/** Turns an SQS message body into what it announces: direct S3, SNS-wrapped, EventBridge, or a test event. */
export function parseNotification(body: string): ParsedBody {
  const doc = parseObject(body);
  if (doc === undefined) return { kind: 'not-a-notification', reason: 'body is not a JSON object' };
  if (doc.Type === 'Notification' && typeof doc.Message === 'string') {
    const inner = parseObject(doc.Message);
    if (inner === undefined) return { kind: 'not-a-notification', reason: 'SNS Message is not a JSON object' };
    const parsed = parseUnwrapped(inner);
    return parsed.kind === 'notification' ? { ...parsed, origin: 'sns' } : parsed;
  }
  if (doc.Type === 'SubscriptionConfirmation' || doc.Type === 'UnsubscribeConfirmation') {
    return {
      kind: 'notification',
      origin: 'sns',
      records: [{ verdict: 'ignore', reason: 'sns-subscription-message', detail: String(doc.Type) }],
    };
  }
  return parseUnwrapped(doc);
}

function parseUnwrapped(doc: Json): ParsedBody {
  if (doc.Event === 's3:TestEvent') {
    return { kind: 'notification', origin: 's3-notification', records: [{ verdict: 'ignore', reason: 'test-event' }] };
  }
  if (Array.isArray(doc.Records)) {
    return { kind: 'notification', origin: 's3-notification', records: doc.Records.map(s3RecordVerdict) };
  }
  if (doc.source === 'aws.s3' && typeof doc['detail-type'] === 'string') {
    return { kind: 'notification', origin: 'eventbridge', records: [eventBridgeVerdict(doc)] };
  }
  return { kind: 'not-a-notification', reason: 'unknown shape (not an S3, SNS or EventBridge notification)' };
}

function s3RecordVerdict(raw: unknown): RecordVerdict {
  const r = s3Record.safeParse(raw);
  if (!r.success) return { verdict: 'poison', reason: `S3 record: ${firstIssue(r.error)}` };
  const { eventName, eventTime, s3 } = r.data;
  if (!/^(s3:)?ObjectCreated:/.test(eventName)) {
    return { verdict: 'ignore', reason: 'not-object-created', detail: eventName };
  }
  const key = formDecode(s3.object.key);
  if (key === undefined) return { verdict: 'poison', reason: 'S3 record: key has a malformed percent-escape' };
  if (Buffer.byteLength(key) > 1024) return { verdict: 'poison', reason: 'S3 record: key longer than 1024 bytes' };
  return {
    verdict: 'object',
    object: {
      bucket: s3.bucket.name,
      key,
      size: s3.object.size,
      etag: s3.object.eTag,
      versionId: s3.object.versionId,
      sequencer: s3.object.sequencer,
      eventTime: normalizeTime(eventTime),
    },
  };
}

function eventBridgeVerdict(doc: Json): RecordVerdict {
  const detailType = String(doc['detail-type']);
  if (detailType !== 'Object Created') return { verdict: 'ignore', reason: 'not-object-created', detail: detailType };
  const d = eventBridgeDetail.safeParse(doc.detail);
  if (!d.success) return { verdict: 'poison', reason: `EventBridge detail: ${firstIssue(d.error)}` };
  const { bucket, object } = d.data;
  // EventBridge carries the key as is: no form decoding.
  return {
    verdict: 'object',
    object: {
      bucket: bucket.name,
      key: object.key,
      size: object.size,
      etag: object.etag,
      versionId: object['version-id'],
      sequencer: object.sequencer,
      eventTime: normalizeTime(typeof doc.time === 'string' ? doc.time : undefined),
    },
  };
}

/** S3 notification keys are form-encoded: `+` is a space, then percent-decoding. Undefined when malformed. */
export function formDecode(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function parseObject(text: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

// A time we cannot read is dropped rather than poisoning the record: the object is still worth fetching.
function normalizeTime(t: string | undefined): string | undefined {
  if (t === undefined) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
}
