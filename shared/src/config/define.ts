import { z } from 'zod';

/** One environment variable: its schema (with default, if any), what it is for, and the seeds' old names. */
export interface VarSpec<T extends z.ZodType = z.ZodType> {
  readonly schema: T;
  readonly description: string;
  /** Older names accepted for the same meaning (the seeds' variables), checked in order after the main name. */
  readonly aliases?: readonly string[];
  /** Never echoed, in errors or in `config check`. */
  readonly secret?: boolean;
  readonly example?: string;
}

export type VarSpecs = Record<string, VarSpec>;

export interface ConfigDefinition<V extends VarSpecs> {
  /** Who reads it (a service name, or a shared part). */
  readonly name: string;
  readonly vars: V;
}

export type ConfigOf<V extends VarSpecs> = { readonly [K in keyof V]: z.output<V[K]['schema']> };

export function defineVars<const V extends VarSpecs>(vars: V): V {
  return vars;
}

export function defineConfig<const V extends VarSpecs>(name: string, ...parts: V[]): ConfigDefinition<V> {
  return { name, vars: Object.assign({}, ...parts) as V };
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(service: string, problems: readonly string[]) {
    super(`${service}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Reads and validates every variable once; the error names each bad variable and never its secret value. */
export function parseConfig<V extends VarSpecs>(
  def: ConfigDefinition<V>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ConfigOf<V> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(def.vars)) {
    const from = [name, ...(spec.aliases ?? [])].find((n) => env[n] !== undefined && env[n] !== '');
    const raw = from === undefined ? undefined : env[from];
    const result = spec.schema.safeParse(raw);
    if (result.success) {
      out[name] = result.data;
      continue;
    }
    const label = from !== undefined && from !== name ? `${name} (set as ${from})` : name;
    const issue = result.error.issues[0];
    const why = raw === undefined ? 'is required but not set' : `is invalid: ${issue?.message ?? 'bad value'}`;
    const shown = raw === undefined || spec.secret ? '' : ` (got ${JSON.stringify(truncate(raw))})`;
    const fix = spec.example ? ` — e.g. ${name}=${spec.example}` : '';
    problems.push(`${label} ${why}${shown}. ${spec.description}${fix}`);
  }
  if (problems.length > 0) throw new ConfigError(def.name, problems);
  return out as ConfigOf<V>;
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Common coercions for env strings. */
export const env = {
  string: () => z.string().min(1),
  url: () => z.url(),
  int: (min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max),
  bool: () =>
    z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes'),
  list: () =>
    z.string().transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    ),
};
