import { createS3AllowList, type S3AllowList, type S3AllowVerdict } from '../auth/aws-allow-list.ts';
import { EX_CONFIG, type LoadIo } from '../config/load.ts';
import type { Mappings } from '../mappings/mapping-schema.ts';
import { checkRoutesAgainstMappings, loadRoutes, RoutesError } from './load-routes.ts';
import type { Route, RouteMatch } from './route-schema.ts';

export type RouteVerdict =
  | { readonly allowed: true; readonly route: Route }
  | Extract<S3AllowVerdict, { allowed: false }>;

/** The routes as the allow-list: an object is read only when exactly one route claims it. */
export interface RouteTable extends S3AllowList {
  readonly routes: readonly Route[];
  resolve(bucket: string, key: string): RouteVerdict;
}

/**
 * Picks the route of an object. The most specific match wins (the longest literal prefix; an exact
 * prefix beats a glob with the same literal part), so `logs/` can catch what `logs/vpc/` does not. Two
 * routes equally specific for one key is a configuration mistake: the object is refused, not guessed.
 * `allowList`, when given, is checked first (S3_ALLOWED_BUCKETS / S3_ALLOWED_PREFIXES still narrow the routes).
 */
export function createRouteTable(routes: readonly Route[], allowList?: S3AllowList): RouteTable {
  const buckets = new Set(routes.flatMap((r) => r.matches.map((m) => m.bucket)));
  const resolve = (bucket: string, key: string): RouteVerdict => {
    const allowed = allowList?.check(bucket, key);
    if (allowed && !allowed.allowed) return allowed;
    if (!buckets.has(bucket)) return { allowed: false, reason: 'bucket-not-allowed' };
    let best: { route: Route; rank: number } | undefined;
    let tie = false;
    for (const route of routes) {
      for (const m of route.matches) {
        if (!matches(m, bucket, key)) continue;
        const rank = m.prefix.length * 2 + (m.pattern ? 0 : 1);
        if (best === undefined || rank > best.rank) {
          best = { route, rank };
          tie = false;
        } else if (rank === best.rank && route !== best.route) tie = true;
      }
    }
    if (best === undefined) return { allowed: false, reason: 'no-route' };
    if (tie) return { allowed: false, reason: 'ambiguous-route' };
    return { allowed: true, route: best.route };
  };
  return {
    routes,
    resolve,
    check: (bucket, key) => {
      const v = resolve(bucket, key);
      return v.allowed ? { allowed: true } : v;
    },
  };
}

function matches(m: RouteMatch, bucket: string, key: string): boolean {
  if (m.bucket !== bucket || !key.startsWith(m.prefix)) return false;
  return m.pattern === undefined || m.pattern.test(key);
}

export interface SingleRouteConfig {
  readonly S3_ALLOWED_BUCKETS: readonly string[];
  readonly S3_ALLOWED_PREFIXES: readonly string[];
  readonly SOURCE_NAME?: string;
  readonly TIME_FIELD?: string | undefined;
}

/**
 * The one-route case of the single-source variables: every allowed bucket and prefix, SOURCE_NAME (s3-fetcher
 * passes `sourceOf` for SOURCE_FROM_KEY_PREFIX), format sniffed, TIME_FIELD, and la-uploader's own DCR_STREAM.
 */
export function singleRoute(config: SingleRouteConfig, sourceOf?: Route['sourceOf']): Route {
  const fixed = config.SOURCE_NAME ?? 'Code42';
  const prefixes = config.S3_ALLOWED_PREFIXES.length > 0 ? config.S3_ALLOWED_PREFIXES : [''];
  return {
    name: fixed,
    matches: config.S3_ALLOWED_BUCKETS.flatMap((bucket) =>
      prefixes.map((prefix) => ({ bucket, prefix, pattern: undefined, label: `s3://${bucket}/${prefix}` })),
    ),
    sourceOf: sourceOf ?? (() => ({ ok: true, source: fixed })),
    format: 'auto',
    timeField: config.TIME_FIELD,
    timeFormat: 'auto',
    logsIngestion: undefined,
    adx: false,
  };
}

export interface RouteTableConfig extends SingleRouteConfig {
  readonly ROUTES_FILE?: string | undefined;
}

/**
 * The table a service uses: ROUTES_FILE's routes (narrowed by S3_ALLOWED_BUCKETS / S3_ALLOWED_PREFIXES when
 * those are set too), else the one route of the single-source variables. Given mappings.json, the routes'
 * `adx` flags are checked against it. Throws RoutesError naming the file and each bad entry.
 */
export function routeTableFor(
  config: RouteTableConfig,
  options: { readonly sourceOf?: Route['sourceOf']; readonly mappings?: Mappings } = {},
): RouteTable {
  if (config.ROUTES_FILE === undefined)
    return createRouteTable([singleRoute(config, options.sourceOf)], createS3AllowList(config));
  const routes = loadRoutes(config.ROUTES_FILE);
  if (options.mappings) checkRoutesAgainstMappings(routes, options.mappings, config.ROUTES_FILE);
  const narrowed = config.S3_ALLOWED_BUCKETS.length > 0 ? createS3AllowList(config) : undefined;
  return createRouteTable(routes, narrowed);
}

const processIo: LoadIo = {
  stderr: (line) => process.stderr.write(`${line}\n`),
  exit: (code) => process.exit(code),
};

/** routeTableFor at a service's start: a bad routes file prints one line per problem and exits 78, like bad config. */
export function routeTableOrExit(
  service: string,
  config: RouteTableConfig,
  options: Parameters<typeof routeTableFor>[1] = {},
  io: LoadIo = processIo,
): RouteTable {
  try {
    return routeTableFor(config, options);
  } catch (err) {
    if (!(err instanceof RoutesError)) throw err;
    io.stderr(`${service}: ${err.message.split('\n')[0]}`);
    for (const problem of err.problems) io.stderr(`${service}: routes error: ${problem}`);
    return io.exit(EX_CONFIG);
  }
}
