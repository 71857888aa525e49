// First: corrects rhea's disposition coalescing before the SDK loads it (see the module).
import '@logferry/shared/amqp/rhea-dispositions-fix';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '@logferry/shared/logging/logger';
import rhea, { type Connection, type EventContext } from 'rhea';
import { createLoopbackCertificate, type LoopbackCertificate } from '../tls.ts';
import { handleAdministration } from './administration.ts';
import { loadTopology } from './config.ts';
import { countsOf, type DeadLetteredMessage, deadLettersOf, type EntityCounts, waitForState } from './inspect.ts';
import { LinkRouter } from './links.ts';
import { Namespace } from './namespace.ts';
import type { BrokerRecords } from './records.ts';
import type { Rights } from './sas-rights.ts';

export interface ServiceBusStandInOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** The emulator's Config.json; defaults to deploy/servicebus/Config.json in this repository. */
  configPath?: string;
  logger?: Logger;
  /**
   * Certificate of the HTTPS administration endpoint (same port as AMQP); a fresh loopback one when omitted.
   * Clients trust it through NODE_EXTRA_CA_CERTS or the administration client's `tlsOptions.ca`.
   */
  certificate?: Pick<LoopbackCertificate, 'certPem' | 'keyPem' | 'caCertPem' | 'caCertPath'>;
  /**
   * Claims per SAS key name (Send on topics, Listen on `topic/subscription`). Absent: every key may do
   * everything, as with the emulator's one key. Present: a link the connection's key lacks the claim
   * for is refused with `amqp:unauthorized-access`, as Service Bus refuses a missing role.
   */
  rights?: Rights;
}

export interface ServiceBusStandIn {
  /** Emulator-style: plain TCP, SAS key name and value as the official emulator documents them. */
  connectionString: string;
  port: number;
  /** The administration endpoint's certificate (PEM and a file holding it), for clients to trust. */
  caCertPem: string;
  caCertPath: string;
  /** The connection string with another SAS key name (see `rights`). */
  connectionStringFor(keyName: string): string;
  close(): Promise<void>;
  counts(topic: string, subscription?: string): EntityCounts;
  deadLetters(topic: string, subscription?: string): DeadLetteredMessage[];
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Every publish and settlement seen, for tests to assert and await on (transport facts, not log text). */
  readonly records: BrokerRecords;
}

export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../../deploy/servicebus/Config.json', import.meta.url));

/** An AMQP 1.0 broker that the real `@azure/service-bus` client talks to; in-memory, topology from Config.json. */
export async function startServiceBusStandIn(options: ServiceBusStandInOptions = {}): Promise<ServiceBusStandIn> {
  const log = options.logger ?? createLogger('servicebus-standin');
  const host = options.host ?? '127.0.0.1';
  const ns = new Namespace(await loadTopology(options.configPath ?? DEFAULT_CONFIG_PATH));
  const router = new LinkRouter(ns, log, options.rights);

  const container = rhea.create_container({
    id: 'logferry-servicebus-standin',
    // Broker receivers accept only after the message is stored; broker senders must see `modified` as itself.
    receiver_options: { autoaccept: false },
    sender_options: { treat_modified_as_released: false },
  });
  container.sasl_server_mechanisms.enable_anonymous();
  container.sasl_server_mechanisms.enable_plain(() => true);

  const guard =
    (what: string, fn: (ctx: EventContext) => void) =>
    (ctx: EventContext): void => {
      try {
        fn(ctx);
      } catch (err) {
        log.error({ err, event: what }, 'stand-in failed handling an AMQP event');
      }
    };
  const connections = new Set<Connection>();
  container.on('connection_open', (ctx: EventContext) => connections.add(ctx.connection));
  const gone = (ctx: EventContext): void => {
    connections.delete(ctx.connection);
    router.endpointGone({ connection: ctx.connection });
  };
  container.on('connection_close', gone);
  container.on('disconnected', gone);
  container.on('session_close', (ctx: EventContext) =>
    router.endpointGone({ connection: ctx.connection, session: ctx.session }),
  );
  container.on(
    'sender_open',
    guard('sender_open', (ctx) => router.senderOpened(ctx)),
  );
  container.on(
    'receiver_open',
    guard('receiver_open', (ctx) => router.receiverOpened(ctx)),
  );
  container.on(
    'message',
    guard('message', (ctx) => router.message(ctx)),
  );
  container.on(
    'sendable',
    guard('sendable', (ctx) => router.flow(ctx)),
  );
  container.on(
    'sender_draining',
    guard('sender_draining', (ctx) => router.flow(ctx)),
  );
  for (const outcome of ['accepted', 'released', 'rejected', 'modified']) {
    container.on(
      outcome,
      guard(outcome, (ctx) => router.outcome(ctx)),
    );
  }
  container.on('sender_close', (ctx: EventContext) => router.linkClosed(ctx));
  // Without listeners rhea escalates peer errors to the container's 'error' event, which would throw.
  for (const event of ['connection_error', 'session_error', 'sender_error', 'receiver_error', 'error']) {
    container.on(event, (ctx: unknown) => log.debug({ event, error: describeError(ctx) }, 'AMQP peer error'));
  }

  // One port for both protocols, as the real namespace's host name serves AMQP and the ATOM management API:
  // the administration client derives its https:// URL from the same connection string. The first byte tells
  // them apart: a TLS handshake record starts with 0x16, an AMQP connection with its "AMQP" protocol header.
  const ownCertificate = options.certificate ? undefined : await createLoopbackCertificate();
  const certificate = options.certificate ?? ownCertificate!;
  const startedAt = new Date();
  const https = createHttpsServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) => {
    try {
      handleAdministration(ns, req, res, { startedAt });
    } catch (err) {
      log.error({ err }, 'stand-in failed answering an administration request');
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
  https.on('tlsClientError', (err) => log.debug({ err: err.message }, 'administration TLS error'));
  const sockets = new Set<Socket>();
  const server = createServer((socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', (err) => log.debug({ err: err.message }, 'socket error'));
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first[0] === 0x16) https.emit('connection', socket);
      else {
        // What container.listen() would do with the socket (its options name the listening address).
        container.create_connection({ host, port: (server.address() as AddressInfo).port }).accept(socket);
        socket.resume();
      }
    });
  });
  server.listen({ port: options.port ?? 0, host });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ host, port }, 'Service Bus stand-in listening');

  let closing: Promise<void> | undefined;
  const connectionStringFor = (keyName: string) =>
    `Endpoint=sb://${host}:${port};SharedAccessKeyName=${keyName};` +
    'SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true';
  return {
    connectionString: connectionStringFor('RootManageSharedAccessKey'),
    connectionStringFor,
    port,
    caCertPem: certificate.caCertPem,
    caCertPath: certificate.caCertPath,
    counts: (topic, subscription) => countsOf(ns, topic, subscription),
    deadLetters: (topic, subscription) => deadLettersOf(ns, topic, subscription),
    waitFor: (predicate, timeoutMs) => waitForState(ns, predicate, timeoutMs),
    records: ns.records,
    close() {
      closing ??= (async () => {
        ns.close();
        for (const c of connections) c.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Give the close frames a turn to leave, then drop whatever clients have not hung up.
        await new Promise((resolve) => setImmediate(resolve));
        for (const s of sockets) s.destroy();
        await closed;
        https.close();
        await ownCertificate?.dispose();
        log.info({ port }, 'Service Bus stand-in stopped');
      })();
      return closing;
    },
  };
}

function describeError(ctx: unknown): unknown {
  if (ctx instanceof Error) return ctx.message;
  const c = ctx as { connection?: { error?: unknown }; session?: { error?: unknown }; link?: { error?: unknown } };
  return c?.link?.error ?? c?.session?.error ?? c?.connection?.error;
}
