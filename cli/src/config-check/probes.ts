// First: corrects rhea's disposition coalescing before the SDK loads it (see the module).
import '@logferry/shared/amqp/rhea-dispositions-fix';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { TokenCredential } from '@azure/core-auth';
import { TableClient } from '@azure/data-tables';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { describeError, type Probe } from './probe.ts';

/** Opens a sender link and a batch: the topic exists and we may send to it (nothing is sent). */
export function serviceBusSendProbe(client: ServiceBusClient, topic: string): Probe {
  return {
    name: `Service Bus: send to ${topic}`,
    async run() {
      const sender = client.createSender(topic);
      try {
        const batch = await sender.createMessageBatch();
        return `link open (max message ${batch.maxSizeInBytes} bytes)`;
      } finally {
        await sender.close().catch(() => undefined);
      }
    },
  };
}

/** Peeks one message: the subscription exists and we may listen (nothing is locked). */
export function serviceBusReceiveProbe(client: ServiceBusClient, topic: string, subscription: string): Probe {
  return {
    name: `Service Bus: receive from ${topic}/${subscription}`,
    async run() {
      const receiver = client.createReceiver(topic, subscription, { skipParsingBodyAsJson: true });
      try {
        const peeked = await receiver.peekMessages(1);
        return peeked.length > 0 ? 'reachable (messages waiting)' : 'reachable (empty)';
      } finally {
        await receiver.close().catch(() => undefined);
      }
    },
  };
}

export function blobContainerProbe(blobs: BlobServiceClient, container: string): Probe {
  return {
    name: `Blob container ${container}`,
    async run() {
      const exists = await blobs.getContainerClient(container).exists();
      if (!exists) throw new Error(`container ${container} does not exist at ${blobs.url}`);
      return `exists at ${blobs.url}`;
    },
  };
}

export function tableProbe(table: TableClient): Probe {
  return {
    name: `Status table ${table.tableName}`,
    async run() {
      // A one-row page proves the table exists and answers queries with our credential.
      const page = await table
        .listEntities({ queryOptions: { select: ['PartitionKey'] } })
        .byPage({ maxPageSize: 1 })
        .next();
      return `exists at ${table.url} (${page.value?.length ? 'has rows' : 'empty'})`;
    },
  };
}

export function sqsProbe(sqs: SQSClient, queueUrl: string): Probe {
  return {
    name: 'SQS queue',
    async run() {
      const r = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'RedrivePolicy'],
        }),
      );
      const waiting = r.Attributes?.ApproximateNumberOfMessages ?? '?';
      const redrive = r.Attributes?.RedrivePolicy
        ? 'with a redrive policy'
        : 'WITHOUT a redrive policy (unreadable bodies will cycle)';
      return `${queueUrl}: ${waiting} waiting, ${redrive}`;
    },
  };
}

export function s3BucketProbe(s3: S3Client, bucket: string): Probe {
  return {
    name: `S3 bucket ${bucket}`,
    async run() {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      return 'reachable (HeadBucket)';
    },
  };
}

export function awsCredentialsProbe(provider: AwsCredentialIdentityProvider, how: string): Probe {
  return {
    name: `AWS credentials (${how})`,
    async run() {
      const c = await provider();
      const expires = c.expiration ? `, expire ${c.expiration.toISOString()}` : '';
      return `obtained (key id ${c.accessKeyId.slice(0, 4)}…${expires})`;
    },
  };
}

export function azureTokenProbe(credential: TokenCredential, scope: string, what: string): Probe {
  return {
    name: `Azure identity token for ${what}`,
    async run() {
      const token = await credential.getToken(scope);
      if (!token) throw new Error(`no token for ${scope}`);
      return `obtained for ${scope}`;
    },
  };
}

/** Any HTTP answer proves DNS, TCP and TLS (with NODE_EXTRA_CA_CERTS honoured as the service would). */
export function httpsReachableProbe(name: string, url: string, caFile: string | undefined): Probe {
  return {
    name,
    async run() {
      const res = await send(url, { method: 'GET', caFile });
      return `${new URL(url).origin} answered HTTP ${res.status} over TLS`;
    },
  };
}

/** The Logs Ingestion API version la-uploader posts with. */
export const LOGS_INGESTION_API_VERSION = '2023-01-01';

/** The URL la-uploader posts a stream's records to: {endpoint}/dataCollectionRules/{id}/streams/{stream}. */
export function dcrStreamUrl(endpoint: string, ruleId: string, stream: string): URL {
  const base = new URL(endpoint);
  const url = new URL(
    `${base.pathname.replace(/\/+$/, '')}/dataCollectionRules/${encodeURIComponent(ruleId)}/streams/${encodeURIComponent(stream)}`,
    base,
  );
  url.searchParams.set('api-version', LOGS_INGESTION_API_VERSION);
  return url;
}

/** Posts an empty array to the stream: the DCR and its stream exist and take our token; nothing is ingested. */
export function dcrStreamProbe(o: {
  endpoint: string;
  ruleId: string;
  stream: string;
  token: () => Promise<string>;
  caFile: string | undefined;
}): Probe {
  return {
    name: `DCR ${o.ruleId} stream ${o.stream}`,
    async run() {
      const res = await send(dcrStreamUrl(o.endpoint, o.ruleId, o.stream), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await o.token()}`,
          'content-type': 'application/json',
          'user-agent': 'logferry-config-check',
        },
        body: '[]',
        caFile: o.caFile,
      });
      return describeStreamAnswer(res.status, res.text, o.ruleId, o.stream);
    },
  };
}

/** What the Logs Ingestion API's answer to an empty upload says about the DCR and stream; throws unless 2xx. */
export function describeStreamAnswer(status: number, text: string, ruleId: string, stream: string): string {
  if (status >= 200 && status < 300) return `accepted an empty upload (HTTP ${status}, nothing ingested)`;
  const body = errorBody(text);
  let why = '';
  if (status === 404) why = `no DCR ${ruleId} with stream ${stream} here (check DCR_IMMUTABLE_ID and DCR_STREAM)`;
  else if (status === 400 && /stream/i.test(body)) why = `DCR ${ruleId} does not declare stream ${stream} (DCR_STREAM)`;
  else if (status === 403) why = `the identity may not ingest through DCR ${ruleId} (Monitoring Metrics Publisher)`;
  else if (status === 401) why = 'the token was refused (tenant or LOGS_INGESTION_AUDIENCE)';
  throw new Error([`HTTP ${status}${body ? ` ${body.replace(/\.$/, '')}` : ''}`, why].filter(Boolean).join('; '));
}

/** GETs the key set bearer tokens are verified against (the auth module's JWKS URL) and counts its keys. */
export function entraKeysProbe(jwksUrl: URL, caFile: string | undefined): Probe {
  return {
    name: 'Entra token signing keys (AUTH_TENANT_ID)',
    async run() {
      const res = await send(jwksUrl, { method: 'GET', caFile }).catch((err: unknown) => {
        throw new Error(`${jwksUrl}: ${describeError(err)}`);
      });
      if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${jwksUrl}: ${errorBody(res.text)}`);
      let keys: unknown;
      try {
        keys = (JSON.parse(res.text) as { keys?: unknown }).keys;
      } catch {
        throw new Error(`${jwksUrl} answered something other than JSON`);
      }
      if (!Array.isArray(keys) || keys.length === 0) throw new Error(`${jwksUrl} lists no keys`);
      return `${keys.length} keys at ${jwksUrl}`;
    },
  };
}

/**
 * The lease blob that elects one replica. The service creates a missing container and blob at start, so
 * either missing is ok; a lease without expiry (not ours: ours last 15–60 s) would idle every replica.
 */
export function leaseBlobProbe(blobs: BlobServiceClient, container: string, blob: string): Probe {
  return {
    name: `Lease blob ${container}/${blob}`,
    async run() {
      const c = blobs.getContainerClient(container);
      if (!(await c.exists())) return `container ${container} does not exist at ${blobs.url}: will be created at start`;
      const b = c.getBlobClient(blob);
      if (!(await b.exists())) return `container exists at ${blobs.url}; the blob will be created at start`;
      const { leaseState, leaseDuration } = await b.getProperties();
      if (leaseState === 'leased' && leaseDuration === 'infinite')
        throw new Error(`${container}/${blob} holds an infinite lease no replica can take over: break it`);
      return leaseState === 'leased'
        ? 'exists, leased (an instance holds it; others stand by)'
        : `exists, lease ${leaseState ?? 'available'}`;
    },
  };
}

export interface IngestionResource {
  readonly type: string;
  /** Queue or container URL with ADX's SAS: never printed whole (see withoutQuery). */
  readonly url: string;
}

/** `.get ingestion resources` on the data-management endpoint, asked once however many probes read it. */
export function ingestionResources(
  ingestUri: string,
  token: (() => Promise<string>) | undefined,
): () => Promise<readonly IngestionResource[]> {
  let answer: Promise<readonly IngestionResource[]> | undefined;
  return () => {
    answer ??= (async () => {
      const headers: Record<string, string> = {
        'content-type': 'application/json; charset=utf-8',
        accept: 'application/json',
      };
      if (token) headers.authorization = `Bearer ${await token()}`;
      const res = await fetch(new URL('/v1/rest/mgmt', ingestUri), {
        method: 'POST',
        headers,
        body: JSON.stringify({ db: 'NetDefaultDB', csl: '.get ingestion resources' }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status} from ${ingestUri}: ${text.slice(0, 200)}`);
      const table = (JSON.parse(text) as { Tables?: { Columns?: { ColumnName?: string }[]; Rows?: unknown[][] }[] })
        .Tables?.[0];
      const column = (name: string) => table?.Columns?.findIndex((c) => c.ColumnName === name) ?? -1;
      const [typeAt, urlAt] = [column('ResourceTypeName'), column('StorageRoot')];
      return (table?.Rows ?? []).map((row) => ({ type: String(row[typeAt] ?? ''), url: String(row[urlAt] ?? '') }));
    })();
    return answer;
  };
}

/** `.get ingestion resources` on the data-management endpoint: what adx-ingester asks first. */
export function kustoProbe(ingestUri: string, resources: () => Promise<readonly IngestionResource[]>): Probe {
  return {
    name: 'ADX data management',
    async run() {
      const rows = (await resources()).length;
      if (rows === 0)
        throw new Error(`${ingestUri} answered without ingestion resources (is this the ingest- endpoint?)`);
      return `${ingestUri}: ${rows} ingestion resources`;
    },
  };
}

/** Peeks each of ADX's status queues of one kind through the SAS URLs ADX hands out, as completion-checker reads them. */
export function statusQueueProbe(
  type: 'SuccessfulIngestionsQueue' | 'FailedIngestionsQueue',
  resources: () => Promise<readonly IngestionResource[]>,
): Probe {
  return {
    name: `ADX status queue ${type}`,
    async run() {
      let all: readonly IngestionResource[];
      try {
        all = await resources();
      } catch (err) {
        throw new Error(`not checked: .get ingestion resources failed (${describeError(err)})`);
      }
      const urls = all.filter((r) => r.type === type).map((r) => r.url);
      if (urls.length === 0) throw new Error(`.get ingestion resources lists no ${type}`);
      const peeked: string[] = [];
      for (const url of urls) {
        const queue = new QueueClient(url, undefined, { retryOptions: { maxTries: 1 } });
        try {
          const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 1 });
          peeked.push(`${withoutQuery(url)} (${peekedMessageItems.length > 0 ? 'messages waiting' : 'empty'})`);
        } catch (err) {
          throw new Error(`${withoutQuery(url)}: ${describeError(err)}`);
        }
      }
      return `peeked ${peeked.join(', ')}`;
    },
  };
}

/** A URL without its query string, where a SAS lives. */
function withoutQuery(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** `Code: message` from the Azure (`{error:{code,message}}`) or Entra (`{error, error_description}`) shape, else the text; one line. */
function errorBody(text: string): string {
  let detail = text.trim();
  try {
    const e = (JSON.parse(text) as { error?: unknown; error_description?: unknown }) ?? {};
    if (e.error && typeof e.error === 'object') {
      const { code, message } = e.error as { code?: unknown; message?: unknown };
      detail = `${String(code ?? 'Error')}: ${String(message ?? '')}`;
    } else if (typeof e.error === 'string') {
      detail = `${e.error}${typeof e.error_description === 'string' ? `: ${e.error_description}` : ''}`;
    }
  } catch {
    // Not JSON: keep the text.
  }
  return (detail.split(/\r?\n/)[0] ?? '').slice(0, 300);
}

/** One HTTP(S) request, trusting `caFile` as well as the usual roots (what NODE_EXTRA_CA_CERTS gives the service). */
function send(
  url: string | URL,
  o: { method: string; headers?: Record<string, string>; body?: string; caFile: string | undefined },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const ca =
      o.caFile && target.protocol === 'https:' ? [...rootCertificates, readFileSync(o.caFile, 'utf8')] : undefined;
    const body = o.body === undefined ? undefined : Buffer.from(o.body);
    const headers = { ...o.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
    const req = (target.protocol === 'http:' ? httpRequest : httpsRequest)(
      target,
      { method: o.method, headers, ...(ca ? { ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 64 * 1024) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export { BlobServiceClient, S3Client, ServiceBusClient, SQSClient, TableClient };
