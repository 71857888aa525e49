import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';

/** Most containers seen at once; the reference guard admits only STAGING_CONTAINER, so this is a backstop. */
const MAX_CONTAINER_CLIENTS = 16;

/**
 * A ContainerClient per container name, made once: building one (its pipeline, URL parsing) cost more per
 * batch than the rest of the read's own code. Bounded, since the names come from messages.
 */
export function containerClients(blobs: BlobServiceClient): (name: string) => ContainerClient {
  const byName = new Map<string, ContainerClient>();
  return (name) => {
    let client = byName.get(name);
    if (!client) {
      if (byName.size >= MAX_CONTAINER_CLIENTS) byName.clear();
      client = blobs.getContainerClient(name);
      byName.set(name, client);
    }
    return client;
  };
}
