import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LocalEndpoints, ServicePorts } from './service-env.ts';

/** What `run all --local` leaves for other commands (`seed`, `scan`, `dlq`…) to find the running stack. */
export interface LocalStackState {
  readonly version: 1;
  readonly pid: number;
  readonly startedAt: string;
  readonly baseDir: string;
  readonly endpoints: LocalEndpoints;
  readonly ports: ServicePorts;
}

export const STATE_FILE_NAME = 'local-stack.json';

export function stateFilePath(baseDir: string): string {
  return join(baseDir, STATE_FILE_NAME);
}

/** Holds the stand-ins' connection strings (well-known emulator values, not secrets), so owner-readable only. */
export async function writeStackState(state: LocalStackState): Promise<string> {
  const path = stateFilePath(state.baseDir);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/** Records this process as the running stack in `baseDir`, for the other commands to find. */
export function recordRunningStack(
  baseDir: string,
  stack: { readonly endpoints: LocalEndpoints; readonly ports: ServicePorts },
): Promise<string> {
  return writeStackState({
    version: 1,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    baseDir,
    endpoints: stack.endpoints,
    ports: stack.ports,
  });
}

/** The state of a stack that is still running (its pid alive), or undefined. */
export async function readStackState(baseDir: string): Promise<LocalStackState | undefined> {
  let state: LocalStackState;
  try {
    state = JSON.parse(await readFile(stateFilePath(baseDir), 'utf8')) as LocalStackState;
  } catch {
    return undefined;
  }
  if (state.version !== 1 || !isAlive(state.pid)) return undefined;
  return state;
}

export async function removeStackState(baseDir: string): Promise<void> {
  await rm(stateFilePath(baseDir), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
