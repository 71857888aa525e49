import type { TokenCredential } from '@azure/core-auth';
import type { TableClient } from '@azure/data-tables';
import { createOperatorClients } from '@logferry/shared/dead-letters/clients';
import { readSubscriptions } from '@logferry/shared/dead-letters/topology';
import type { Logger } from '@logferry/shared/logging/logger';
import { BatchStatusStore } from '@logferry/shared/stores/batch-status';
import { ObjectStatusStore } from '@logferry/shared/stores/object-status';
import { serviceBusConnection } from '@logferry/shared/transport/servicebus/connection';
import type { LocalSinks } from '../http/local-sinks.ts';
import type { ObjectsDeps } from '../http/objects-api.ts';
import type { PipelineDeps } from '../http/pipeline-api.ts';
import type { EventBus } from '../live/event-bus.ts';
import { pipelineSubscriptions } from './layout.ts';
import { PipelineSampler } from './sampler.ts';

export interface PipelineOperations {
  readonly pipeline: PipelineDeps;
  readonly objects: ObjectsDeps;
  start(): void;
  close(): Promise<void>;
}

/**
 * What the page's overview, dead-letter and S3 objects views run on: an operator's Service Bus clients (their
 * own connection, apart from the transport), the topology of deploy/servicebus/Config.json, the stores.
 */
export function createPipelineOperations(o: {
  readonly config: {
    SERVICEBUS_CONNECTION_STRING?: string | undefined;
    SERVICEBUS_NAMESPACE?: string | undefined;
    DATA_CONTAINER: string;
    PIPELINE_SAMPLE_MS: number;
    READINESS_URLS: Record<string, string>;
  };
  readonly azure: () => TokenCredential;
  readonly statusTable: TableClient;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly localSinks?: LocalSinks | undefined;
}): PipelineOperations {
  const clients = createOperatorClients(serviceBusConnection(o.config, o.azure), `blob-scanner-ops-${process.pid}`);
  const subscriptions = pipelineSubscriptions(readSubscriptions());
  const sampler = new PipelineSampler({
    admin: clients.admin,
    table: o.statusTable,
    subscriptions,
    dataContainer: o.config.DATA_CONTAINER,
    readinessUrls: o.config.READINESS_URLS,
    localSinks: o.localSinks,
    events: o.events,
    logger: o.logger,
    sampleMs: o.config.PIPELINE_SAMPLE_MS,
  });
  return {
    pipeline: { sampler, serviceBus: clients.client, subscriptions, logger: o.logger },
    objects: {
      objects: new ObjectStatusStore(o.statusTable),
      batches: new BatchStatusStore(o.statusTable),
      serviceBus: clients.client,
    },
    start: () => sampler.start(),
    async close() {
      sampler.stop();
      await clients.close();
    },
  };
}
