import { intOption, parseCommandArgs, UsageError } from '../args.ts';
import { type Command, EXIT } from '../help.ts';
import { helpText } from '../help-text.ts';
import { runningLocalStack } from '../local/state.ts';
import { isService, SERVICES, type Service } from '../services.ts';

export const config: Command = {
  name: 'config',
  summary: 'config check: validate configuration and reach every endpoint it names',
  help: helpText({
    usage: 'logferry config check [--service NAME|all] [--timeout MS] [--local]',
    summary: [
      "Parses each service's configuration from the environment as the service would at start (problems name the",
      'variable and the fix, never a secret value), then reaches every endpoint it names with a short timeout:',
      'Service Bus (each subscription consumed, each topic published), the Blob containers, the lease blobs and the',
      'status table, AWS credentials (STS web identity when AWS_ROLE_ARN is set), the SQS queue (GetQueueAttributes),',
      'the S3 buckets (HeadBucket), the Logs Ingestion endpoint, its token and the DCR stream (an empty upload, which',
      'ingests nothing), ADX data management (.get ingestion resources) and its status queues (peeked), the Entra',
      'signing keys when AUTH_TENANT_ID is set, and mappings.json. Each line is `ok` or the precise failure.',
    ].join('\n'),
    options: [
      [
        '--service NAME|all',
        `one of ${SERVICES.join(', ')}, or all; default: LOGFERRY_SERVICE (the chart sets it in each pod, so in a pod this checks that pod's service), else all`,
      ],
      ['--timeout MS', 'per endpoint (default 5000)'],
      ['--local', "check each service's environment in the running local stack (npm start) instead"],
    ],
    examples: [
      'logferry config check --service la-uploader',
      "kubectl -n logferry exec deploy/logferry-la-uploader -- node cli/src/main.ts config check   # that pod's service",
      'env $(cat prod.env | xargs) logferry config check',
      'logferry config check --local',
    ],
    exitCodes: [
      [0, 'every configuration parsed and every endpoint answered'],
      [1, 'a configuration problem or an unreachable endpoint'],
      [2, 'usage error'],
    ],
  }),
  async run(args) {
    const [action, ...rest] = args;
    if (action !== 'check')
      throw new UsageError('the only action is `check`: logferry config check [--service NAME|all]');
    const { values } = parseCommandArgs(
      rest,
      {
        service: { type: 'string' },
        timeout: { type: 'string' },
        local: { type: 'boolean', default: false },
      },
      false,
    );
    // In a pod, the chart's LOGFERRY_SERVICE names the service whose environment this is: the others' would fail.
    const which = values.service ?? process.env.LOGFERRY_SERVICE ?? 'all';
    if (which !== 'all' && !isService(which))
      throw new UsageError(
        `${values.service === undefined ? 'LOGFERRY_SERVICE' : '--service'} must be all or one of ${SERVICES.join(', ')}`,
      );
    const timeoutMs = intOption(values.timeout, 'timeout', 5_000, 100, 120_000);
    const services: readonly Service[] = which === 'all' ? SERVICES : [which];
    let envOf = (_s: Service): Readonly<Record<string, string | undefined>> => process.env;
    if (values.local) {
      const state = await runningLocalStack();
      if (!state) {
        console.error('logferry config check --local: no local stack is running (start one with npm start).');
        return EXIT.failure;
      }
      const { serviceEnvFor } = await import('@logferry/standins');
      envOf = (s) => ({ ...process.env, ...serviceEnvFor(s, state.endpoints, state.ports) });
    }
    const { checkService } = await import('../config-check/check-service.ts');
    let failures = 0;
    for (const service of services) {
      const report = await checkService(service, envOf(service), timeoutMs);
      console.log(service);
      for (const r of report.results) {
        if (!r.ok) failures += 1;
        console.log(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.name}: ${r.detail}`);
      }
    }
    console.log(failures === 0 ? '\nAll checks passed.' : `\n${failures} check(s) failed.`);
    if (failures > 0 && !values.local && (await runningLocalStack()))
      console.log('A local stack is running (npm start): `logferry config check --local` checks its services.');
    return failures === 0 ? EXIT.ok : EXIT.failure;
  },
};
