import { readJsonFile, validEntries } from '../config/json-file.ts';
import { EX_CONFIG } from '../config/load.ts';
import { MAPPING_KEY, type Mapping, MappingEntrySchema, type Mappings, MappingsFileSchema } from './mapping-schema.ts';

export class MappingsError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`${source}: invalid mappings\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'MappingsError';
    this.problems = problems;
  }
}

/** Validates the parsed contents of mappings.json; every problem names its entry and field. */
export function parseMappings(data: unknown, source = 'mappings.json'): Mappings {
  const file = MappingsFileSchema.safeParse(data);
  if (!file.success) throw new MappingsError(source, ['expected a JSON object of entries keyed by blob name prefix']);
  const problems: string[] = [];
  const out = new Map<string, Mapping>();
  const rules = {
    key: MAPPING_KEY,
    keyProblem: (name: string) =>
      `the key must be letters, digits, _ or . (it is matched as "${name}-…" or "${name}/…")`,
    schema: MappingEntrySchema,
  };
  for (const [name, entry] of validEntries(file.data, rules, problems)) out.set(name, { name, ...entry });
  if (problems.length > 0) throw new MappingsError(source, problems);
  return out;
}

/** Reads and validates a mappings file at start; throws MappingsError naming the file and each bad entry. */
export function loadMappings(path: string): Mappings {
  const file = readJsonFile(path);
  if ('problem' in file) throw new MappingsError(path, [file.problem]);
  return parseMappings(file.data, path);
}

/** loadMappings at a service's start: a bad file prints one line per problem and exits 78, like bad config. */
export function loadMappingsOrExit(service: string, path: string): Mappings {
  try {
    return loadMappings(path);
  } catch (error) {
    if (!(error instanceof MappingsError)) throw error;
    for (const problem of error.problems) process.stderr.write(`${service}: ${path}: ${problem}\n`);
    return process.exit(EX_CONFIG); // restarting will not help
  }
}
