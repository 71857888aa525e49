import { readJsonFile, validEntries } from '../config/json-file.ts';
import type { Mappings } from '../mappings/mapping-schema.ts';
import { compileGlob } from './glob.ts';
import { ROUTE_NAME, type Route, RouteEntrySchema, type RouteMatch, RoutesFileSchema } from './route-schema.ts';

export class RoutesError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`${source}: invalid routes\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'RoutesError';
    this.problems = problems;
  }
}

/** Validates the parsed contents of routes.json; every problem names its entry and field. */
export function parseRoutes(data: unknown, source = 'routes.json'): Route[] {
  const file = RoutesFileSchema.safeParse(data);
  if (!file.success || Array.isArray(data)) {
    throw new RoutesError(source, ['expected a JSON object of routes keyed by source name']);
  }
  const problems: string[] = [];
  const routes: Route[] = [];
  const owner = new Map<string, string>();
  const rules = {
    key: ROUTE_NAME,
    keyProblem: () =>
      'the key is the source name: 1–64 letters, digits or _, starting with a letter or digit (staged blobs and mappings.json use it)',
    schema: RouteEntrySchema,
  };
  for (const [name, e] of validEntries(file.data, rules, problems)) {
    const matches: RouteMatch[] = (Array.isArray(e.match) ? e.match : [e.match]).map((m) => {
      if (m.glob !== undefined) {
        const { pattern, prefix } = compileGlob(m.glob);
        return { bucket: m.bucket, prefix, pattern, label: `s3://${m.bucket}/${m.glob}` };
      }
      const prefix = m.prefix ?? '';
      return { bucket: m.bucket, prefix, pattern: undefined, label: `s3://${m.bucket}/${prefix}` };
    });
    for (const m of matches) {
      const other = owner.get(m.label);
      if (other !== undefined) problems.push(`entry "${name}": match ${m.label} is already entry "${other}"'s`);
      else owner.set(m.label, name);
    }
    routes.push({
      name,
      matches,
      sourceOf: () => ({ ok: true, source: name }),
      format: e.format,
      timeField: e.timeField,
      timeFormat: e.timeFormat,
      logsIngestion: e.logsIngestion,
      adx: e.adx,
    });
  }
  if (problems.length > 0) throw new RoutesError(source, problems);
  if (routes.length === 0) throw new RoutesError(source, ['the file has no route: every object would be refused']);
  return routes;
}

/** Reads and validates a routes file at start; throws RoutesError naming the file and each bad entry. */
export function loadRoutes(path: string): Route[] {
  const file = readJsonFile(path);
  if ('problem' in file) throw new RoutesError(path, [file.problem]);
  return parseRoutes(file.data, path);
}

/**
 * adx-ingester routes a staged batch to ADX by the mappings.json entry named after its source; a route's
 * `adx` must say the same, or the file would claim one thing while the pipeline does another.
 */
export function checkRoutesAgainstMappings(routes: readonly Route[], mappings: Mappings, source: string): void {
  const problems: string[] = [];
  for (const r of routes) {
    const mapped = mappings.has(r.name);
    if (r.adx && !mapped) {
      problems.push(`entry "${r.name}": adx is true but mappings.json has no entry "${r.name}" to ingest it with`);
    } else if (!r.adx && mapped) {
      problems.push(
        `entry "${r.name}": mappings.json has an entry "${r.name}", so adx-ingester ingests this source; set adx: true (or remove that entry)`,
      );
    }
  }
  if (problems.length > 0) throw new RoutesError(source, problems);
}
