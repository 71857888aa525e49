import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

/** A service's main.ts run as its own process, its stdout and stderr kept for the test's assertions. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Sends the signal and resolves with the exit code; at once if it already exited. */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `main` with only `env` (plus PATH) in its environment, over the settings every process test wants:
 * a free health port, quick retries, logs at info for the assertions to read.
 */
export function startServiceProcess(main: string, env: Readonly<Record<string, string | undefined>>): ServiceProcess {
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH,
      HEALTH_PORT: '0',
      RETRY_BASE_MS: '50',
      RETRY_MAX_MS: '200',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  return {
    child,
    output: () => output,
    async stop(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
