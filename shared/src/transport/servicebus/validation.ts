import { type MessageOf, TOPIC_SCHEMAS, type TopicName } from '../../messages/index.ts';
import { MAX_DESCRIPTION, truncate } from './properties.ts';

export type Validation<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: 'InvalidJson' | 'SchemaValidation'; readonly description: string };

/** Names the failing fields and why, never their values (a value may be large or sensitive). */
export function describeIssues(
  issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
): string {
  const parts = issues.map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
  return truncate(parts.join('; '), MAX_DESCRIPTION);
}

export function validateMessage<T extends TopicName>(topic: T, value: unknown): Validation<MessageOf<T>> {
  const result = TOPIC_SCHEMAS[topic].safeParse(value);
  if (result.success) return { ok: true, value: result.data as MessageOf<T> };
  return { ok: false, reason: 'SchemaValidation', description: describeIssues(result.error.issues) };
}

/** A received body: a data section (bytes of JSON), or an AMQP value a foreign producer may have sent. */
export function decodeAndValidate<T extends TopicName>(topic: T, body: unknown): Validation<MessageOf<T>> {
  let value: unknown = body;
  if (body instanceof Uint8Array || typeof body === 'string') {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    try {
      value = JSON.parse(text);
    } catch (err) {
      return {
        ok: false,
        reason: 'InvalidJson',
        description: truncate(`body is not JSON (${(err as Error).message})`, MAX_DESCRIPTION),
      };
    }
  }
  return validateMessage(topic, value);
}

export class MessageValidationError extends Error {
  readonly topic: TopicName;
  readonly index: number;
  constructor(topic: TopicName, index: number, description: string) {
    super(`message ${index} for topic ${topic} fails its schema: ${description}`);
    this.name = 'MessageValidationError';
    this.topic = topic;
    this.index = index;
  }
}
