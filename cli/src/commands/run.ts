import { intOption, parseCommandArgs, UsageError } from '../args.ts';
import type { Command } from '../help.ts';
import { EXIT } from '../help.ts';
import { helpText } from '../help-text.ts';
import { isService, SERVICES } from '../services.ts';

export { SERVICES };

// Variables that point the services at real endpoints: with any of them set, `run all --local` (npm start)
// runs against what they name instead of starting stand-ins.
const REAL_ENDPOINT_VARS = ['SERVICEBUS_NAMESPACE', 'SERVICEBUS_CONNECTION_STRING'];

export const run: Command = {
  name: 'run',
  summary: 'Run one service in this process (what the image does), or all six (--local: on stand-ins)',
  help: helpText({
    usage: [
      'logferry run <service>',
      'logferry run all [--local] [--status-port N] [--no-seed] [--verbose] [--base-dir DIR]',
    ],
    summary: [
      `Services: ${SERVICES.join(', ')}`,
      '',
      '`run <service>` runs that service in this process; its configuration comes from the environment (see the',
      'README configuration reference). An invalid or missing variable stops it with exit 78 and a line naming it.',
      '',
      '`run all --local` (what `npm start` runs) starts the stand-ins (fauxqs, Azurite, Service Bus, Logs Ingestion,',
      'ADX, STS), seeds sample data, runs the six services as child processes, prints the status page URL and a live',
      'line of counts. Ctrl-C stops the services, then the stand-ins. When the environment names a real Service Bus',
      `(${REAL_ENDPOINT_VARS.join(' or ')}), no stand-in starts: the services run against the configured endpoints.`,
      '`run all` without --local always runs the six against the configured endpoints.',
    ].join('\n'),
    options: [
      ['--local', 'start the stand-ins and sample data (unless real endpoints are configured)'],
      ['--status-port N', 'port of the status page in local mode (default 8081; a free one if taken)'],
      ['--no-seed', 'local mode without sample data'],
      ['--verbose', "echo every service's log lines (always written to <base-dir>/logs/<service>.log)"],
      ['--base-dir DIR', 'state file and logs (default .logferry in the repository, or LOGFERRY_STATE_DIR)'],
      ['--live-interval S', 'seconds between live count lines in local mode (default 5)'],
    ],
    examples: [
      'npm start                                   # = logferry run all --local',
      'logferry run all --local --status-port 9000',
      'SERVICEBUS_NAMESPACE=… AWS_ROLE_ARN=… logferry run all',
      'logferry run la-uploader',
    ],
    exitCodes: [
      [0, 'stopped cleanly (Ctrl-C / SIGTERM)'],
      [1, 'a service or stand-in failed to start, or had to be killed'],
      [2, 'usage error'],
      [78, 'invalid configuration (run <service>)'],
    ],
  }),
  async run(args) {
    const target = args[0];
    if (target !== 'all') {
      if (!target || !isService(target)) {
        console.error(`logferry run: name a service (${SERVICES.join(', ')}) or all`);
        return EXIT.usage;
      }
      if (args.length > 1)
        throw new UsageError(`run ${target} takes no options (configuration comes from the environment)`);
      // The service's composition root takes over the process (signals, health, exit code).
      await import(new URL(`../../../services/${target}/src/main.ts`, import.meta.url).href);
      return undefined;
    }
    const { values } = parseCommandArgs(
      args.slice(1),
      {
        local: { type: 'boolean', default: false },
        'status-port': { type: 'string' },
        'no-seed': { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        'base-dir': { type: 'string' },
        'live-interval': { type: 'string' },
      },
      false,
    );
    const baseDir = values['base-dir'];
    let standins: unknown;
    try {
      standins = await import('@logferry/standins');
    } catch {
      standins = undefined;
    }
    if (!standins) {
      console.error(
        'logferry run all: needs the full checkout with dev dependencies (npm install); an image runs one service each.',
      );
      return EXIT.failure;
    }
    const real = REAL_ENDPOINT_VARS.filter((v) => process.env[v]);
    if (values.local && real.length === 0) {
      const { runLocal } = await import('../local/run-local.ts');
      return runLocal({
        ...(baseDir ? { baseDir } : {}),
        statusPort: intOption(values['status-port'], 'status-port', 8081, 0, 65_535),
        seed: !values['no-seed'],
        verbose: values.verbose,
        liveIntervalMs: intOption(values['live-interval'], 'live-interval', 5, 1, 3_600) * 1_000,
      });
    }
    if (values.local) console.log(`${real.join(' and ')} set: running against the configured endpoints, no stand-ins.`);
    const { runRemote } = await import('../local/run-remote.ts');
    return runRemote({ verbose: values.verbose, ...(baseDir ? { baseDir } : {}) });
  },
};
