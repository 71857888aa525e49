import type { IncomingMessage, ServerResponse } from 'node:http';
import { countsOf } from './inspect.ts';
import type { Namespace } from './namespace.ts';

// The Service Bus ATOM management API, as far as `ServiceBusAdministrationClient`'s runtime-properties reads go:
//   GET /{topic}/Subscriptions/{subscription}?api-version=…   getSubscriptionRuntimeProperties (an <entry>)
//   GET /{topic}/Subscriptions?$skip=&$top=&api-version=…    listSubscriptionsRuntimeProperties (a <feed>)
// Bodies are shaped like the real service's (SubscriptionDescription with CountDetails in the 2011/06 namespace),
// which the SDK parses with @azure/core-xml. Anything else answers 404 or 405 in the service's error format.

const ATOM = 'http://www.w3.org/2005/Atom';
const CONNECT = 'http://schemas.microsoft.com/netservices/2010/10/servicebus/connect';
const COUNTS_NS = 'http://schemas.microsoft.com/netservices/2011/06/servicebus';

const escapeXml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

export interface AdministrationOptions {
  /** Created/updated times reported for every entity (the topology is loaded once, at start). */
  readonly startedAt: Date;
}

/** Answers one HTTPS request of the administration client. */
export function handleAdministration(
  ns: Namespace,
  req: IncomingMessage,
  res: ServerResponse,
  o: AdministrationOptions,
): void {
  const { status, body } = answer(ns, req, o);
  res.writeHead(status, {
    'Content-Type': status === 200 ? 'application/atom+xml;type=entry;charset=utf-8' : 'application/xml; charset=utf-8',
  });
  res.end(body);
}

function answer(ns: Namespace, req: IncomingMessage, o: AdministrationOptions): { status: number; body: string } {
  // The SDK signs every request (SAS or bearer); a request without it is not from the SDK.
  if (!req.headers.authorization && !req.headers.servicebusauthorization) {
    return error(401, 'MissingToken: The authorization header was not provided.');
  }
  if (req.method !== 'GET') return error(405, `The stand-in only answers reads, not ${req.method}.`);
  const base = `https://${req.headers.host ?? 'localhost'}`;
  const url = new URL(req.url ?? '/', base);
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 3 && parts[1]?.toLowerCase() === 'subscriptions') {
    const [topic = '', , subscription = ''] = parts;
    const entry = subscriptionEntry(ns, base, topic, subscription, o);
    if (!entry) return error(404, `The messaging entity '${topic}/Subscriptions/${subscription}' was not found.`);
    return {
      status: 200,
      body: `<?xml version="1.0" encoding="utf-8"?>${entry.replace('<entry>', `<entry xmlns="${ATOM}">`)}`,
    };
  }
  if (parts.length === 2 && parts[1]?.toLowerCase() === 'subscriptions') {
    const topic = ns.topology.topics.get((parts[0] ?? '').toLowerCase());
    if (!topic) return error(404, `The messaging entity '${parts[0]}' was not found.`);
    const skip = Number(url.searchParams.get('$skip') ?? 0) || 0;
    const top = Number(url.searchParams.get('$top') ?? 100) || 100;
    const names = [...topic.subscriptions.values()].map((s) => s.name).slice(skip, skip + top);
    const entries = names.map((s) => subscriptionEntry(ns, base, topic.name, s, o)).join('');
    const self = `${base}/${encodeURIComponent(topic.name)}/Subscriptions?api-version=2021-05`;
    return {
      status: 200,
      body:
        `<?xml version="1.0" encoding="utf-8"?><feed xmlns="${ATOM}"><title type="text">Subscriptions</title>` +
        `<id>${escapeXml(self)}</id><updated>${new Date().toISOString()}</updated>` +
        `<link rel="self" href="${escapeXml(self)}"/>${entries}</feed>`,
    };
  }
  return error(404, `No such entity path: ${url.pathname}`);
}

function subscriptionEntry(
  ns: Namespace,
  base: string,
  topicName: string,
  subscriptionName: string,
  o: AdministrationOptions,
): string | undefined {
  const topic = ns.topology.topics.get(topicName.toLowerCase());
  const sub = topic?.subscriptions.get(subscriptionName.toLowerCase());
  if (!topic || !sub) return undefined;
  const c = countsOf(ns, topic.name, sub.name);
  const id = `${base}/${encodeURIComponent(topic.name)}/Subscriptions/${encodeURIComponent(sub.name)}?api-version=2021-05`;
  const created = o.startedAt.toISOString();
  const now = new Date().toISOString();
  const total = c.active + c.locked + c.deadLetter;
  return (
    `<entry><id>${escapeXml(id)}</id><title type="text">${escapeXml(sub.name)}</title>` +
    `<published>${created}</published><updated>${now}</updated><link rel="self" href="${escapeXml(id)}"/>` +
    `<content type="application/xml"><SubscriptionDescription xmlns="${CONNECT}" ` +
    'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">' +
    `<LockDuration>PT${sub.settings.lockDurationMs / 1000}S</LockDuration><RequiresSession>false</RequiresSession>` +
    `<DeadLetteringOnMessageExpiration>${sub.settings.deadLetterOnExpiration}</DeadLetteringOnMessageExpiration>` +
    `<MessageCount>${total}</MessageCount><MaxDeliveryCount>${sub.settings.maxDeliveryCount}</MaxDeliveryCount>` +
    '<EnableBatchedOperations>true</EnableBatchedOperations><Status>Active</Status>' +
    `<CreatedAt>${created}</CreatedAt><UpdatedAt>${created}</UpdatedAt><AccessedAt>${now}</AccessedAt>` +
    `<CountDetails xmlns:d2p1="${COUNTS_NS}">` +
    // Locked messages are still active in Service Bus's terms (they count until settled).
    `<d2p1:ActiveMessageCount>${c.active + c.locked}</d2p1:ActiveMessageCount>` +
    `<d2p1:DeadLetterMessageCount>${c.deadLetter}</d2p1:DeadLetterMessageCount>` +
    `<d2p1:ScheduledMessageCount>${c.scheduled}</d2p1:ScheduledMessageCount>` +
    '<d2p1:TransferMessageCount>0</d2p1:TransferMessageCount>' +
    '<d2p1:TransferDeadLetterMessageCount>0</d2p1:TransferDeadLetterMessageCount></CountDetails>' +
    '<EntityAvailabilityStatus>Available</EntityAvailabilityStatus></SubscriptionDescription></content></entry>'
  );
}

function error(status: number, detail: string): { status: number; body: string } {
  return { status, body: `<Error><Code>${status}</Code><Detail>${escapeXml(detail)}</Detail></Error>` };
}
