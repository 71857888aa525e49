import { type ParseArgsConfig, parseArgs } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Strict parsing for every command: an unknown option or a missing value is a usage error (exit 2), so a
 * typo never runs an operation with defaults the operator did not mean.
 */
export function parseCommandArgs<const O extends Options>(
  args: readonly string[],
  options: O,
  allowPositionals = true,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: boolean }>> {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, '.'));
  }
}

/** A positive integer option, or the default. */
export function intOption(value: string | undefined, name: string, fallback: number, min = 1, max = 1_000_000): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer ${min}–${max} (got ${value})`);
  return n;
}

/** An ISO 8601 time option (a date alone means its midnight UTC). */
export function timeOption(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new UsageError(
      `--${name} must be an ISO 8601 time such as 2024-05-01 or 2024-05-01T12:00:00Z (got ${value})`,
    );
  }
  return d;
}
