import { type ServiceName, TOPICS, type TopicName } from './messages/envelope.ts';

/**
 * Who publishes and consumes what, and which stores each service uses: the one statement of the
 * topology. The transport refuses to publish to a topic a service does not declare here; `config check` probes exactly these rights; tests hold deploy/servicebus/Config.json,
 * the chart's KEDA triggers and the deployment guide's role table to it.
 */
export interface Consumption {
  readonly topic: TopicName;
  /** The subscription's name in Config.json and by default. */
  readonly subscription: string;
  /** The configuration variable that names it, when it is configurable. */
  readonly setting?: string;
}

export type Store = 'status-table' | 'staging-container' | 'data-container';

export interface LeaseBlob {
  /** The configuration variable naming the lease container. */
  readonly containerSetting: string;
  /** The blob's name (given the service's configuration). */
  readonly blob: (config: Readonly<Record<string, unknown>>) => string;
  /** Whether the service takes the lease under this configuration. */
  readonly when?: (config: Readonly<Record<string, unknown>>) => boolean;
}

export interface ServiceManifest {
  /** Topics whose publish() the code calls. */
  readonly publishes: readonly TopicName[];
  /**
   * Topics a dead-letter replay sends to (shared/src/dead-letters/replay.ts): the copy goes back to the
   * topic the message came from, so these are the topics of the subscriptions the service replays.
   */
  readonly replaysTo: readonly TopicName[];
  readonly consumes: readonly Consumption[];
  readonly stores: readonly Store[];
  readonly leaseBlobs: readonly LeaseBlob[];
}

/** The blob-scanner lease that elects one replica to run the schedule. */
export function scanLeaseBlob(dataContainer: string): string {
  return `blob-scanner-schedule-${dataContainer}`;
}

/** Dead letters may sit on any subscription, so a replay may send to any topic. */
const ALL_TOPICS: readonly TopicName[] = [...TOPICS];

export const MANIFEST: Readonly<Record<ServiceName, ServiceManifest>> = {
  'sqs-poller': { publishes: ['s3-objects'], replaysTo: [], consumes: [], stores: [], leaseBlobs: [] },
  's3-fetcher': {
    publishes: ['staged-batches'],
    replaysTo: [],
    consumes: [{ topic: 's3-objects', subscription: 's3-fetcher', setting: 'SUBSCRIPTION' }],
    stores: ['staging-container', 'status-table'],
    leaseBlobs: [],
  },
  'la-uploader': {
    publishes: [],
    replaysTo: [],
    consumes: [{ topic: 'staged-batches', subscription: 'la-uploader' }],
    stores: ['staging-container', 'status-table'],
    leaseBlobs: [],
  },
  'blob-scanner': {
    // ingestion-results: a skipped (empty) blob, so other replicas' pages hear of it.
    publishes: ['ingest-requests', 'ingestion-results'],
    // The status page's dead-letter replay, for every pipeline subscription (pipeline/layout.ts).
    replaysTo: ALL_TOPICS,
    consumes: [{ topic: 'ingestion-results', subscription: 'blob-scanner', setting: 'RESULTS_SUBSCRIPTION' }],
    stores: ['data-container', 'status-table'],
    leaseBlobs: [
      {
        containerSetting: 'SCAN_LEASE_CONTAINER',
        blob: (config) => scanLeaseBlob(String(config.DATA_CONTAINER)),
        when: (config) => Number(config.SCAN_SCHEDULE) > 0,
      },
    ],
  },
  'adx-ingester': {
    // ingestion-results: skipped (no mapping, empty) and rejected requests.
    publishes: ['ingestion-results'],
    replaysTo: [],
    consumes: [
      { topic: 'ingest-requests', subscription: 'adx-ingester', setting: 'INGEST_REQUESTS_SUBSCRIPTION' },
      { topic: 'staged-batches', subscription: 'adx-ingester', setting: 'STAGED_BATCHES_SUBSCRIPTION' },
    ],
    stores: ['data-container', 'staging-container', 'status-table'],
    leaseBlobs: [],
  },
  'completion-checker': {
    // ingest-requests: a retryable failure or a timed-out row queued again.
    publishes: ['ingest-requests', 'ingestion-results'],
    replaysTo: [],
    consumes: [],
    stores: ['status-table'],
    leaseBlobs: [{ containerSetting: 'LEASE_CONTAINER', blob: (config) => String(config.LEASE_BLOB) }],
  },
  // The operator CLI: backfill, and dlq replay to whichever topic a message came from. Tests publish any
  // message (forged ones included) through a transport of the CLI's, so it may publish to every topic.
  cli: {
    publishes: ALL_TOPICS,
    replaysTo: ALL_TOPICS,
    consumes: [],
    stores: [],
    leaseBlobs: [],
  },
};

/** Topics a service sends to of its own accord: what it publishes and where its dead-letter replays go. */
export function sentTopics(service: ServiceName): TopicName[] {
  const m = MANIFEST[service];
  return [...new Set([...m.publishes, ...m.replaysTo])].sort();
}

/**
 * Topics a service needs Send on: what it sends to, and what it consumes, because a retry-later is
 * a scheduled copy sent to the consumed topic (targeted at the one subscription).
 */
export function sendTopics(service: ServiceName): TopicName[] {
  return [...new Set([...sentTopics(service), ...MANIFEST[service].consumes.map((c) => c.topic)])].sort();
}

/**
 * The subscriptions a service drains under its configuration: each by the setting that names it
 * (`off` or empty: not consumed), else by its fixed name.
 */
export function consumedSubscriptions(
  service: ServiceName,
  config: Readonly<Record<string, unknown>>,
): { readonly topic: TopicName; readonly subscription: string }[] {
  return MANIFEST[service].consumes.flatMap((c) => {
    const named = c.setting === undefined ? c.subscription : config[c.setting];
    return typeof named === 'string' && named !== '' && named !== 'off'
      ? [{ topic: c.topic, subscription: named }]
      : [];
  });
}

/** `topic/subscription` pairs a service needs Listen on, by their default names. */
export function listenSubscriptions(service: ServiceName): string[] {
  return MANIFEST[service].consumes.map((c) => `${c.topic}/${c.subscription}`).sort();
}

export class UndeclaredTopicError extends Error {
  readonly service: ServiceName;
  readonly topic: TopicName;
  constructor(service: ServiceName, topic: TopicName, action = 'publish') {
    super(`${service} does not ${action} to ${topic} (shared/src/manifest.ts); declare it there first`);
    this.name = 'UndeclaredTopicError';
    this.service = service;
    this.topic = topic;
  }
}

/** Throws unless the manifest says the service publishes to `topic`. */
export function assertPublishes(service: ServiceName, topic: TopicName): void {
  if (!MANIFEST[service].publishes.includes(topic)) throw new UndeclaredTopicError(service, topic);
}

/** Throws unless the manifest says the service replays dead letters to `topic`. */
export function assertReplaysTo(service: ServiceName, topic: string): void {
  if (!(MANIFEST[service].replaysTo as readonly string[]).includes(topic)) {
    throw new UndeclaredTopicError(service, topic as TopicName, 'replay dead letters');
  }
}
