import { readFile } from 'node:fs/promises';

/** Per-subscription (or per-queue) behaviour the broker honours, taken from the emulator's Config.json. */
export interface ReceiverSettings {
  lockDurationMs: number;
  maxDeliveryCount: number;
  defaultTtlMs: number;
  deadLetterOnExpiration: boolean;
}

/** `RequiresDuplicateDetection` with its `DuplicateDetectionHistoryTimeWindow` (absent when off). */
export interface DuplicateDetection {
  windowMs: number;
}

export interface TopicTopology {
  name: string;
  defaultTtlMs: number;
  duplicateDetection?: DuplicateDetection;
  /** Keyed by lower-cased name: Service Bus entity names are case-insensitive. */
  subscriptions: Map<string, { name: string; settings: ReceiverSettings }>;
}

export interface Topology {
  namespace: string;
  topics: Map<string, TopicTopology>;
  queues: Map<string, { name: string; settings: ReceiverSettings; duplicateDetection?: DuplicateDetection }>;
}

const DEFAULTS: ReceiverSettings = {
  lockDurationMs: 60_000,
  maxDeliveryCount: 10,
  defaultTtlMs: 14 * 24 * 3600_000,
  deadLetterOnExpiration: false,
};

const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** ISO 8601 duration (the subset Service Bus uses: weeks, days, hours, minutes, seconds) to milliseconds. */
export function parseIsoDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m || text.trim() === 'P' || text.trim().endsWith('T')) throw new Error(`invalid ISO 8601 duration: ${text}`);
  const [, w, d, h, min, s] = m;
  const days = Number(w ?? 0) * 7 + Number(d ?? 0);
  return Math.round(((days * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Number(s ?? 0) * 1000);
}

type Json = Record<string, unknown>;

// Service Bus's bounds and default for DuplicateDetectionHistoryTimeWindow.
const DEDUP_MIN_MS = 20_000;
const DEDUP_MAX_MS = 7 * 24 * 3600_000;
const DEDUP_DEFAULT_MS = 10 * 60_000;

function duplicateDetectionFrom(props: Json, where: string): DuplicateDetection | undefined {
  const on = props.RequiresDuplicateDetection;
  if (on === undefined || on === false) return undefined;
  if (on !== true) throw new Error(`Config.json: ${where}.Properties.RequiresDuplicateDetection must be a boolean`);
  const text = props.DuplicateDetectionHistoryTimeWindow;
  if (text !== undefined && typeof text !== 'string') {
    throw new Error(
      `Config.json: ${where}.Properties.DuplicateDetectionHistoryTimeWindow must be an ISO 8601 duration`,
    );
  }
  const windowMs = text ? parseIsoDuration(text) : DEDUP_DEFAULT_MS;
  if (windowMs < DEDUP_MIN_MS || windowMs > DEDUP_MAX_MS) {
    throw new Error(
      `Config.json: ${where}.Properties.DuplicateDetectionHistoryTimeWindow must be between 20 seconds and 7 days`,
    );
  }
  return { windowMs };
}

function obj(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Error(`Config.json: ${where} must be an object`);
  return v as Json;
}

function arr(v: unknown, where: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`Config.json: ${where} must be an array`);
  return v;
}

function name(v: unknown, where: string): string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/.test(v)) {
    throw new Error(`Config.json: ${where}.Name must be a valid entity name`);
  }
  return v;
}

function settingsFrom(props: Json, inherited: ReceiverSettings, where: string): ReceiverSettings {
  const duration = (key: string, fallback: number): number => {
    const v = props[key];
    if (v === undefined || v === '') return fallback;
    if (typeof v !== 'string') throw new Error(`Config.json: ${where}.Properties.${key} must be an ISO 8601 duration`);
    return parseIsoDuration(v);
  };
  const mdc = props.MaxDeliveryCount;
  if (mdc !== undefined && (typeof mdc !== 'number' || !Number.isInteger(mdc) || mdc < 1)) {
    throw new Error(`Config.json: ${where}.Properties.MaxDeliveryCount must be a positive integer`);
  }
  return {
    lockDurationMs: duration('LockDuration', inherited.lockDurationMs),
    maxDeliveryCount: (mdc as number | undefined) ?? inherited.maxDeliveryCount,
    defaultTtlMs: duration('DefaultMessageTimeToLive', inherited.defaultTtlMs),
    deadLetterOnExpiration:
      typeof props.DeadLetteringOnMessageExpiration === 'boolean'
        ? props.DeadLetteringOnMessageExpiration
        : inherited.deadLetterOnExpiration,
  };
}

/** Validates the emulator's Config.json shape; only the first namespace is served (as the emulator does). */
export function parseTopology(raw: unknown): Topology {
  const root = obj(obj(raw, 'root').UserConfig, 'UserConfig');
  const ns = obj(arr(root.Namespaces, 'UserConfig.Namespaces')[0], 'UserConfig.Namespaces[0]');
  const topology: Topology = { namespace: String(ns.Name ?? 'sbemulatorns'), topics: new Map(), queues: new Map() };
  arr(ns.Queues, 'Queues').forEach((q, i) => {
    const where = `Queues[${i}]`;
    const queue = obj(q, where);
    const queueName = name(queue.Name, where);
    const props = obj(queue.Properties ?? {}, `${where}.Properties`);
    const settings = settingsFrom(props, DEFAULTS, where);
    const duplicateDetection = duplicateDetectionFrom(props, where);
    topology.queues.set(queueName.toLowerCase(), {
      name: queueName,
      settings,
      ...(duplicateDetection ? { duplicateDetection } : {}),
    });
  });
  arr(ns.Topics, 'Topics').forEach((t, i) => {
    const where = `Topics[${i}]`;
    const topic = obj(t, where);
    const topicName = name(topic.Name, where);
    const topicProps = obj(topic.Properties ?? {}, `${where}.Properties`);
    const topicSettings = settingsFrom(topicProps, DEFAULTS, where);
    const duplicateDetection = duplicateDetectionFrom(topicProps, where);
    const entry: TopicTopology = {
      name: topicName,
      defaultTtlMs: topicSettings.defaultTtlMs,
      subscriptions: new Map(),
      ...(duplicateDetection ? { duplicateDetection } : {}),
    };
    arr(topic.Subscriptions, `${where}.Subscriptions`).forEach((s, j) => {
      const subWhere = `${where}.Subscriptions[${j}]`;
      const sub = obj(s, subWhere);
      const subName = name(sub.Name, subWhere);
      const settings = settingsFrom(obj(sub.Properties ?? {}, `${subWhere}.Properties`), topicSettings, subWhere);
      entry.subscriptions.set(subName.toLowerCase(), { name: subName, settings });
    });
    topology.topics.set(topicName.toLowerCase(), entry);
  });
  return topology;
}

export async function loadTopology(path: string): Promise<Topology> {
  return parseTopology(JSON.parse(await readFile(path, 'utf8')));
}
