import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceBusClient } from '@azure/service-bus';
import type { Principal } from '@logferry/shared/auth/http-auth';
import { describeDeadLetter, peekDeadLetters } from '@logferry/shared/dead-letters/inspect';
import { replayDeadLetters } from '@logferry/shared/dead-letters/replay';
import { parseSubscriptionRef, type SubscriptionRef } from '@logferry/shared/dead-letters/topology';
import type { Logger } from '@logferry/shared/logging/logger';
import { z } from 'zod';
import type { PipelineSampler } from '../pipeline/sampler.ts';
import { parseQuery, readJsonBody, validate } from './request-input.ts';
import { HttpError, sendJson } from './respond.ts';

export interface PipelineDeps {
  readonly sampler: Pick<PipelineSampler, 'snapshot' | 'sample'>;
  readonly serviceBus: ServiceBusClient;
  /** The pipeline's subscriptions: the only ones the page may read or replay. */
  readonly subscriptions: readonly SubscriptionRef[];
  readonly logger: Logger;
}

/** Dead letters listed per request at most; replaying "all" replays at most this many per press. */
export const MAX_DEAD_LETTERS = 200;
/** Messages looked at when replaying one by id (the same bound as `logferry dlq replay --id`). */
const ID_SCAN_LIMIT = 10_000;
const BODY_EXCERPT = 2_000;

const subscription = z.string().max(300);
const DeadLettersQuery = z.strictObject({
  subscription,
  max: z.coerce.number().int().min(1).max(MAX_DEAD_LETTERS).default(50),
});
const ReplayRequest = z.strictObject({ subscription, messageId: z.string().min(1).max(300).optional() });

export function getPipeline(deps: PipelineDeps, res: ServerResponse): void {
  sendJson(res, 200, { title: 'logferry pipeline', ...deps.sampler.snapshot() });
}

export async function listDeadLetters(deps: PipelineDeps, res: ServerResponse, params: URLSearchParams): Promise<void> {
  const q = parseQuery(DeadLettersQuery, params);
  const ref = refOf(deps, q.subscription);
  const messages = (await peekDeadLetters(deps.serviceBus, ref, q.max)).map(describeDeadLetter).map((m) => ({
    ...m,
    body: m.body.length > BODY_EXCERPT ? `${m.body.slice(0, BODY_EXCERPT)}…` : m.body,
  }));
  sendJson(res, 200, { subscription: `${ref.topic}/${ref.subscription}`, messages });
}

/**
 * POST /dead-letters/replay: `logferry dlq replay` for the page, through the same function (receive from the
 * dead-letter queue, publish a copy addressed to that subscription only, complete the original once published).
 * The route sits behind the same authentication as POST /scans; every replay is audited with who asked.
 */
export async function postReplay(
  deps: PipelineDeps,
  req: IncomingMessage,
  res: ServerResponse,
  principal: Principal,
): Promise<void> {
  const body = validate(ReplayRequest, (await readJsonBody(req)) ?? {}, 'request body');
  const ref = refOf(deps, body.subscription);
  const summary = await replayDeadLetters(deps.serviceBus, ref, {
    service: 'blob-scanner',
    max: body.messageId ? 1 : MAX_DEAD_LETTERS,
    scanLimit: body.messageId ? ID_SCAN_LIMIT : MAX_DEAD_LETTERS,
    ...(body.messageId ? { id: body.messageId } : {}),
  });
  deps.logger.info(
    {
      audit: 'dead-letter-replay',
      principal: describePrincipal(principal),
      subscription: `${ref.topic}/${ref.subscription}`,
      messageId: body.messageId ?? null,
      replayed: summary.replayed,
      failed: summary.failed,
      ...(summary.lastError ? { lastError: summary.lastError } : {}),
    },
    'dead letters replayed from the status page',
  );
  // The overview shows the new counts without waiting for the next sample.
  void deps.sampler.sample();
  if (body.messageId && summary.replayed === 0 && summary.failed === 0) {
    throw new HttpError(404, `no dead-lettered message with id ${body.messageId} in ${ref.topic}/${ref.subscription}`);
  }
  sendJson(res, summary.failed > 0 ? 502 : 200, { subscription: `${ref.topic}/${ref.subscription}`, ...summary });
}

function refOf(deps: PipelineDeps, text: string): SubscriptionRef {
  const ref = parseSubscriptionRef(text, deps.subscriptions);
  if (!ref) {
    throw new HttpError(400, 'unknown subscription', {
      known: deps.subscriptions.map((s) => `${s.topic}/${s.subscription}`),
    });
  }
  return ref;
}

/** Who replayed, for the audit line: the token's object id and name, never the credential. */
function describePrincipal(p: Principal): Record<string, unknown> {
  if (p.kind !== 'bearer') return { kind: p.kind };
  const name = typeof p.claims.preferred_username === 'string' ? p.claims.preferred_username : undefined;
  return { kind: p.kind, subject: p.subject, ...(name ? { name } : {}) };
}
