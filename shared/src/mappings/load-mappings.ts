import { readFileSync } from 'node:fs';
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
  for (const [name, raw] of Object.entries(file.data)) {
    if (name.startsWith('$')) continue;
    if (!MAPPING_KEY.test(name)) {
      problems.push(
        `entry "${name}": the key must be letters, digits, _ or . (it is matched as "${name}-…" or "${name}/…")`,
      );
      continue;
    }
    const entry = MappingEntrySchema.safeParse(raw);
    if (!entry.success) {
      for (const issue of entry.error.issues) {
        const field = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
        problems.push(`entry "${name}": ${field}${issue.message}`);
      }
      continue;
    }
    out.set(name, { name, ...entry.data });
  }
  if (problems.length > 0) throw new MappingsError(source, problems);
  return out;
}

/** Reads and validates a mappings file at start; throws MappingsError naming the file and each bad entry. */
export function loadMappings(path: string): Mappings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new MappingsError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new MappingsError(path, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parseMappings(data, path);
}
