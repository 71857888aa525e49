import type { ServiceBusAdministrationClient } from '@azure/service-bus';
import type { SubscriptionRef } from './topology.ts';

export interface SubscriptionCounts extends SubscriptionRef {
  /** Waiting or locked (being handled): Service Bus counts a locked message as active until it is settled. */
  readonly active: number;
  readonly deadLetter: number;
  readonly scheduled: number;
}

/**
 * Active, dead-lettered and scheduled counts of every subscription in `refs`, read with one
 * `listSubscriptionsRuntimeProperties` call per topic (the administration API, so it needs Manage rights
 * or the "Azure Service Bus Data Owner" role). Subscriptions the namespace lacks are left out.
 */
export async function readSubscriptionCounts(
  admin: Pick<ServiceBusAdministrationClient, 'listSubscriptionsRuntimeProperties'>,
  refs: readonly SubscriptionRef[],
  options: { abortSignal?: AbortSignal } = {},
): Promise<SubscriptionCounts[]> {
  const topics = [...new Set(refs.map((r) => r.topic))];
  const byName = new Map<string, SubscriptionCounts>();
  await Promise.all(
    topics.map(async (topic) => {
      for await (const p of admin.listSubscriptionsRuntimeProperties(topic, options)) {
        byName.set(`${topic}/${p.subscriptionName}`, {
          topic,
          subscription: p.subscriptionName,
          active: p.activeMessageCount,
          deadLetter: p.deadLetterMessageCount,
          scheduled: p.totalMessageCount - p.activeMessageCount - p.deadLetterMessageCount,
        });
      }
    }),
  );
  return refs.flatMap((r) => byName.get(`${r.topic}/${r.subscription}`) ?? []);
}
