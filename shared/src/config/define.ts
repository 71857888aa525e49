import { z } from 'zod';
import { scrubString } from '../logging/redact.ts';

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

/**
 * A rule across variables (one of two alternatives, a pair that must come together). Runs after every
 * variable parsed; returns one problem per violation, each naming the variables (never their values).
 */
export interface ConfigCheck {
  /** One line for the docs, e.g. "set SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE". */
  readonly description: string;
  readonly check: (config: Readonly<Record<string, unknown>>) => readonly string[];
}

export interface ConfigDefinition<V extends VarSpecs> {
  /** Who reads it (a service name, or a shared part). */
  readonly name: string;
  readonly vars: V;
  readonly checks?: readonly ConfigCheck[];
}

export type ConfigOf<V extends VarSpecs> = { readonly [K in keyof V]: z.output<V[K]['schema']> };

// Checks ride with the part object they were defined with, so composing parts composes their rules.
const partChecks = new WeakMap<object, readonly ConfigCheck[]>();

/** Declares a group of variables; `checks` travel with it into every defineConfig that uses this object. */
export function defineVars<const V extends VarSpecs>(vars: V, checks: readonly ConfigCheck[] = []): V {
  if (checks.length > 0) partChecks.set(vars, checks);
  return vars;
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
/** The variables of several parts as one record type (later parts win on a shared name, as at runtime). */
export type MergedVars<P extends readonly VarSpecs[]> = {
  [K in keyof UnionToIntersection<P[number]>]: UnionToIntersection<P[number]>[K];
} extends infer M extends VarSpecs
  ? M
  : never;

export function defineConfig<const P extends readonly VarSpecs[]>(
  name: string,
  ...parts: P
): ConfigDefinition<MergedVars<P>> {
  const checks = parts.flatMap((p) => partChecks.get(p) ?? []);
  return { name, vars: Object.assign({}, ...parts) as MergedVars<P>, checks };
}

/** The same definition with more cross-variable rules (a service's own). */
export function withChecks<V extends VarSpecs>(
  def: ConfigDefinition<V>,
  ...checks: ConfigCheck[]
): ConfigDefinition<V> {
  return { ...def, checks: [...(def.checks ?? []), ...checks] };
}

/** Rule: at least one of the named variables is set. */
export function requireOneOf(names: readonly string[], why: string): ConfigCheck {
  const list = names.join(' or ');
  return {
    description: `Set ${list}. ${why}`,
    check: (c) => (names.some((n) => isSet(c[n])) ? [] : [`one of ${list} is required but none is set. ${why}`]),
  };
}

/** Rule: when `name` is set, every one of `needs` is set too. */
export function requireWith(name: string, needs: readonly string[], why: string): ConfigCheck {
  return {
    description: `${name} needs ${needs.join(', ')}. ${why}`,
    check: (c) => {
      if (!isSet(c[name])) return [];
      const missing = needs.filter((n) => !isSet(c[n]));
      return missing.length === 0
        ? []
        : [`${name} is set but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not. ${why}`];
    },
  };
}

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
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
  // A secret pasted into the wrong variable must not come back in that variable's error.
  const secrets = secretValues(def.vars, env);
  const oneLine = (s: string) => maskValues(oneLineScrubbed(s), secrets);
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
    const shown = raw === undefined || spec.secret ? '' : ` (got ${JSON.stringify(truncate(scrubString(raw)))})`;
    const fix = spec.example ? ` — e.g. ${name}=${spec.example}` : '';
    problems.push(oneLine(`${label} ${why}${shown}. ${spec.description}${fix}`));
  }
  // Rules across variables only make sense once each variable has a value to look at.
  if (problems.length === 0) {
    for (const rule of def.checks ?? []) problems.push(...rule.check(out).map(oneLine));
  }
  if (problems.length > 0) throw new ConfigError(def.name, problems);
  return out as ConfigOf<V>;
}

/** One problem, one line, with anything secret-looking scrubbed (a connection string pasted into the wrong variable). */
function oneLineScrubbed(s: string): string {
  return scrubString(s.replace(/\s*\n\s*/g, ' '));
}

/** The raw values of every secret variable (and alias) that is set, longest first. */
function secretValues(vars: VarSpecs, env: Readonly<Record<string, string | undefined>>): string[] {
  const values = Object.entries(vars)
    .filter(([, spec]) => spec.secret === true)
    .flatMap(([name, spec]) => [name, ...(spec.aliases ?? [])])
    .map((name) => env[name])
    .filter((v): v is string => typeof v === 'string' && v.length >= 4);
  return [...new Set(values)].sort((a, b) => b.length - a.length);
}

function maskValues(s: string, values: readonly string[]): string {
  let out = s;
  for (const v of values) if (out.includes(v)) out = out.split(v).join('[REDACTED]');
  return out;
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Common coercions for env strings. */
export const env = {
  string: () => z.string().min(1),
  // Credentials in a URL would be logged, shown by `config check` and sent where they do not belong: refused.
  url: () =>
    z.url().refine((u) => {
      // Zod runs refinements after a failed check too; the URL check has reported that one already.
      const url = URL.parse(u);
      return url === null || (url.username === '' && url.password === '');
    }, 'must not carry credentials (user:password@); use the variable meant for the secret'),
  int: (min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max),
  port: () => z.coerce.number().int().min(0).max(65_535),
  oneOf: <const T extends readonly [string, ...string[]]>(...values: T) => z.enum(values),
  bool: () =>
    z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes'),
  // Fail closed: a blank entry (`","`, `"a,,b"`, `" "`) is an error, never an empty list or an empty prefix,
  // because for an allow-list both would mean "everything".
  list: () =>
    z
      .string()
      .transform((s) => s.split(',').map((x) => x.trim()))
      .refine((l) => l.every((x) => x.length > 0), 'has a blank entry; list the values, comma-separated, or unset it'),
};
