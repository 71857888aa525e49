import { z } from 'zod';
import { defineConfig, defineVars, env } from '../define.ts';
import { azureAuthVars, healthVars, localModeVars, serviceBusVars, storageVars, telemetryVars } from '../parts.ts';
import { kustoVars } from './adx-ingester.ts';

export const completionCheckerVars = defineVars({
  STATUS_BATCH_SIZE: {
    schema: env.int(1, 32).default(32),
    description:
      "Status reports read per receive from each of ADX's success and failure queues (32 is the queue maximum).",
  },
  STATUS_VISIBILITY_TIMEOUT_S: {
    schema: env.int(5, 3600).default(120),
    description:
      'Seconds a received report stays hidden while its row is saved; an unsaved report (crash) reappears after it.',
  },
  STATUS_POLL_INTERVAL_MS: {
    schema: env.int(100, 600_000).default(5_000),
    description: 'Pause between reads when the status queues are empty.',
  },
  FOREIGN_REPORTS: {
    schema: env.oneOf('hide', 'delete').default('hide'),
    description:
      "What to do with a report whose IngestionSourceId matches no row (another client of the cluster's shared status queues): `hide` leaves it on the queue, invisible for FOREIGN_REPORT_HIDE_S, for its owner; `delete` removes it (clusters used by logferry alone).",
  },
  FOREIGN_REPORT_HIDE_S: {
    schema: env.int(0, 7 * 86_400).default(3_600),
    description: 'How long a foreign report stays invisible before it is seen again (by any reader).',
  },
  STALE_AFTER_MS: {
    schema: env.int(1_000, 7 * 86_400_000).default(3_600_000),
    description:
      'A row posted to ADX (`ingesting`) that heard no report after this long becomes `unknown` and is queued again (a rescue: it keeps its attempts). For ADX silence only: an unpublished claim is re-claimed by the scanner after SCAN_CLAIM_LEASE_MS. Keep it well above the ADX batching time (default 5 min).',
  },
  MAX_TIMEOUT_RESCUES: {
    schema: env.int(0, 1_000).default(10),
    description:
      'How often one blob version is queued again after STALE_AFTER_MS of ADX silence before it stays `unknown` (rescues do not use up BLOB_MAX_ATTEMPTS).',
  },
  STALE_CHECK_INTERVAL_MS: {
    schema: env.int(100, 3_600_000).default(60_000),
    description: 'How often rows are checked against STALE_AFTER_MS.',
  },
  STALE_BATCH_LIMIT: {
    schema: env.int(1, 10_000).default(500),
    description: 'Stale rows handled per check (bounds memory and the burst of requeued requests).',
  },
  RESOURCES_REFRESH_MS: {
    schema: env.int(60_000, 86_400_000).default(1_800_000),
    description:
      "How often the status queue URLs (with ADX's rotating SAS) are fetched again with `.get ingestion resources`.",
  },
  LEASE_CONTAINER: {
    schema: z
      .string()
      .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'a valid container name')
      .default('logferry-locks'),
    description:
      'Container of the lease blob that keeps one completion-checker reading the status queues (a second replica idles).',
  },
  LEASE_BLOB: {
    schema: env.string().default('completion-checker.lock'),
    description: 'Name of that lease blob.',
  },
  LEASE_DURATION_S: {
    schema: env.int(15, 60).default(60),
    description:
      'Seconds the single-reader lease lasts (renewed every third of it): how long a replacement waits to take over after the reader crashes.',
  },
});

export const config = defineConfig(
  'completion-checker',
  serviceBusVars,
  azureAuthVars,
  storageVars,
  telemetryVars,
  healthVars,
  localModeVars,
  kustoVars,
  completionCheckerVars,
);
