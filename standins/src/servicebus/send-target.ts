import type { Message } from './codec.ts';
import type { ReceiverQueue } from './queue.ts';

/** A topic (fans out to its subscriptions) or a queue (delivers to itself); owns sequence numbers and schedules. */
export interface SendTarget {
  name: string;
  receivers: ReceiverQueue[];
  nextSequence: number;
  scheduled: Map<number, { message: Message; messageId: string; dueAt: number; timer: NodeJS.Timeout }>;
  /** With RequiresDuplicateDetection: message ids accepted within the window, by the time first accepted. */
  dedup?: { windowMs: number; seen: Map<string, number> };
}

/** Strips `sb://host/` and leading slashes; entity names are case-insensitive. */
export function normalizePath(address: string): string {
  return address
    .replace(/^[a-z]+:\/\/[^/]*\/?/i, '')
    .replace(/^\/+/, '')
    .toLowerCase();
}

/** A send target with no messages yet; `duplicateDetection` as the topology declares it. */
export function newSendTarget(
  name: string,
  receivers: ReceiverQueue[],
  duplicateDetection: { readonly windowMs: number } | undefined,
): SendTarget {
  return {
    name,
    receivers,
    nextSequence: 1,
    scheduled: new Map(),
    ...(duplicateDetection ? { dedup: { windowMs: duplicateDetection.windowMs, seen: new Map() } } : {}),
  };
}

/** Whether the id was accepted within the window (then the send is dropped); otherwise it is remembered now. */
export function isDuplicate(dedup: { windowMs: number; seen: Map<string, number> }, id: string, now: number): boolean {
  // Insertion order is acceptance order: expired ids are all at the front.
  for (const [seenId, at] of dedup.seen) {
    if (now - at < dedup.windowMs) break;
    dedup.seen.delete(seenId);
  }
  if (dedup.seen.has(id)) return true;
  dedup.seen.set(id, now);
  return false;
}
