import type { Logger } from 'pino';

export interface RunningService {
  /** Stops intake, lets in-flight work finish (or abandons it) within graceMs, and settles. */
  stop(graceMs: number): Promise<void>;
}

export interface RunServiceOptions {
  readonly service: string;
  readonly logger: Logger;
  /** SHUTDOWN_GRACE_MS. */
  readonly graceMs: number;
  /** Composition root: connects clients and starts consuming; resolves once running. */
  readonly start: () => Promise<RunningService>;
  readonly telemetry?: { shutdown(): Promise<void> };
  readonly health?: { markStopping?(): void; close(): Promise<void> };
  /** How long past graceMs the watchdog waits before forcing exit 1. Default 5000 ms. */
  readonly watchdogMarginMs?: number;
  /**
   * Aborted when the service cannot go on (e.g. the transport's onUnrecoverable: entity gone, access
   * revoked): shuts down as on SIGTERM, then exits 1 so the orchestrator restarts the pod. The abort
   * reason is logged.
   */
  readonly fatal?: AbortSignal;
  /** Ends the process; replaced in tests. Default: flush the logger, then process.exit. */
  readonly exit?: (code: number) => void;
}

/**
 * Runs a service until SIGTERM/SIGINT, then shuts down in order: readiness off, intake stopped and
 * in-flight work finished within the grace period, telemetry flushed, health server closed, exit 0.
 * A second signal, or shutdown overrunning grace + margin, forces exit 1, as does an uncaught
 * exception or a failed start: a process in an unknown state must not keep settling messages.
 * Resolves once the service has started.
 */
export async function runService(options: RunServiceOptions): Promise<void> {
  const { logger, graceMs } = options;
  const log = logger.child({ component: 'lifecycle' });
  const exit = options.exit ?? ((code: number) => exitAfterFlush(logger, code));
  let exiting = false;
  const exitOnce = (code: number) => {
    if (exiting) return;
    exiting = true;
    exit(code);
  };

  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; exiting');
    exitOnce(1);
  });
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason }, 'unhandled promise rejection; exiting');
    exitOnce(1);
  });

  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping !== undefined) {
      log.error({ signal }, 'second signal during shutdown; forcing exit');
      exitOnce(1);
      return;
    }
    stopping = shutdown(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Raised, never lowered, by a fatal failure that arrives while a signal's shutdown is already running.
  let exitCode = 0;
  const onFatal = () => {
    log.fatal({ err: options.fatal?.reason }, 'unrecoverable failure; stopping so the service is restarted');
    exitCode = 1;
    stopping ??= shutdown('fatal');
  };
  if (options.fatal?.aborted) queueMicrotask(onFatal);
  else options.fatal?.addEventListener('abort', onFatal, { once: true });

  const started = options.start();
  // A signal during start waits for start to finish, then stops what started.
  started.catch(() => {});

  async function shutdown(signal: NodeJS.Signals | 'fatal'): Promise<void> {
    const begun = Date.now();
    log.info({ signal, graceMs }, 'stopping: intake closed, finishing in-flight work');
    options.health?.markStopping?.();
    const watchdog = setTimeout(
      () => {
        log.error({ graceMs, elapsedMs: Date.now() - begun }, 'shutdown overran the grace period; forcing exit');
        exitOnce(1);
      },
      graceMs + (options.watchdogMarginMs ?? 5_000),
    );
    let code = 0;
    try {
      const running = await started.catch(() => {
        code = 1;
        return undefined;
      });
      await running?.stop(graceMs);
    } catch (err) {
      log.error({ err }, 'stopping failed');
      code = 1;
    }
    try {
      await options.telemetry?.shutdown();
    } catch (err) {
      log.warn({ err }, 'telemetry flush failed');
    }
    try {
      await options.health?.close();
    } catch (err) {
      log.warn({ err }, 'health server close failed');
    }
    clearTimeout(watchdog);
    code = Math.max(code, exitCode);
    log.info({ elapsedMs: Date.now() - begun, code }, 'stopped');
    exitOnce(code);
  }

  try {
    await started;
  } catch (err) {
    log.fatal({ err }, `${options.service} failed to start`);
    if (stopping === undefined) {
      await Promise.allSettled([options.telemetry?.shutdown(), options.health?.close()]);
      exitOnce(1);
    }
    return;
  }
  log.info({ graceMs }, `${options.service} started`);
}

/** Flushes buffered log lines before exiting, but never waits on the logger for more than a second. */
export function exitAfterFlush(logger: Logger, code: number): void {
  process.exitCode = code;
  const done = () => process.exit(code);
  setTimeout(done, 1_000).unref();
  try {
    logger.flush(() => done());
  } catch {
    done();
  }
}
