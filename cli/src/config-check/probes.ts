import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { TokenCredential } from '@azure/core-auth';
import { TableClient } from '@azure/data-tables';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Probe } from './probe.ts';

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
    run: () =>
      new Promise<string>((resolve, reject) => {
        const ca = caFile ? [...rootCertificates, readFileSync(caFile, 'utf8')] : undefined;
        const req = request(url, { method: 'GET', ...(ca ? { ca } : {}) }, (res) => {
          res.resume();
          resolve(`${new URL(url).origin} answered HTTP ${res.statusCode} over TLS`);
        });
        req.on('error', reject);
        req.end();
      }),
  };
}

/** `.get ingestion resources` on the data-management endpoint: what adx-ingester asks first. */
export function kustoProbe(ingestUri: string, token: (() => Promise<string>) | undefined): Probe {
  return {
    name: 'ADX data management',
    async run() {
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
      const rows = (JSON.parse(text) as { Tables?: { Rows?: unknown[] }[] }).Tables?.[0]?.Rows?.length ?? 0;
      if (rows === 0)
        throw new Error(`${ingestUri} answered without ingestion resources (is this the ingest- endpoint?)`);
      return `${ingestUri}: ${rows} ingestion resources`;
    },
  };
}

export { BlobServiceClient, S3Client, ServiceBusClient, SQSClient, TableClient };
