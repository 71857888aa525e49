import type { Receiver, Sender } from 'rhea';

/** rhea internals the broker relies on; not in its typings. */
export interface LinkInternals {
  credit: number;
  delivery_count: number;
  _draining: boolean;
  _drained: boolean;
  _get_drain(): boolean;
  set_drained(drained: boolean): void;
  local: { attach: Record<string, unknown> };
  remote: {
    attach?: {
      source?: { address?: string };
      target?: { address?: string };
      snd_settle_mode?: number;
      rcv_settle_mode?: number;
    };
  };
  session: {
    outgoing: {
      next_pending_delivery: number;
      next_delivery_id: number;
      deliveries: { by_id(id: number): { link: unknown } | undefined };
    };
  };
  set_source(fields: unknown): void;
  set_target(fields: unknown): void;
}

export const internals = (link: Sender | Receiver): LinkInternals => link as unknown as LinkInternals;

/** Refuses an attach: without source and target in the answer, the client sees the link as not created. */
export function refuseAttach(link: Sender | Receiver, error: { condition: string; description: string }): void {
  const local = internals(link).local;
  delete local.attach.source;
  delete local.attach.target;
  link.close(error);
}

/** Credit not yet promised to deliveries that rhea has queued but not transferred. */
export function availableCredit(sender: Sender): number {
  const link = internals(sender);
  const out = link.session.outgoing;
  let queued = 0;
  for (let id = out.next_pending_delivery; id < out.next_delivery_id; id++) {
    if (out.deliveries.by_id(id)?.link === sender) queued++;
  }
  return link.credit - queued;
}
