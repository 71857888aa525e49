export interface WaitOptions {
  /** Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Pause between probes; default 25 ms. */
  readonly intervalMs?: number;
  /** Treat a probe that throws as "not yet" (the last error is named on timeout); default: the error fails the wait. */
  readonly retryErrors?: boolean;
  /** More for the timeout error (the state reached, the processes' log tails), computed only then. */
  readonly diagnostics?: () => string;
}

/**
 * The test kit's one way to wait for a condition: polls `probe` (sync or async) until it returns something
 * other than `undefined` or `false`, and resolves with that value; past the timeout it rejects naming `what`
 * (and the last error, with `retryErrors`). Tests await a condition instead of sleeping.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (!options.retryErrors) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? '' : ` (last error: ${String(lastError)})`;
      const more = options.diagnostics ? `\n${options.diagnostics()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}${more}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
}
