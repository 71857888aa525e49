export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full help text, printed by `logferry <command> --help`. */
  readonly help: string;
  /** Resolves with the exit code, or undefined for a long-running command that exits on its own. */
  run(args: string[]): Promise<number | undefined>;
}

/** Exit codes: 0 all done, 1 failed, 2 usage error, 3 partly done (some items failed), 78 bad configuration. */
export const EXIT = { ok: 0, failure: 1, usage: 2, partial: 3, config: 78 } as const;

export function printHelp(commands: readonly Command[]): void {
  const width = Math.max(...commands.map((c) => c.name.length));
  console.log(
    [
      'logferry — ferries security logs: S3 → Log Analytics, Blob → Azure Data Explorer, over Azure Service Bus.',
      '',
      'Usage: logferry <command> [options]     (logferry <command> --help for details)',
      '',
      'Commands:',
      ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
      '',
      'Exit codes: 0 done, 1 failed, 2 usage error, 3 partly done, 78 invalid configuration.',
    ].join('\n'),
  );
}
