import type { ServiceProcess } from '@logferry/standins';

const SIGKILL_EXIT = 137;

/** The services of one `run all`: started together, readiness awaited together, stopped together. */
export class ServiceGroup {
  readonly #procs: ServiceProcess[] = [];
  readonly #listeners: ((p: ServiceProcess, code: number) => void)[] = [];
  #stopping = false;

  add(p: ServiceProcess): void {
    this.#procs.push(p);
    void p.exited.then((code) => {
      if (!this.#stopping) for (const l of this.#listeners) l(p, code);
    });
  }

  get processes(): readonly ServiceProcess[] {
    return this.#procs;
  }

  waitReady(timeoutMs: number): Promise<void> {
    return Promise.all(this.#procs.map((p) => p.waitForReady(timeoutMs))).then(() => undefined);
  }

  onUnexpectedExit(listener: (p: ServiceProcess, code: number) => void): void {
    this.#listeners.push(listener);
  }

  /** SIGTERM to all at once, SIGKILL to any still running after timeoutMs; one line per service that did not exit 0. */
  async stopAll(timeoutMs: number): Promise<string[]> {
    this.#stopping = true;
    const results = await Promise.all(
      this.#procs.map(async (p) => {
        const wasRunning = p.running;
        const code = await p.stop('SIGTERM', timeoutMs);
        if (!wasRunning) return code === 0 ? undefined : `${p.name} had already exited with code ${code}`;
        if (code === SIGKILL_EXIT) return `${p.name} did not stop within ${timeoutMs / 1000} s and was killed`;
        return code === 0 ? undefined : `${p.name} exited with code ${code} (see ${p.logFile})`;
      }),
    );
    return results.filter((r): r is string => r !== undefined);
  }

  /** Last resort (second Ctrl-C, process exit): synchronous, no waiting. */
  killAll(): void {
    this.#stopping = true;
    for (const p of this.#procs) if (p.running) killGroup(p.pid);
  }
}

/** SIGKILL to the process group `pid` leads (a detached child): it and anything it started. */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined || pid <= 0) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
