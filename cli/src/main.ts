#!/usr/bin/env node
// logferry — operator CLI. Each command lives in commands/<name>.ts and exports a `command`.
import { ConfigError } from '@logferry/shared/config/define';
import { scrubString } from '@logferry/shared/logging/redact';
import { UsageError } from './args.ts';
import { COMMANDS } from './commands/index.ts';
import { EXIT, printHelp } from './help.ts';

// `logferry dlq list | head` closes the pipe early: the reader has what it wanted, so stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok);
  throw err;
});

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
  printHelp(COMMANDS);
  process.exit(name === undefined ? EXIT.usage : EXIT.ok);
}
const command = COMMANDS.find((c) => c.name === name);
if (!command) {
  console.error(`logferry: unknown command '${name}'. Run 'logferry --help' for the list.`);
  process.exit(EXIT.usage);
}
if (rest.includes('--help') || rest.includes('-h')) {
  console.log(command.help);
  process.exit(EXIT.ok);
}
let finished = true;
try {
  const code = await command.run(rest);
  if (code === undefined) finished = false;
  else process.exitCode = code;
} catch (err) {
  if (err instanceof UsageError) {
    console.error(`logferry ${name}: ${err.message}\nRun 'logferry ${name} --help' for usage.`);
    process.exitCode = EXIT.usage;
  } else if (err instanceof ConfigError) {
    for (const problem of err.problems) console.error(`logferry ${name}: configuration error: ${problem}`);
    process.exitCode = EXIT.config;
  } else {
    // SDK errors can quote request URLs or connection strings: scrub before printing.
    console.error(`logferry ${name}: ${scrubString(err instanceof Error ? err.message : String(err))}`);
    process.exitCode = EXIT.failure;
  }
}
if (finished) {
  // An SDK client somewhere may still hold a socket or timer; the command is done, so do not wait for it.
  setTimeout(() => process.exit(), 200).unref();
}
