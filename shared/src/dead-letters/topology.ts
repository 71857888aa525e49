import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** deploy/servicebus/Config.json: the topology the emulator, the stand-in and the chart share (also in the image). */
export const DEFAULT_TOPOLOGY_PATH = fileURLToPath(new URL('../../../deploy/servicebus/Config.json', import.meta.url));

const Topology = z.object({
  UserConfig: z.object({
    Namespaces: z
      .array(
        z.object({
          Topics: z.array(
            z.object({ Name: z.string().min(1), Subscriptions: z.array(z.object({ Name: z.string().min(1) })) }),
          ),
        }),
      )
      .min(1),
  }),
});

export interface SubscriptionRef {
  readonly topic: string;
  readonly subscription: string;
}

/** Every topic/subscription pair, in file order. */
export function readSubscriptions(path = DEFAULT_TOPOLOGY_PATH): SubscriptionRef[] {
  const parsed = Topology.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success)
    throw new Error(`${path} is not a Service Bus emulator Config.json: ${parsed.error.issues[0]?.message}`);
  return parsed.data.UserConfig.Namespaces.flatMap((ns) =>
    ns.Topics.flatMap((t) => t.Subscriptions.map((s) => ({ topic: t.Name, subscription: s.Name }))),
  );
}

/** `topic/subscription` as the operator types it, checked against the topology. */
export function parseSubscriptionRef(text: string, known: readonly SubscriptionRef[]): SubscriptionRef | undefined {
  const [topic, subscription, ...rest] = text.split('/');
  if (!topic || !subscription || rest.length > 0) return undefined;
  return known.find((k) => k.topic === topic && k.subscription === subscription);
}
