import { normalizePath } from './send-target.ts';

/**
 * Claims per SAS key name, as Azure grants Data Sender on a topic and Data Receiver on a subscription:
 * `send` lists topics, `listen` lists `topic/subscription` pairs. A key not listed holds nothing.
 */
export type Rights = Readonly<Record<string, { readonly send: readonly string[]; readonly listen: readonly string[] }>>;

/** The `skn` of a SAS token (`SharedAccessSignature sr=…&sig=…&se=…&skn=…`). */
export function sasKeyName(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  const match = /(?:^|[&\s])skn=([^&]+)/.exec(token);
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
}

export type Claim = 'Send' | 'Listen';

/** Whether the key grants the claim on the entity at `address`; without configured rights every entity is open. */
export function grants(
  rights: Rights | undefined,
  keyName: string | undefined,
  claim: Claim,
  address: string,
): boolean {
  if (rights === undefined) return true;
  const granted = keyName === undefined ? undefined : rights[keyName];
  const entity = normalizePath(address);
  if (claim === 'Send') return (granted?.send ?? []).some((topic) => normalizePath(topic) === entity);
  return (granted?.listen ?? []).some((pair) => normalizePath(pair.replace('/', '/subscriptions/')) === entity);
}

/** Service Bus's answer to an attach the key lacks the claim for. */
export function unauthorizedError(claim: Claim, address: string): { condition: string; description: string } {
  return {
    condition: 'amqp:unauthorized-access',
    description: `Unauthorized access. '${claim}' claim(s) are required to perform this operation. Resource: '${address}'.`,
  };
}
