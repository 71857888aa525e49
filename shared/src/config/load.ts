import { registerSecretValues } from '../logging/redact.ts';
import { type ConfigDefinition, ConfigError, type ConfigOf, parseConfig, type VarSpecs } from './define.ts';

/** sysexits.h EX_CONFIG: the process cannot run as configured; restarting will not help. */
export const EX_CONFIG = 78;

export interface LoadIo {
  readonly stderr: (line: string) => void;
  readonly exit: (code: number) => never;
}

const processIo: LoadIo = {
  stderr: (line) => process.stderr.write(`${line}\n`),
  exit: (code) => process.exit(code),
};

/**
 * Parses the configuration once at start. On a bad configuration, prints one line per problem
 * (no stack: the operator needs the variable and the fix, not our call chain) and exits with 78.
 * Secret values that parse are registered with the log scrubber, so they never reach a log line.
 */
export function loadConfigOrExit<V extends VarSpecs>(
  def: ConfigDefinition<V>,
  env: Readonly<Record<string, string | undefined>> = process.env,
  io: LoadIo = processIo,
): ConfigOf<V> {
  let config: ConfigOf<V>;
  try {
    config = parseConfig(def, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) io.stderr(`${def.name}: configuration error: ${problem}`);
    return io.exit(EX_CONFIG);
  }
  const values = config as Record<string, unknown>;
  registerSecretValues(
    Object.entries(def.vars)
      .filter(([, spec]) => spec.secret === true)
      .map(([name]) => values[name]),
  );
  return config;
}
