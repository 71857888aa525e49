import { createRequestAuthenticator, type HttpAuthOptions } from '@logferry/shared/auth/http-auth';
import type { AzuriteHandle } from '@logferry/shared/testing';
import type { LocalSinks } from '../../src/http/local-sinks.ts';
import { createStatusServer, type StatusServer, type StatusServerOptions } from '../../src/http/server.ts';
import { CountsFeed } from '../../src/live/counts-feed.ts';
import { EventBus } from '../../src/live/event-bus.ts';
import { resultsFeedHandler } from '../../src/live/results-feed.ts';
import type { Scanner } from '../../src/scanner.ts';
import { RecordingPublisher, type StorageFixture, silentLogger, storageFixture } from './fixtures.ts';

export interface TestApp {
  readonly url: string;
  readonly fx: StorageFixture;
  readonly publisher: RecordingPublisher;
  readonly events: EventBus;
  readonly scanner: Scanner;
  readonly server: StatusServer;
  /** What the ingestion-results subscription would call (drives live changes made by other processes). */
  readonly resultsHandler: ReturnType<typeof resultsFeedHandler>;
  close(): Promise<void>;
}

/** The status server wired as main.ts wires it, on Azurite, with a recording publisher. */
export async function startTestApp(
  azurite: AzuriteHandle,
  options: {
    auth: HttpAuthOptions;
    host?: string;
    fx?: StorageFixture;
    heartbeatMs?: number;
    countsMs?: number;
    localSinks?: LocalSinks;
    pipeline?: StatusServerOptions['pipeline'];
    objects?: StatusServerOptions['objects'];
  },
): Promise<TestApp> {
  const fx = options.fx ?? (await storageFixture(azurite));
  const publisher = new RecordingPublisher();
  const events = new EventBus();
  const scanner = fx.newScanner(publisher, events);
  const host = options.host ?? '127.0.0.1';
  const counts = new CountsFeed({
    store: fx.store,
    events,
    logger: silentLogger,
    container: fx.container.containerName,
    intervalMs: options.countsMs ?? 60_000,
    debounceMs: 100,
  });
  counts.start();
  const server = createStatusServer({
    scanner,
    store: fx.store,
    scans: fx.scans,
    container: fx.container.containerName,
    events,
    auth: createRequestAuthenticator({ listenHost: host, ...options.auth }),
    logger: silentLogger,
    greeting: () => (scanner.latest ? [{ type: 'scan', scan: scanner.latest }] : []),
    ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
    ...(options.localSinks ? { localSinks: options.localSinks } : {}),
    ...(options.pipeline ? { pipeline: options.pipeline } : {}),
    ...(options.objects ? { objects: options.objects } : {}),
  });
  const address = await server.listen(0, host);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    fx,
    publisher,
    events,
    scanner,
    server,
    resultsHandler: resultsFeedHandler({
      container: fx.container.containerName,
      store: fx.store,
      events,
      logger: silentLogger,
    }),
    async close() {
      counts.stop();
      await scanner.stop();
      await server.close(1_000);
    },
  };
}

/** Reads server-sent events from a fetch response until `until` returns true (bounded). */
export async function readEvents(
  res: Response,
  until: (events: { type: string; data: unknown }[]) => boolean,
  timeoutMs = 10_000,
): Promise<{ type: string; data: unknown }[]> {
  const seen: { type: string; data: unknown }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => void reader.cancel(new Error('timeout')), timeoutMs);
  let buffer = '';
  try {
    while (!until(seen)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended; saw ${JSON.stringify(seen.map((e) => e.type))}`);
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (block.startsWith(':')) seen.push({ type: 'comment', data: block });
        else if (type && data) seen.push({ type, data: JSON.parse(data) });
      }
    }
    return seen;
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
}
