import { readFileSync } from 'node:fs';
import type { z } from 'zod';

/** A configuration file's JSON, or the one problem that stops it being read (for the file's own error type). */
export function readJsonFile(path: string): { readonly data: unknown } | { readonly problem: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { problem: `cannot read the file: ${(error as Error).message}` };
  }
  try {
    return { data: JSON.parse(text) };
  } catch (error) {
    return { problem: `not valid JSON: ${(error as Error).message}` };
  }
}

/** How a keyed configuration file (mappings.json, routes.json) checks each entry's key and value. */
export interface EntryRules<Schema extends z.ZodType> {
  readonly key: RegExp;
  /** The problem reported for a key that does not match, given the key. */
  readonly keyProblem: (name: string) => string;
  readonly schema: Schema;
}

/**
 * The valid entries of a file's object, keyed by name; keys starting with `$` are comments. Every problem of
 * the others goes onto `problems`, naming its entry and field, so one run reports all of them.
 */
export function validEntries<Schema extends z.ZodType>(
  data: Record<string, unknown>,
  rules: EntryRules<Schema>,
  problems: string[],
): [name: string, entry: z.output<Schema>][] {
  const valid: [string, z.output<Schema>][] = [];
  for (const [name, raw] of Object.entries(data)) {
    if (name.startsWith('$')) continue;
    if (!rules.key.test(name)) {
      problems.push(`entry "${name}": ${rules.keyProblem(name)}`);
      continue;
    }
    const entry = rules.schema.safeParse(raw);
    if (!entry.success) {
      for (const issue of entry.error.issues) {
        const field = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
        problems.push(`entry "${name}": ${field}${issue.message}`);
      }
      continue;
    }
    valid.push([name, entry.data]);
  }
  return valid;
}
