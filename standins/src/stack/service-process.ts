import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatLogLine } from './log-format.ts';
import { freePort } from './ports.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServiceProcessOptions {
  /** Each service writes its raw JSON log lines to `<logDir>/<name>.log`. */
  readonly logDir: string;
  /** Also print each line, prefixed with the service name and condensed, to this stream (or stdout when true). */
  readonly echo?: boolean | NodeJS.WritableStream;
  /** Start from this environment instead of a minimal one (PATH, HOME): `run all` against real endpoints. */
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** Lines kept in memory for waitForLog/output (older ones stay in the file). Default 5000. */
  readonly keepLines?: number;
}

export interface ServiceProcess {
  readonly name: string;
  /** Pid of the current child (a restart changes it). */
  readonly pid: number;
  /** HEALTH_PORT it was given (a free one is chosen when the env says 0 or nothing). */
  readonly healthPort: number;
  readonly logFile: string;
  /** Exit code of the current child (128 + signal number when a signal ended it). */
  readonly exited: Promise<number>;
  readonly running: boolean;
  /** Sends `signal` (default SIGTERM); after `timeoutMs` (default 15 s) sends SIGKILL. Resolves with the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number>;
  /** SIGKILL: the crash a fault test wants. */
  kill(): Promise<number>;
  /** Stops the current child if it runs (SIGTERM), then starts it again with the same environment. */
  restart(): Promise<void>;
  /** The first log line of the current child (past or future) matching `pattern`; rejects after timeoutMs or on exit. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Polls GET /readyz on the health port until it answers 200; rejects if the child exits or time runs out. */
  waitForReady(timeoutMs?: number): Promise<void>;
  /** The current child's recent output, one line each. */
  output(): string;
}

const MINIMAL_ENV = ['PATH', 'HOME', 'TMPDIR', 'TEMP', 'TMP', 'SystemRoot', 'LANG', 'TZ'];

/**
 * Runs `node services/<name>/src/main.ts` as a child process in its own process group (a terminal's
 * Ctrl-C reaches only the supervisor, which stops services before the stand-ins they use).
 */
export async function startServiceProcess(
  name: string,
  env: Record<string, string>,
  options: ServiceProcessOptions,
): Promise<ServiceProcess> {
  const main = join(REPO_ROOT, 'services', name, 'src', 'main.ts');
  const healthPort = Number(env.HEALTH_PORT ?? 0) || (await freePort());
  const base =
    options.baseEnv ?? Object.fromEntries(MINIMAL_ENV.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])));
  const childEnv = { ...base, ...env, HEALTH_PORT: String(healthPort) };
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `${name}.log`);
  const file: WriteStream = createWriteStream(logFile, { flags: 'a' });
  const echo = options.echo === true ? process.stdout : options.echo || undefined;
  const keep = options.keepLines ?? 5_000;

  let child!: ChildProcess;
  let exited!: Promise<number>;
  let lines: string[] = [];
  const listeners = new Set<(line: string) => void>();

  function spawnChild(): void {
    lines = [];
    // As the image runs them (Dockerfile NODE_OPTIONS): a small young generation keeps s3-fetcher's RSS bounded.
    child = spawn(process.execPath, ['--max-semi-space-size=8', main], {
      cwd: REPO_ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const current = child;
    exited = new Promise<number>((resolve) => {
      // 'close', not 'exit': 'exit' can come before stdout/stderr are drained, and a waitForLog after
      // stop would then miss the last lines (the shutdown summary).
      current.once('close', (code, signal) => {
        resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      });
      // spawn failures (ENOENT, EMFILE) come as 'error' without 'exit'.
      current.once('error', () => resolve(127));
    });
    for (const stream of [current.stdout, current.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
        file.write(`${line}\n`);
        echo?.write(`${formatLogLine(name, line)}\n`);
        if (current !== child) return;
        lines.push(line);
        if (lines.length > keep) lines.splice(0, lines.length - keep);
        for (const l of listeners) l(line);
      });
    }
  }

  const isRunning = () => child.exitCode === null && child.signalCode === null;

  async function stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number> {
    if (!isRunning()) return exited;
    signalGroup(child, signal);
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  spawnChild();
  const handle: ServiceProcess = {
    name,
    get pid() {
      return child.pid ?? -1;
    },
    healthPort,
    logFile,
    get exited() {
      return exited;
    },
    get running() {
      return isRunning();
    },
    stop,
    kill: () => stop('SIGKILL', 0),
    async restart() {
      await stop('SIGTERM');
      spawnChild();
    },
    waitForLog(pattern, timeoutMs = 30_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      const current = exited;
      return new Promise<string>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no log line matching ${pattern} within ${timeoutMs} ms\n${tail(lines)}`));
        }, timeoutMs);
        const listener = (line: string) => {
          if (!pattern.test(line)) return;
          done();
          resolve(line);
        };
        listeners.add(listener);
        current.then((code) => {
          if (!listeners.has(listener)) return;
          done();
          reject(new Error(`${name} exited with ${code} before logging ${pattern}\n${tail(lines)}`));
        });
      });
    },
    async waitForReady(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let gone: number | undefined;
      void exited.then((code) => {
        gone = code;
      });
      let last = 'no answer';
      while (Date.now() < deadline) {
        if (gone !== undefined) throw new Error(`${name} exited with ${gone} before it was ready\n${tail(lines)}`);
        try {
          const res = await fetch(`http://127.0.0.1:${healthPort}/readyz`, { signal: AbortSignal.timeout(2_000) });
          last = `${res.status} ${await res.text()}`;
          if (res.ok) return;
        } catch (err) {
          last = (err as Error).message;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`${name} not ready within ${timeoutMs} ms (last /readyz: ${last})\n${tail(lines)}`);
    },
    output: () => lines.join('\n'),
  };
  return handle;
}

/** The child leads its own group: signal the group, so anything it spawned goes too. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

function tail(lines: readonly string[], n = 20): string {
  return lines.slice(-n).join('\n');
}
