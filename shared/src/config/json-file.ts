import { readFileSync } from 'node:fs';

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
