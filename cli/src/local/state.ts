import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalStackState, StackService } from '@logferry/standins';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Where `run all --local` keeps its state file and logs (gitignored). */
export function defaultBaseDir(): string {
  return process.env.LOGFERRY_STATE_DIR || join(REPO_ROOT, '.logferry');
}

/**
 * The local stack started by `npm start`, if one is running. The stand-ins are a dev dependency, absent
 * from the production image: there, this quietly answers that no local stack exists.
 */
export async function runningLocalStack(baseDir = defaultBaseDir()): Promise<LocalStackState | undefined> {
  try {
    const { readStackState } = await import('@logferry/standins');
    return await readStackState(baseDir);
  } catch {
    return undefined;
  }
}

/**
 * The environment an operator command reads its configuration from: the process environment when it names
 * any of `anchors` (the operator pointed us somewhere), else the running local stack's environment for
 * `service`, else the process environment (whose gaps the config check then reports).
 */
export async function operatorEnv(
  service: StackService,
  anchors: readonly string[],
  note: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<Readonly<Record<string, string | undefined>>> {
  if (anchors.some((a) => process.env[a])) return process.env;
  const state = await runningLocalStack();
  if (!state) return process.env;
  const { serviceEnvFor } = await import('@logferry/standins');
  note(`(using the local stack started by \`npm start\`, pid ${state.pid}; set ${anchors[0]} to target another)`);
  return { ...process.env, ...serviceEnvFor(service, state.endpoints, state.ports) };
}
