import { gzipSync } from 'node:zlib';
import { expectedRecordKey, type Multiset, type Rec } from './s3-records.ts';

/**
 * The mixed corpus of the S3 → Log Analytics end-to-end tests: every document shape s3-fetcher reads,
 * keys that need form-encoding, every notification shape sqs-poller understands, and the poison cases.
 * Deterministic, so a failure names the same records on every run.
 */

export interface CorpusObject {
  readonly bucket: string;
  readonly key: string;
  readonly body: Buffer;
  /** The records the sink must end up holding for this object (none for poison). */
  readonly records: readonly Rec[];
  readonly shape: string;
}

/** A notification to put on the queue, built once the objects' ETags are known. */
export type Notification = (etags: ReadonlyMap<string, string>) => string;

/** Dead letters the s3-objects/s3-fetcher subscription must hold: reason and the key they concern. */
export interface ExpectedDeadLetter {
  readonly reason: string;
  readonly key: string;
}

export interface Corpus {
  readonly bucket: string;
  /** Objects to upload before the notifications are sent (good ones and readable-but-poison ones). */
  readonly objects: readonly CorpusObject[];
  readonly notifications: readonly Notification[];
  readonly deadLetters: readonly ExpectedDeadLetter[];
  /** Refused by sqs-poller (allow-list): never published, never fetched. */
  readonly refused: { readonly bucket: string; readonly key: string };
  /** SQS bodies that are not notifications: left to the queue's redrive policy (its dead-letter queue). */
  readonly notNotifications: number;
  readonly expectedCount: number;
  expected(): Multiset;
}

export interface CorpusOptions {
  readonly bucket: string;
  /** Records in each ordinary object (NDJSON, array, Records, CSV). */
  readonly recordsPerObject: number;
  /** Records in the large gzip NDJSON object; 0 leaves it out. */
  readonly largeObjectRecords: number;
  /** Extra gzip NDJSON objects (more in-flight work for the fault tests). */
  readonly extraObjects?: number;
  /** Poison objects, the refused bucket, the test event and a garbage body. Default true. */
  readonly poison?: boolean;
  /** Keeps runs apart when one stack serves several corpora. */
  readonly tag?: string;
}

const BASE_TIME = Date.UTC(2024, 0, 15, 12, 0, 0);

/** A Code42 / Incydr-like file event: nested objects, quotes, backslashes, unicode. */
export function fileEvent(tag: string, i: number): Rec {
  return {
    '@timestamp': new Date(BASE_TIME + i * 1_017).toISOString(),
    event: { id: `${tag}-${i}`, action: i % 3 === 0 ? 'file-created' : 'file-modified', observer: 'Endpoint' },
    user: { email: `user${i % 97}@example.com`, name: i % 5 === 0 ? 'Zoë Ñúñez 山田' : `user ${i % 97}` },
    file: {
      name: `report "${i}" [draft]+v2.docx`,
      directory: 'C:\\Users\\x\\Documents\\',
      sizeInBytes: i * 13,
      hash: { md5: 'd41d8cd98f00b204e9800998ecf8427e' },
    },
    risk: { score: i % 10, trusted: i % 7 === 0, indicators: [{ name: 'Remote', weight: 1.5 }] },
  };
}

/** Small records for the large object: its size, not its richness, is the point. */
function compactEvent(tag: string, i: number): Rec {
  return { '@timestamp': new Date(BASE_TIME + i * 7).toISOString(), id: `${tag}-${i}`, n: i, ok: i % 2 === 0 };
}

const ndjson = (records: readonly Rec[]) => Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''));

function csvOf(header: readonly string[], rows: readonly (readonly string[])[]): Buffer {
  const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return Buffer.from([header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n'));
}

/** S3 form-encodes keys in notifications: percent-encoding, with `+` for a space. */
export function formEncodeKey(key: string): string {
  return encodeURIComponent(key)
    .replaceAll('%2F', '/')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+');
}

/** One record of a direct S3 event notification (key form-encoded as S3 does). */
export function s3Record(bucket: string, key: string, etag: string | undefined, eventName = 'ObjectCreated:Put'): Rec {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2024-05-01T12:00:00.000Z',
    eventName,
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'logs',
      bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
      object: {
        key: formEncodeKey(key),
        size: 1,
        ...(etag ? { eTag: etag } : {}),
        sequencer: '0055AED6DCD90281E5',
      },
    },
  };
}

export function directNotification(records: readonly Rec[]): string {
  return JSON.stringify({ Records: records });
}

export function snsWrapped(inner: string): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:s3-events',
    Subject: 'Amazon S3 Notification',
    Message: inner,
    Timestamp: '2024-05-01T12:00:01.000Z',
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
  });
}

export function eventBridge(bucket: string, key: string, etag: string | undefined): string {
  return JSON.stringify({
    version: '0',
    id: '17793124-05d4-b198-2fde-7ededc63b103',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: '2024-05-01T12:00:02Z',
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      // EventBridge keys are not form-encoded.
      object: { key, size: 1, ...(etag ? { etag } : {}), sequencer: '617f08299329d189' },
      reason: 'PutObject',
    },
  });
}

export function testEvent(bucket: string): string {
  return JSON.stringify({
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: '2024-05-01T12:00:00.000Z',
    Bucket: bucket,
    RequestId: '5582815E1AEA5ADF',
    HostId: 'EXAMPLE',
  });
}

export function buildCorpus(o: CorpusOptions): Corpus {
  const tag = o.tag ?? 'c';
  const n = o.recordsPerObject;
  const bucket = o.bucket;
  const range = (count: number, make: (i: number) => Rec) => Array.from({ length: count }, (_, i) => make(i));
  const objects: CorpusObject[] = [];
  const notifications: Notification[] = [];
  const add = (key: string, shape: string, body: Buffer, records: readonly Rec[]) => {
    objects.push({ bucket, key, body, records, shape });
    return key;
  };

  // gzip NDJSON and CSV (unicode key) announced together in one direct notification.
  const gz = range(n, (i) => fileEvent(`${tag}-gz`, i));
  const gzKey = add(`incydr/2024/01/15/${tag}/events-0001.json.gz`, 'gzip NDJSON', gzipSync(ndjson(gz)), gz);
  const header = ['timestamp', 'user', 'action', 'file', 'note'];
  const rows = Array.from({ length: n }, (_, i) => [
    new Date(BASE_TIME + i * 2_003).toISOString(),
    `user${i % 13}@example.com`,
    i % 2 ? 'upload' : 'download',
    `Q${i % 4} plan, "final" ${i}.xlsx`,
    i % 3 ? `line one\nline two ${i}` : '',
  ]);
  const csvRecords = rows.map((r) => Object.fromEntries(header.map((h, c) => [h, r[c] ?? ''])));
  const csvKey = add(`exports/${tag}/Übersicht ß 日本 (Q1).csv`, 'CSV with header', csvOf(header, rows), csvRecords);
  notifications.push((e) =>
    directNotification([s3Record(bucket, gzKey, e.get(gzKey)), s3Record(bucket, csvKey, e.get(csvKey))]),
  );

  // A pretty-printed JSON array, key with spaces, through SNS.
  const arr = range(n, (i) => fileEvent(`${tag}-arr`, i));
  const arrKey = add(
    `incydr/2024/01/15/${tag}/array export 1.json`,
    'JSON array',
    Buffer.from(JSON.stringify(arr, null, 2)),
    arr,
  );
  notifications.push((e) => snsWrapped(directNotification([s3Record(bucket, arrKey, e.get(arrKey))])));

  // A {"Records":[…]} document, key with `+`, through EventBridge.
  const rec = range(n, (i) => fileEvent(`${tag}-rec`, i));
  const recKey = add(
    `cloudtrail/${tag}/a+b records.json`,
    'Records document',
    Buffer.from(JSON.stringify({ Records: rec })),
    rec,
  );
  notifications.push((e) => eventBridge(bucket, recKey, e.get(recKey)));

  // Plain NDJSON with one unreadable line: counted and logged, the rest goes on.
  const plain = range(n, (i) => fileEvent(`${tag}-plain`, i));
  const lines = plain.map((r) => JSON.stringify(r));
  lines.splice(Math.floor(n / 2), 0, '{"truncated": "line');
  const plainKey = add(
    `incydr/2024/01/15/${tag}/plain.ndjson`,
    'NDJSON with a bad line',
    Buffer.from(`${lines.join('\n')}\n`),
    plain,
  );
  notifications.push((e) => directNotification([s3Record(bucket, plainKey, e.get(plainKey))]));

  for (let x = 0; x < (o.extraObjects ?? 0); x++) {
    const extra = range(n, (i) => fileEvent(`${tag}-x${x}`, i));
    const key = add(`incydr/2024/01/16/${tag}/extra-${x}.json.gz`, 'gzip NDJSON', gzipSync(ndjson(extra)), extra);
    notifications.push((e) => directNotification([s3Record(bucket, key, e.get(key))]));
  }

  if (o.largeObjectRecords > 0) {
    const big = range(o.largeObjectRecords, (i) => compactEvent(`${tag}-big`, i));
    const key = add(
      `incydr/2024/01/17/${tag}/large-${o.largeObjectRecords}.json.gz`,
      'large gzip NDJSON',
      gzipSync(ndjson(big), { level: 1 }),
      big,
    );
    notifications.push((e) => directNotification([s3Record(bucket, key, e.get(key))]));
  }

  const deadLetters: ExpectedDeadLetter[] = [];
  const refused = { bucket: 'someone-elses-bucket', key: `${tag}/secrets.json` };
  let notNotifications = 0;
  if (o.poison ?? true) {
    const valid = gzipSync(ndjson(range(50, (i) => fileEvent(`${tag}-corrupt`, i))));
    // A real gzip header and a mangled deflate stream: the first bytes say gzip, the rest cannot be read.
    const corrupt = Buffer.concat([valid.subarray(0, 20), Buffer.alloc(200, 0xa5), valid.subarray(220)]);
    const corruptKey = add(`poison/${tag}/corrupt.json.gz`, 'corrupt gzip', corrupt, []);
    notifications.push((e) => directNotification([s3Record(bucket, corruptKey, e.get(corruptKey))]));
    deadLetters.push({ reason: 'CorruptCompression', key: corruptKey });

    const notesKey = add(
      `poison/${tag}/notes.txt`,
      'not JSON',
      Buffer.from('meeting notes\nnothing to ingest here\n'),
      [],
    );
    notifications.push((e) => eventBridge(bucket, notesKey, e.get(notesKey)));
    deadLetters.push({ reason: 'InvalidDocument', key: notesKey });

    const missingKey = `poison/${tag}/never uploaded.json.gz`;
    notifications.push(() =>
      snsWrapped(directNotification([s3Record(bucket, missingKey, '0123456789abcdef0123456789abcdef')])),
    );
    deadLetters.push({ reason: 'ObjectNotFound', key: missingKey });

    notifications.push(() => directNotification([s3Record(refused.bucket, refused.key, undefined)]));
    notifications.push(() => testEvent(bucket));
    notifications.push(() => directNotification([s3Record(bucket, gzKey, undefined, 'ObjectRemoved:Delete')]));
    notifications.push(() => 'this is not a notification');
    notNotifications = 1;
  }

  const good = objects.filter((ob) => ob.records.length > 0);
  const expectedCount = good.reduce((s, ob) => s + ob.records.length, 0);
  return {
    bucket,
    objects,
    notifications,
    deadLetters,
    refused,
    notNotifications,
    expectedCount,
    expected() {
      const m: Multiset = new Map();
      for (const ob of good) {
        for (const r of ob.records) {
          // Through JSON once, as the sink will see it (e.g. -0 and 1.50 normalised).
          const k = expectedRecordKey(ob.bucket, ob.key, JSON.parse(JSON.stringify(r)) as Rec);
          m.set(k, (m.get(k) ?? 0) + 1);
        }
      }
      return m;
    },
  };
}
