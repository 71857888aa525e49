import { readSubscriptions } from '@logferry/shared/dead-letters/topology';
import type { LocalStack, ServiceProcess, StackService } from '@logferry/standins';
import { EXIT } from '../help.ts';
import { banner } from './banner.ts';
import { formatLiveCounts, readLiveCounts } from './live-counts.ts';
import { killGroup, ServiceGroup } from './service-group.ts';
import { defaultBaseDir } from './state.ts';
import { onStopRequest, type StopReason } from './stop-requests.ts';

export interface RunLocalOptions {
  readonly baseDir?: string;
  readonly statusPort: number;
  readonly seed: boolean;
  readonly verbose: boolean;
  readonly liveIntervalMs: number;
}

let quiet = false;
const say = (line: string) => {
  if (!quiet) process.stdout.write(`${line}\n`);
};

/**
 * `npm start`: the stand-ins, sample data, the six services as child processes, a banner and a live line;
 * Ctrl-C, SIGTERM or the parent's exit (./stop-requests.ts) stops the services first (they settle in-flight
 * work), then the stand-ins.
 */
export async function runLocal(options: RunLocalOptions): Promise<number> {
  const standins = await import('@logferry/standins');
  const baseDir = options.baseDir ?? defaultBaseDir();
  const existing = await standins.readStackState(baseDir);
  if (existing) {
    process.stderr.write(
      `logferry: a local stack is already running (pid ${existing.pid}, status page ${existing.endpoints.statusPageUrl}).\n` +
        'Stop it first, or pass --base-dir to run a second one.\n',
    );
    return EXIT.failure;
  }
  const started = Date.now();
  say('Starting the stand-ins: fauxqs (SQS, S3), Azurite, Service Bus, Logs Ingestion, ADX, STS…');
  // One listener for the whole run. A stop asked for while the stand-ins start must not orphan Azurite (its own
  // process group): it is noted, and carried out once they are up.
  const group = new ServiceGroup();
  let stack: LocalStack | undefined;
  let early: StopReason | undefined;
  let onStop = (reason: StopReason) => {
    early ??= reason;
  };
  onStopRequest((reason, repeated) => {
    // Nobody reads stdout once the parent is gone (a closed pipe would end this process mid-shutdown).
    if (reason === 'parent exited') quiet = true;
    if (repeated) {
      say('Second signal: killing everything.');
      group.killAll();
      killGroup(stack?.azurite.process.pid);
      return;
    }
    onStop(reason);
  });
  // Last resort when this process exits without a shutdown (an uncaught error, a second signal).
  process.on('exit', () => {
    group.killAll();
    killGroup(stack?.azurite.process.pid);
  });
  // Several sources in one deployment, as production runs them: routes.json's three sources, three streams.
  const up: LocalStack = await standins.startLocalStack({
    baseDir,
    ports: { statusPage: options.statusPort },
    routesFile: standins.DEFAULT_ROUTES_FILE,
  });
  stack = up;
  if (early) {
    await up.stop();
    stack = undefined;
    say(`${early}: stopped.`);
    return EXIT.ok;
  }
  let stopping: Promise<number> | undefined;
  const shutdown = (signal: string): Promise<number> => {
    stopping ??= (async () => {
      say(`\n${signal}: stopping the services (they finish in-flight work), then the stand-ins…`);
      const unclean = await group.stopAll(10_000);
      await up.stop();
      stack = undefined;
      await standins.removeStackState(baseDir);
      for (const line of unclean) say(`  ${line}`);
      say('Stopped.');
      return unclean.some((l) => l.includes('killed')) ? EXIT.failure : EXIT.ok;
    })();
    return stopping;
  };
  const stopped = new Promise<number>((resolve) => {
    onStop = (reason) => void shutdown(reason).then(resolve);
  });

  try {
    await standins.recordRunningStack(baseDir, up);
    say(`Stand-ins up in ${((Date.now() - started) / 1000).toFixed(1)} s. Starting the services…`);
    for (const name of standins.STACK_SERVICES) {
      group.add(
        await standins.startServiceProcess(name, up.serviceEnv(name), {
          logDir: up.logDir,
          ...(options.verbose ? { echo: true } : {}),
        }),
      );
    }
    await group.waitReady(60_000);
    say(`Services ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    if (options.seed) await seedAndScan(up, standins);
  } catch (err) {
    // A Ctrl-C during start makes services exit before they are ready: that is the stop asked for.
    if (stopping) return stopping;
    process.stderr.write(`logferry: the local run could not start: ${(err as Error).message}\n`);
    await shutdown('start failed');
    return EXIT.failure;
  }
  say(banner(up.endpoints, up.logDir));
  group.onUnexpectedExit((p: ServiceProcess, code: number) => {
    if (!stopping) say(`!! ${p.name} exited with code ${code}; its log: ${p.logFile}`);
  });
  const topology = readSubscriptions().map((s) => [s.topic, s.subscription] as const);
  // A line when the counts change, and a heartbeat a minute otherwise: a quiet stack keeps the terminal readable.
  let lastLine = '';
  let lastSaidAt = 0;
  const live = setInterval(() => {
    if (stopping) return;
    readLiveCounts(up, topology)
      .then((c) => {
        const line = formatLiveCounts(c);
        const counts = line.slice(line.indexOf(']'));
        if (counts === lastLine && Date.now() - lastSaidAt < 60_000) return;
        lastLine = counts;
        lastSaidAt = Date.now();
        say(line);
      })
      .catch(() => undefined);
  }, options.liveIntervalMs);
  const code = await stopped;
  clearInterval(live);
  return code;
}

async function seedAndScan(
  stack: LocalStack,
  standins: Pick<
    typeof import('@logferry/standins'),
    'seedSampleData' | 'seedTargetOf' | 'LOCAL_RUN_SEED' | 'recordsBySource'
  >,
): Promise<void> {
  const e = stack.endpoints;
  const seeded = await standins.seedSampleData(
    standins.seedTargetOf(e, { s3: stack.fauxqs.s3(), sqs: stack.fauxqs.sqs() }),
    standins.LOCAL_RUN_SEED,
  );
  const bySource = standins.recordsBySource(seeded.objects);
  say(
    `Seeded ${seeded.objects.length} objects in s3://${e.bucket}/ (${bySource.map(([s, n]) => `${s}: ${n} records`).join(', ')}), ` +
      `announced on SQS, and ${seeded.blobs.length} files in container "${e.dataContainer}" (${seeded.blobs.map((b) => b.name).join(', ')}).`,
  );
  say(
    `Also, as in real life: ${seeded.problems.join(', ')} — a truncated gzip (s3-fetcher dead-letters it: ` +
      'logferry dlq show s3-objects/s3-fetcher), an object no route claims (sqs-poller refuses it), ' +
      'a CSV with a short row (fails in ADX) and a file no mapping names (skipped).',
  );
  // The schedule would find the files within a minute; a first scan now shows the ADX flow at once.
  const res = await fetch(new URL('scans', e.statusPageUrl), { method: 'POST', signal: AbortSignal.timeout(5_000) });
  const body = (await res.json().catch(() => ({}))) as { scanId?: string };
  say(
    res.ok
      ? `Started scan ${body.scanId} of container "${e.dataContainer}".`
      : `Could not start a scan: HTTP ${res.status}`,
  );
}

export type { StackService };
