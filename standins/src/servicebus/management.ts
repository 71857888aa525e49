import {
  decodeMessage,
  longToNumber,
  type Message,
  stringToUuidBytes,
  uuidToString,
  wrapLong,
  wrapUuid,
} from './codec.ts';
import type { Namespace, Settlement } from './namespace.ts';
import { renderMessage } from './render-message.ts';
import { normalizePath } from './send-target.ts';

/** What a request/response node answers; rendered into a reply by `toReply`. */
export interface ManagementResult {
  status: number;
  description?: string;
  condition?: string;
  body?: unknown;
}

const ok = (body?: unknown): ManagementResult => ({ status: 200, description: 'OK', body });
const fail = (status: number, condition: string, description: string): ManagementResult => ({
  status,
  condition,
  description,
});
const lockLost = (): ManagementResult =>
  fail(
    410,
    'com.microsoft:message-lock-lost',
    'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.',
  );
const badRequest = (what: string): ManagementResult => fail(400, 'com.microsoft:argument-error', what);

/** Both spellings of the status keys: core-amqp's CBS reads `status-code`, the SDK's peek reads `statusCode`. */
export function toReply(request: Message, result: ManagementResult): Message {
  const props: Record<string, unknown> = {
    statusCode: result.status,
    'status-code': result.status,
    statusDescription: result.description ?? '',
    'status-description': result.description ?? '',
  };
  if (result.condition) {
    props.errorCondition = result.condition;
    props['error-condition'] = result.condition;
  }
  return { correlation_id: request.message_id, application_properties: props, body: result.body } as Message;
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Buffer.isBuffer(v) ? (v as Record<string, unknown>) : {};
}

function lockTokens(body: Record<string, unknown>): string[] | undefined {
  const raw = body['lock-tokens'];
  if (!Array.isArray(raw)) return undefined;
  const tokens = raw.map(uuidToString);
  return tokens.every((t): t is string => t !== undefined) ? tokens : undefined;
}

function sequenceNumbers(body: Record<string, unknown>): number[] | undefined {
  const raw = body['sequence-numbers'];
  if (!Array.isArray(raw)) return undefined;
  const seqs = raw.map(longToNumber);
  return seqs.every((s): s is number => s !== undefined) ? seqs : undefined;
}

function notFound(path: string): ManagementResult {
  return fail(404, 'amqp:not-found', `The messaging entity '${path}' could not be found.`);
}

/** `<entity>/$management` operations the SDK uses, answered with the status codes and bodies it expects. */
export function handleManagement(ns: Namespace, nodeAddress: string, request: Message): ManagementResult {
  const entityPath = normalizePath(nodeAddress).replace(/\/\$management$/, '');
  const operation = String(request.application_properties?.operation ?? '');
  const body = asRecord(request.body);
  const target = ns.sendTarget(entityPath);
  const queue = ns.receiver(entityPath);
  if (!target && !queue) return notFound(entityPath);

  switch (operation) {
    case 'com.microsoft:renew-lock': {
      const tokens = lockTokens(body);
      if (!tokens) return badRequest('lock-tokens must be an array of uuids');
      const expirations: Date[] = [];
      for (const token of tokens) {
        const until = ns.renewLock(token);
        if (until === undefined) return lockLost();
        expirations.push(new Date(until));
      }
      return ok({ expirations });
    }
    case 'com.microsoft:update-disposition': {
      const tokens = lockTokens(body);
      if (!tokens) return badRequest('lock-tokens must be an array of uuids');
      const settlement = dispositionFrom(body);
      if (!settlement) return badRequest('unknown disposition-status');
      for (const token of tokens) if (!ns.settle(token, settlement)) return lockLost();
      return ok();
    }
    case 'com.microsoft:schedule-message': {
      if (!target) return badRequest('messages can only be scheduled on a topic or queue');
      const entries = body.messages;
      if (!Array.isArray(entries)) return badRequest('messages must be a list');
      const decoded: Message[] = [];
      for (const entry of entries) {
        const raw = asRecord(entry).message;
        if (!Buffer.isBuffer(raw)) return badRequest('each scheduled entry needs an encoded message');
        decoded.push(decodeMessage(raw));
      }
      return ok({ 'sequence-numbers': ns.publish(target, decoded).map(wrapLong) });
    }
    case 'com.microsoft:cancel-scheduled-message': {
      if (!target) return badRequest('scheduled messages live on a topic or queue');
      const seqs = sequenceNumbers(body);
      if (!seqs) return badRequest('sequence-numbers must be a list of longs');
      ns.cancelScheduled(target, seqs);
      return ok();
    }
    case 'com.microsoft:peek-message': {
      if (!queue) return badRequest('peek needs a subscription, queue or dead-letter queue');
      const from = longToNumber(body['from-sequence-number']) ?? 1;
      const count = typeof body['message-count'] === 'number' ? body['message-count'] : 1;
      const found = queue.peek(from, Math.max(1, Math.min(count, 1000)));
      if (found.length === 0) return { status: 204, description: 'No Content' };
      return ok({ messages: found.map((m) => ({ message: renderMessage(m, m.deliveries) })) });
    }
    case 'com.microsoft:receive-by-sequence-number': {
      if (!queue) return badRequest('deferred messages live on a subscription or queue');
      const seqs = sequenceNumbers(body);
      if (!seqs) return badRequest('sequence-numbers must be a list of longs');
      const missing = seqs.filter((s) => !queue.deferred.has(s));
      if (missing.length > 0) {
        return fail(410, 'com.microsoft:message-not-found', `Deferred message(s) ${missing.join(', ')} not found.`);
      }
      const peekLock = body['receiver-settle-mode'] !== 0;
      const delivered = ns.deliverDeferred(queue, seqs, peekLock);
      return ok({
        messages: delivered.map((d) => ({
          message: d.payload,
          ...(d.token ? { 'lock-token': wrapUuid(stringToUuidBytes(d.token)) } : {}),
        })),
      });
    }
    default:
      return fail(501, 'amqp:not-implemented', `operation '${operation}' is not supported by the stand-in`);
  }
}

function dispositionFrom(body: Record<string, unknown>): Settlement | undefined {
  const props = asRecord(body['properties-to-modify']);
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  switch (body['disposition-status']) {
    case 'completed':
      return { type: 'complete' };
    case 'abandoned':
      return { type: 'abandon', props };
    case 'defered':
      return { type: 'defer', props };
    case 'suspended':
      return {
        type: 'deadLetter',
        reason: str(body['deadletter-reason']),
        description: str(body['deadletter-description']),
        props,
      };
    default:
      return undefined;
  }
}
