// First: corrects rhea's disposition coalescing before the SDK loads it (see the module).
import '@logferry/shared/amqp/rhea-dispositions-fix';
import rhea, { type Message } from 'rhea';

/** Message format the SDK uses for batches: one envelope whose data sections each hold an encoded message. */
export const BATCH_FORMAT = 0x80013700;

export type { Message };

interface Section {
  typecode: number;
  content: unknown;
  multiple?: boolean;
}

function isSection(v: unknown): v is Section {
  return typeof v === 'object' && v !== null && 'typecode' in v && 'content' in v;
}

/** Decodes what a client sender transferred into individual messages (a batch yields several). */
export function decodeIncoming(payload: unknown, format: number | undefined): Message[] {
  if (!format) return [payload as Message];
  if (format !== BATCH_FORMAT) throw new Error(`unsupported message format 0x${format.toString(16)}`);
  if (!Buffer.isBuffer(payload)) throw new Error('batch payload is not binary');
  const envelope = rhea.message.decode(payload);
  const body = envelope.body;
  if (!isSection(body) || body.typecode !== 0x75) throw new Error('batch envelope has no data sections');
  const parts = body.multiple ? (body.content as unknown[]) : [body.content];
  return parts.map((part) => {
    if (!Buffer.isBuffer(part)) throw new Error('batch data section is not binary');
    return rhea.message.decode(part) as unknown as Message;
  });
}

/**
 * .NET writes a Guid's first three groups little-endian; the SDK reorders delivery tags this way before
 * printing them as lock tokens, so the broker must send tags in that order (the swap is its own inverse).
 */
export function swapGuidBytes(bytes: Buffer): Buffer {
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return Buffer.from(order.map((i) => bytes[i] ?? 0));
}

export function lockTokenToDeliveryTag(token: string): Buffer {
  return swapGuidBytes(Buffer.from(rhea.string_to_uuid(token)));
}

/** Management requests carry lock tokens as AMQP uuids in RFC 4122 byte order. */
export function uuidToString(value: unknown): string | undefined {
  if (Buffer.isBuffer(value) && value.length === 16) return rhea.uuid_to_string(value);
  if (typeof value === 'string' && /^[0-9a-f-]{36}$/i.test(value)) return value.toLowerCase();
  return undefined;
}

export function stringToUuidBytes(token: string): Buffer {
  return Buffer.from(rhea.string_to_uuid(token));
}

export function newUuid(): string {
  return rhea.generate_uuid();
}

/** Sequence numbers arrive as AMQP longs: a number when it fits, else 8 big-endian bytes. */
export function longToNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE(0));
  return undefined;
}

export function wrapLong(n: number): unknown {
  return rhea.types.wrap_long(n);
}

export function wrapUuid(bytes: Buffer): unknown {
  return rhea.types.wrap_uuid(bytes);
}

export function encodeMessage(msg: Message): Buffer {
  return rhea.message.encode(msg);
}

export function decodeMessage(bytes: Buffer): Message {
  return rhea.message.decode(bytes) as unknown as Message;
}

/** The body as the SDK's default transformer would hand it to a user: JSON when it parses, else bytes. */
export function readableBody(msg: Message): unknown {
  const body = msg.body as unknown;
  if (!isSection(body)) return body;
  if (body.typecode === 0x75 && Buffer.isBuffer(body.content)) {
    const text = body.content.toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      return body.content;
    }
  }
  return body.content;
}
