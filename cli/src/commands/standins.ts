import { intOption, parseCommandArgs } from '../args.ts';
import { type Command, EXIT } from '../help.ts';
import { helpText } from '../help-text.ts';
import { defaultBaseDir } from '../local/state.ts';

export const standins: Command = {
  name: 'standins',
  summary: "Run only the stand-ins (the whole local stack, or the project's own for docker-compose)",
  help: helpText({
    usage: [
      'logferry standins [--seed] [--logs-ingestion-port N] [--adx-port N] [--sts-port N] [--servicebus-port N] [--base-dir DIR]',
      'logferry standins --compose [--host H] [--logs-ingestion-port N] [--adx-port N] [--sts-port N] --cert-dir DIR [--cert-host NAME]… [--seed]',
    ],
    summary: [
      'Without --compose: starts the whole local stack (fauxqs, Azurite, Service Bus, Logs Ingestion, ADX, STS) with the',
      'queue, bucket, containers and status table and the routes npm start runs with (routes.json), prints its',
      'endpoints, and writes the state file other commands read,',
      'so you can run services yourself (e.g. under a debugger). Ports not given are picked free.',
      '',
      "With --compose (docker-compose's `standins` container): starts only the project's Logs Ingestion, ADX and STS",
      "stand-ins on fixed ports, next to the compose file's fauxqs, Azurite and Service Bus emulator, named by",
      'STORAGE_CONNECTION_STRING, AWS_ENDPOINT_URL, SQS_QUEUE_URL and S3_ALLOWED_BUCKETS; writes the Logs Ingestion',
      "certificate's CA to <cert-dir>/ca.pem for the other containers (NODE_EXTRA_CA_CERTS). With ROUTES_FILE the",
      'Logs Ingestion stand-in also accepts every stream the routes name, and --seed seeds their three sources.',
    ].join('\n'),
    options: [
      ['--compose', 'docker-compose mode (see above)'],
      ['--host H', 'address to listen on (default 127.0.0.1; 0.0.0.0 with --compose)'],
      ['--logs-ingestion-port N', 'Logs Ingestion API stand-in (HTTPS)'],
      ['--adx-port N', 'ADX data-management stand-in'],
      ['--sts-port N', 'STS stand-in'],
      ['--servicebus-port N', 'Service Bus stand-in (not with --compose)'],
      ['--cert-dir DIR', 'where ca.pem is written (required with --compose)'],
      ['--cert-host NAME', "extra host name in the certificate (repeatable; the container's name is always in)"],
      ['--seed', 'add the sample data npm start adds (three sources of routes.json, ADX samples, problem cases)'],
      ['--base-dir DIR', 'state file and logs (default .logferry in the repository)'],
    ],
    examples: [
      'logferry standins --seed --servicebus-port 5672',
      'logferry standins --compose --logs-ingestion-port=8443 --adx-port=8090 --sts-port=8091 --cert-dir=/certs --seed',
    ],
    exitCodes: [
      [0, 'stopped by SIGINT/SIGTERM'],
      [1, 'a stand-in failed to start'],
      [2, 'usage error'],
    ],
  }),
  async run(args) {
    const { values } = parseCommandArgs(
      args,
      {
        compose: { type: 'boolean', default: false },
        host: { type: 'string' },
        'logs-ingestion-port': { type: 'string' },
        'adx-port': { type: 'string' },
        'sts-port': { type: 'string' },
        'servicebus-port': { type: 'string' },
        'cert-dir': { type: 'string' },
        'cert-host': { type: 'string', multiple: true },
        seed: { type: 'boolean', default: false },
        'base-dir': { type: 'string' },
      },
      false,
    );
    const port = (name: 'logs-ingestion-port' | 'adx-port' | 'sts-port' | 'servicebus-port', fallback: number) =>
      intOption(values[name], name, fallback, 0, 65_535);
    let close: () => Promise<void>;
    if (values.compose) {
      const certDir = values['cert-dir'];
      if (!certDir) {
        console.error('logferry standins: --compose needs --cert-dir (where the other containers find ca.pem)');
        return EXIT.usage;
      }
      const { startComposeStandIns } = await import('../local/compose-standins.ts');
      const running = await startComposeStandIns({
        host: values.host ?? '0.0.0.0',
        logsIngestionPort: port('logs-ingestion-port', 8443),
        adxPort: port('adx-port', 8090),
        stsPort: port('sts-port', 8091),
        certDir,
        certHosts: values['cert-host'] ?? [],
        seed: values.seed,
      });
      for (const line of running.lines) console.log(line);
      close = () => running.close();
    } else {
      close = await startWholeStack(values['base-dir'] ?? defaultBaseDir(), values.seed, {
        logsIngestion: port('logs-ingestion-port', 0),
        adx: port('adx-port', 0),
        sts: port('sts-port', 0),
        serviceBus: port('servicebus-port', 0),
      });
    }
    console.log('Stand-ins running. Ctrl-C stops them.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await close();
    return EXIT.ok;
  },
};

async function startWholeStack(
  baseDir: string,
  seed: boolean,
  ports: { logsIngestion: number; adx: number; sts: number; serviceBus: number },
): Promise<() => Promise<void>> {
  const s = await import('@logferry/standins');
  if (await s.readStackState(baseDir)) throw new Error(`a local stack is already running (state in ${baseDir})`);
  // The routes npm start runs with, so the three seeded sources are accepted as there.
  const stack = await s.startLocalStack({ baseDir, ports, routesFile: s.DEFAULT_ROUTES_FILE });
  await s.recordRunningStack(baseDir, stack);
  const e = stack.endpoints;
  if (seed) {
    const r = await s.seedSampleData(
      s.seedTargetOf(e, { s3: stack.fauxqs.s3(), sqs: stack.fauxqs.sqs() }),
      s.LOCAL_RUN_SEED,
    );
    console.log(s.seedSummary(r));
  }
  console.log(
    [
      `fauxqs (SQS, S3)         ${e.aws.endpoint}   queue ${e.sqsQueueUrl}, bucket ${e.bucket}`,
      `Azurite                  ${e.blobEndpoint} (blob)  ${e.queueEndpoint} (queue)  ${e.tableEndpoint} (table)`,
      `Service Bus stand-in     port ${stack.serviceBus.port} (UseDevelopmentEmulator=true)`,
      `Logs Ingestion stand-in  ${e.logsIngestionEndpoint}  (CA: ${e.caCertPath})`,
      `ADX stand-in             ${e.adxEndpoint}`,
      `STS stand-in             ${e.stsEndpoint}`,
      `State file               ${s.stateFilePath(baseDir)} (each service's environment: serviceEnvFor in @logferry/standins)`,
    ].join('\n'),
  );
  return async () => {
    await stack.stop();
    await s.removeStackState(baseDir);
  };
}
