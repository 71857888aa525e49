import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ContainerClient } from '@azure/storage-blob';
import { authEventsJson, dnsQueriesGzip, trafficFlowsCsv } from './adx-samples.ts';
import { code42FileEvents } from './code42-events.ts';
import { code42AuditEvents, vpcFlowLogRecords, vpcFlowLogText } from './more-sources.ts';

export interface SeedTarget {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly bucket: string;
  readonly region: string;
  /** The data container blob-scanner scans. */
  readonly dataContainer: ContainerClient;
}

export interface SeedOptions {
  /** gzip NDJSON objects of Code42 file events put in S3 (each announced on SQS). Default 3. */
  readonly objects?: number;
  readonly eventsPerObject?: number;
  /** Also drop the ADX samples (TrafficFlows CSV, AuthEvents JSON, DnsQueries gzip multijson). Default true. */
  readonly adxSamples?: boolean;
  readonly rowsPerSample?: number;
  /**
   * Also add what operators meet in real life: a truncated gzip object (s3-fetcher dead-letters it), a CSV
   * with a short row (ADX fails it) and a file no mapping names (skipped). Default false.
   */
  readonly problems?: boolean;
  /**
   * Also seed the other sources of routes.json: a Code42 audit log (JSON array) under code42/audit/ and a VPC
   * flow log (gzip, space-delimited) under AWSLogs/…/vpcflowlogs/; with `problems`, an object under no route
   * (sqs-poller refuses it). Only for a stack running with those routes. Default false.
   */
  readonly routedSources?: boolean;
  readonly seed?: number;
  readonly now?: Date;
}

/**
 * What every local run seeds: `npm start` (run all --local), `logferry standins --seed` and docker-compose's
 * `standins` container. The three sources of routes.json (so the stack must run with them), the ADX samples and
 * the problem cases.
 */
export const LOCAL_RUN_SEED = { problems: true, routedSources: true } as const satisfies SeedOptions;

/** Records seeded per source (routes.json entry), in seeding order, as the commands print them. */
export function recordsBySource(objects: readonly SeededObject[]): [source: string, records: number][] {
  const bySource = new Map<string, number>();
  for (const object of objects) bySource.set(object.source, (bySource.get(object.source) ?? 0) + object.records);
  return [...bySource];
}

/** One line for the stand-ins' commands: `Seeded 150 events in 3 S3 objects (Code42FileEvents 50, …) and 3 files.` */
export function seedSummary(result: SeedResult): string {
  const perSource = recordsBySource(result.objects)
    .map(([source, records]) => `${source} ${records}`)
    .join(', ');
  return (
    `Seeded ${result.records} events in ${result.objects.length} S3 objects (${perSource}) and ` +
    `${result.blobs.length} files, with ${result.problems.length} problem cases.`
  );
}

export interface SeededObject {
  readonly key: string;
  readonly records: number;
  readonly bytes: number;
  /** The route (routes.json entry) it belongs to. */
  readonly source: string;
}

export interface SeedResult {
  readonly objects: readonly SeededObject[];
  readonly records: number;
  readonly blobs: readonly { name: string; rows: number }[];
  /** The problem cases added (S3 keys and blob names). */
  readonly problems: readonly string[];
}

/**
 * Sample data as production sees it: gzip NDJSON objects in S3, each announced on SQS by an S3 event
 * notification (fauxqs has no bucket notifications, so the notification is sent the way S3 would), and
 * files in the data container named by mappings.json's prefixes.
 */
export async function seedSampleData(target: SeedTarget, options: SeedOptions = {}): Promise<SeedResult> {
  const now = options.now ?? new Date();
  const seed = options.seed ?? now.getTime();
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  const objects: SeededObject[] = [];
  let n = 0;
  // Put in S3 and announce on SQS as S3 would.
  const putAnnounced = async (key: string, body: Buffer) => {
    const put = await target.s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body }));
    await target.sqs.send(
      new SendMessageCommand({
        QueueUrl: target.queueUrl,
        MessageBody: JSON.stringify(s3Notification(target, key, body.length, put.ETag ?? '', now, n++)),
      }),
    );
  };
  const announce = async (key: string, body: Buffer, records: number, source: string) => {
    await putAnnounced(key, body);
    objects.push({ key, records, bytes: body.length, source });
  };
  const perObject = options.eventsPerObject ?? 50;
  for (let i = 0; i < (options.objects ?? 3); i++) {
    const events = code42FileEvents(perObject, { seed: seed + i, now });
    const body = gzipSync(`${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
    await announce(
      `code42/file-events/${day}/file-events ${stamp}-${i}.json.gz`,
      body,
      events.length,
      'Code42FileEvents',
    );
  }
  if (options.routedSources) {
    const audit = code42AuditEvents(perObject, { seed: seed + 101, now });
    await announce(
      `code42/audit/${day}/audit-${stamp}.json`,
      Buffer.from(JSON.stringify(audit)),
      audit.length,
      'Code42Audit',
    );
    const flows = vpcFlowLogRecords(perObject, { seed: seed + 102, now });
    const account = '123456789012';
    const flowKey = `AWSLogs/${account}/vpcflowlogs/${target.region}/${day}/${account}_vpcflowlogs_${target.region}_fl-0a1b2c3d_${stamp}_0.log.gz`;
    await announce(flowKey, gzipSync(vpcFlowLogText(flows)), flows.length, 'VpcFlowLogs');
  }
  const blobs: { name: string; rows: number }[] = [];
  if (options.adxSamples ?? true) {
    const rows = options.rowsPerSample ?? 25;
    const samples: [string, string | Buffer][] = [
      [`TrafficFlows-${stamp}.csv`, trafficFlowsCsv(rows, { seed, now })],
      [`AuthEvents-${stamp}.json`, authEventsJson(rows, { seed: seed + 1, now })],
      [`DnsQueries-${stamp}.json.gz`, dnsQueriesGzip(rows, { seed: seed + 2, now })],
    ];
    for (const [name, content] of samples) {
      const data = typeof content === 'string' ? Buffer.from(content) : content;
      await target.dataContainer.getBlockBlobClient(name).uploadData(data);
      blobs.push({ name, rows });
    }
  }
  const problems: string[] = [];
  if (options.problems) {
    const whole = gzipSync(
      `${code42FileEvents(20, { seed, now })
        .map((e) => JSON.stringify(e))
        .join('\n')}\n`,
    );
    const truncated = whole.subarray(0, Math.floor(whole.length / 2));
    const key = `code42/file-events/${day}/truncated ${stamp}.json.gz`;
    await putAnnounced(key, truncated);
    problems.push(`s3://${target.bucket}/${key}`);
    if (options.routedSources) {
      // No route claims it: sqs-poller refuses it (logged, counted) and nothing fetches it.
      const stray = `unrouted/${day}/firewall ${stamp}.log`;
      await putAnnounced(stray, Buffer.from('no route of routes.json names this prefix\n'));
      problems.push(`s3://${target.bucket}/${stray}`);
    }
    const header = 'TimeGenerated,SrcIp,DstIp,SrcPort,DstPort,Protocol,Bytes,Packets,Action\n';
    const broken: [string, string][] = [
      [`TrafficFlows-${stamp}-malformed.csv`, `${header}${now.toISOString()},10.0.0.1\n`],
      [`Firewall-${stamp}.log`, 'no entry of mappings.json names this prefix\n'],
    ];
    for (const [name, text] of broken) {
      await target.dataContainer.getBlockBlobClient(name).uploadData(Buffer.from(text));
      problems.push(name);
    }
  }
  return { objects, records: objects.reduce((n, o) => n + o.records, 0), blobs, problems };
}

/** An S3 event notification as S3 sends it to SQS: keys form-encoded (space as '+'), one record per object. */
export function s3Notification(
  target: Pick<SeedTarget, 'bucket' | 'region'>,
  key: string,
  size: number,
  etag: string,
  when: Date,
  n = 0,
) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: target.region,
        eventTime: when.toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'logferry-local',
          bucket: { name: target.bucket, arn: `arn:aws:s3:::${target.bucket}` },
          object: {
            key: encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/'),
            size,
            eTag: etag.replace(/"/g, ''),
            sequencer: `${when.getTime().toString(16).toUpperCase()}${n.toString(16).padStart(4, '0')}`,
          },
        },
      },
    ],
  };
}
