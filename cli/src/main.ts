#!/usr/bin/env node
// logferry — operator CLI. Each command lives in commands/<name>.ts and exports a `command`.
import { COMMANDS } from './commands/index.ts';
import { EXIT, printHelp } from './help.ts';

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
try {
  const code = await command.run(rest);
  if (code !== undefined) process.exitCode = code;
} catch (err) {
  console.error(`logferry ${name}: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = EXIT.failure;
}
