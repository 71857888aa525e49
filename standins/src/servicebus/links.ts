import type { Logger } from '@logferry/shared/logging/logger';
import type { Connection, Delivery, EventContext, Receiver, Sender } from 'rhea';
import { handleCbs } from './cbs.ts';
import {
  decodeIncoming,
  encodeMessage,
  lockTokenToDeliveryTag,
  type Message,
  newUuid,
  swapGuidBytes,
  uuidToString,
} from './codec.ts';
import { availableCredit, internals, type LinkInternals, refuseAttach } from './link-internals.ts';
import { handleManagement, type ManagementResult, toReply } from './management.ts';
import type { Namespace } from './namespace.ts';
import { notFoundError, outcomeSettlement, settleBack } from './outcomes.ts';
import type { ReceiverQueue } from './queue.ts';
import { type Claim, grants, type Rights, sasKeyName, unauthorizedError } from './sas-rights.ts';

/** Standard tier: what the SDK sizes its batches by (it reads the attach's max_message_size). */
export const MAX_MESSAGE_SIZE = 256 * 1024;

interface Consumer {
  link: Sender;
  queue: ReceiverQueue;
  peekLock: boolean;
}

type Node = { kind: 'cbs' } | { kind: 'management'; address: string } | { kind: 'entity'; target: string };

/** Routes AMQP link events to the namespace: entity senders, consumers with credit/drain, request/response nodes. */
export class LinkRouter {
  readonly #ns: Namespace;
  readonly #log: Logger;
  readonly #consumers = new Map<ReceiverQueue, Set<Consumer>>();
  readonly #byLink = new WeakMap<Sender, Consumer>();
  readonly #nodes = new WeakMap<Receiver, Node>();
  readonly #replyLinks = new WeakMap<Connection, Map<string, Sender>>();
  readonly #rights: Rights | undefined;
  /** The SAS key name each connection's tokens carry (`skn`), as Service Bus authorizes by it. */
  readonly #keyNames = new WeakMap<Connection, string>();

  constructor(ns: Namespace, log: Logger, rights?: Rights) {
    this.#ns = ns;
    this.#log = log;
    this.#rights = rights;
    ns.onChange((queues) => {
      for (const q of queues) this.#pump(q);
    });
  }

  /** The client attached a receiver: the broker sends on this link. */
  senderOpened(ctx: EventContext): void {
    const sender = ctx.sender!;
    const link = internals(sender);
    const remote = link.remote.attach ?? {};
    const address = remote.source?.address ?? '';
    link.set_source({ address });
    link.set_target({ address: remote.target?.address });
    if (address === '$cbs' || address.endsWith('/$management')) {
      const replies = this.#repliesFor(ctx.connection);
      replies.set(sender.name, sender);
      if (remote.target?.address) replies.set(remote.target.address, sender);
      return;
    }
    const queue = this.#ns.receiver(address);
    if (!queue) {
      this.#refuse(sender, address);
      return;
    }
    if (!this.#allowed(ctx.connection, 'Listen', address)) {
      this.#deny(sender, 'Listen', address);
      return;
    }
    link.local.attach.snd_settle_mode = remote.snd_settle_mode;
    link.local.attach.rcv_settle_mode = remote.rcv_settle_mode;
    // rhea only answers a drain while credit remains; a drain must be echoed even when credit ran out exactly.
    link._get_drain = function (this: LinkInternals) {
      if (!this._draining || !this._drained) return false;
      this.delivery_count += this.credit;
      this.credit = 0;
      this._draining = false;
      return true;
    };
    const consumer: Consumer = { link: sender, queue, peekLock: remote.snd_settle_mode !== 1 };
    this.#byLink.set(sender, consumer);
    const set = this.#consumers.get(queue) ?? new Set<Consumer>();
    this.#consumers.set(queue, set);
    set.add(consumer);
    this.#log.debug({ address, peekLock: consumer.peekLock }, 'consumer attached');
  }

  /** The client attached a sender: the broker receives on this link. */
  receiverOpened(ctx: EventContext): void {
    const receiver = ctx.receiver!;
    const link = internals(receiver);
    const remote = link.remote.attach ?? {};
    const address = remote.target?.address ?? '';
    link.set_target({ address });
    link.set_source({ address: remote.source?.address });
    if (address === '$cbs') this.#nodes.set(receiver, { kind: 'cbs' });
    else if (address.endsWith('/$management')) {
      // Peeking and renewing on a subscription need Listen; scheduling (retry copies) on a topic needs Send.
      const entity = address.slice(0, -'/$management'.length);
      const claim = /\/subscriptions\//i.test(entity) ? 'Listen' : 'Send';
      if (!this.#allowed(ctx.connection, claim, entity)) this.#deny(receiver, claim, entity);
      else this.#nodes.set(receiver, { kind: 'management', address });
    } else if (!this.#allowed(ctx.connection, 'Send', address) && this.#ns.sendTarget(address)) {
      this.#deny(receiver, 'Send', address);
    } else if (this.#ns.sendTarget(address)) {
      link.local.attach.max_message_size = MAX_MESSAGE_SIZE;
      this.#nodes.set(receiver, { kind: 'entity', target: address });
    } else this.#refuse(receiver, address);
  }

  message(ctx: EventContext): void {
    const receiver = ctx.receiver!;
    const delivery = ctx.delivery!;
    const node = this.#nodes.get(receiver);
    if (!node) return;
    if (node.kind === 'entity') {
      this.#publish(node.target, ctx, delivery);
      return;
    }
    delivery.accept();
    const request = ctx.message as Message;
    let result: ManagementResult;
    try {
      result = node.kind === 'cbs' ? handleCbs(this.#ns, request) : handleManagement(this.#ns, node.address, request);
      if (node.kind === 'cbs' && result.status === 202) {
        const keyName = sasKeyName(request.body);
        if (keyName !== undefined) this.#keyNames.set(ctx.connection, keyName);
      }
    } catch (err) {
      this.#log.warn({ err }, 'management request failed');
      result = {
        status: 500,
        condition: 'amqp:internal-error',
        description: 'the stand-in failed to handle the request',
      };
    }
    const replyTo = request.reply_to;
    const replyLink = replyTo ? this.#replyLinks.get(ctx.connection)?.get(replyTo) : undefined;
    if (!replyLink?.is_open()) {
      this.#log.debug({ replyTo }, 'no reply link for request');
      return;
    }
    const sent = replyLink.send(toReply(request, result));
    // Replies are presettled so the broker keeps no delivery state for them.
    (sent as unknown as { settled: boolean }).settled = true;
  }

  /** Credit arrived or a drain was requested. */
  flow(ctx: EventContext): void {
    const consumer = ctx.sender ? this.#byLink.get(ctx.sender) : undefined;
    if (consumer) this.#pump(consumer.queue);
  }

  outcome(ctx: EventContext): void {
    const delivery = ctx.delivery!;
    const consumer = ctx.sender ? this.#byLink.get(ctx.sender) : undefined;
    if (!consumer?.peekLock) return;
    const tag = delivery.tag as unknown;
    const token = Buffer.isBuffer(tag) ? uuidToString(swapGuidBytes(tag)) : undefined;
    const settlement = outcomeSettlement(delivery.remote_state as unknown);
    const ok = token !== undefined && settlement !== undefined && this.#ns.settle(token, settlement);
    settleBack(delivery, ok ? settlement?.type : undefined);
  }

  linkClosed(ctx: EventContext): void {
    const sender = ctx.sender;
    if (!sender) return;
    this.#dropConsumer(sender);
    const replies = this.#replyLinks.get(ctx.connection);
    for (const [key, link] of replies ?? []) if (link === sender) replies?.delete(key);
  }

  /** A session or connection ended without detaching its links first (a client that just went away). */
  endpointGone(scope: { connection: Connection; session?: unknown }): void {
    for (const set of this.#consumers.values()) {
      for (const c of set) {
        const owned = scope.session ? c.link.session === scope.session : c.link.connection === scope.connection;
        if (owned) this.#dropConsumer(c.link);
      }
    }
    if (!scope.session) this.#replyLinks.delete(scope.connection);
  }

  #publish(targetPath: string, ctx: EventContext, delivery: Delivery): void {
    const target = this.#ns.sendTarget(targetPath);
    try {
      const format = (ctx as { format?: number }).format;
      const size = Buffer.isBuffer(ctx.message) ? ctx.message.length : encodeMessage(ctx.message as Message).length;
      if (size > MAX_MESSAGE_SIZE) {
        delivery.reject({
          condition: 'amqp:link:message-size-exceeded',
          description: `The message size ${size} exceeds the limit of ${MAX_MESSAGE_SIZE} bytes.`,
        });
        return;
      }
      if (!target) throw new Error('entity disappeared');
      this.#ns.publish(target, decodeIncoming(ctx.message, format));
      delivery.accept();
    } catch (err) {
      this.#log.debug({ err }, 'rejected an incoming message');
      delivery.reject({ condition: 'amqp:decode-error', description: (err as Error).message });
    }
  }

  #pump(queue: ReceiverQueue): void {
    const consumers = this.#consumers.get(queue);
    if (!consumers || consumers.size === 0) return;
    let progressed = true;
    let exhausted = false;
    while (progressed && !exhausted) {
      progressed = false;
      for (const c of consumers) {
        if (c.link.is_closed()) this.#dropConsumer(c.link);
        if (!c.link.is_open() || availableCredit(c.link) <= 0) continue;
        const d = this.#ns.deliver(queue, c.peekLock);
        if (!d) {
          exhausted = true;
          break;
        }
        const tag = lockTokenToDeliveryTag(d.token ?? newUuid());
        c.link.send(d.payload as unknown as Message, tag, 0);
        progressed = true;
      }
    }
    for (const c of consumers) {
      const link = internals(c.link);
      if (link._draining && c.link.is_open()) link.set_drained(true);
    }
  }

  #dropConsumer(sender: Sender): void {
    const consumer = this.#byLink.get(sender);
    if (!consumer) return;
    this.#byLink.delete(sender);
    this.#consumers.get(consumer.queue)?.delete(consumer);
  }

  #allowed(connection: Connection, claim: Claim, address: string): boolean {
    return grants(this.#rights, this.#keyNames.get(connection), claim, address);
  }

  #deny(link: Sender | Receiver, claim: Claim, address: string): void {
    this.#log.debug({ claim, address }, 'attach refused: the key lacks the claim');
    refuseAttach(link, unauthorizedError(claim, address));
  }

  #refuse(link: Sender | Receiver, address: string): void {
    refuseAttach(link, notFoundError(address));
  }

  #repliesFor(connection: Connection): Map<string, Sender> {
    const map = this.#replyLinks.get(connection) ?? new Map<string, Sender>();
    this.#replyLinks.set(connection, map);
    return map;
  }
}
