import type { TokenCredential } from '@azure/core-auth';
import type { TableClient } from '@azure/data-tables';
import type { ServiceBusClient } from '@azure/service-bus';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { Probe } from './probe.ts';

// Probes of the Azure resources a service opens with its own identity: Service Bus links, storage, tokens.

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
