import type { Command } from '../help.ts';
import { EXIT } from '../help.ts';

export const SERVICES = [
  'sqs-poller',
  's3-fetcher',
  'la-uploader',
  'blob-scanner',
  'adx-ingester',
  'completion-checker',
] as const;

export const run: Command = {
  name: 'run',
  summary: 'Run one service in this process (what the container image does)',
  help: [
    'Usage: logferry run <service>',
    '',
    `Services: ${SERVICES.join(', ')}`,
    '',
    'Configuration comes from the environment (see the README configuration reference);',
    'an invalid or missing variable stops the service with exit code 78 and a line naming it.',
  ].join('\n'),
  async run(args) {
    const service = args[0];
    if (!service || !(SERVICES as readonly string[]).includes(service)) {
      console.error(`logferry run: name a service: ${SERVICES.join(', ')}`);
      return EXIT.usage;
    }
    // The service's composition root takes over the process (signals, health, exit code).
    await import(new URL(`../../../services/${service}/src/main.ts`, import.meta.url).href);
    return undefined;
  },
};
