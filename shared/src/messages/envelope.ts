import { z } from 'zod';
import { SERVICES } from '../services.ts';

/** Every topic a service may publish to or consume from; mirrors deploy/servicebus/Config.json. */
export const TOPICS = ['s3-objects', 'staged-batches', 'ingest-requests', 'ingestion-results'] as const;
export type TopicName = (typeof TOPICS)[number];

/** Who may publish: a service, or the operator CLI (dlq replay, backfill). */
export const SERVICE_NAMES = [...SERVICES, 'cli'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * Fields every message carries. `id` is the idempotency key downstream (and the Service Bus
 * messageId, so broker-side duplicate detection can use it where enabled).
 */
export const envelopeFields = {
  schemaVersion: z.literal(1),
  id: z.string().min(1).max(128),
  producer: z.enum(SERVICE_NAMES),
  time: z.iso.datetime({ offset: true }),
};

export const isoTime = z.iso.datetime({ offset: true });
