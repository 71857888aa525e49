import { intOption, parseCommandArgs } from '../args.ts';
import { type Command, EXIT } from '../help.ts';
import { helpText } from '../help-text.ts';
import { defaultBaseDir, runningLocalStack } from '../local/state.ts';

export const seed: Command = {
  name: 'seed',
  summary: 'Add sample data to the running local stack (npm start)',
  help: helpText({
    usage: 'logferry seed [--objects N] [--events N] [--rows N] [--no-adx] [--with-problems] [--scan] [--base-dir DIR]',
    summary: [
      'Puts more Code42-like file events in the local S3 bucket (gzip NDJSON, each object announced on the SQS queue',
      'as S3 would), and TrafficFlows CSV, AuthEvents JSON and DnsQueries gzip files in the data container.',
      'Finds the stack through the state file `npm start` writes (<base-dir>/local-stack.json).',
    ].join('\n'),
    options: [
      ['--objects N', 'S3 objects to add (default 3)'],
      ['--events N', 'file events per object (default 50)'],
      ['--rows N', 'rows per ADX sample file (default 25)'],
      ['--no-adx', 'S3 objects only'],
      ['--with-problems', 'also a truncated gzip object, a malformed CSV and an unmapped file (to try dlq, status)'],
      ['--scan', 'start a scan of the data container afterwards (else the schedule finds the files within a minute)'],
      ['--base-dir DIR', 'where the local stack keeps its state (default .logferry in the repository)'],
    ],
    examples: ['logferry seed', 'logferry seed --objects 20 --events 1000 --scan'],
    exitCodes: [
      [0, 'data added'],
      [1, 'no local stack is running, or a write failed'],
      [2, 'usage error'],
    ],
  }),
  async run(args) {
    const { values } = parseCommandArgs(
      args,
      {
        objects: { type: 'string' },
        events: { type: 'string' },
        rows: { type: 'string' },
        'no-adx': { type: 'boolean', default: false },
        'with-problems': { type: 'boolean', default: false },
        scan: { type: 'boolean', default: false },
        'base-dir': { type: 'string' },
      },
      false,
    );
    const objects = intOption(values.objects, 'objects', 3, 0, 10_000);
    const events = intOption(values.events, 'events', 50, 1, 1_000_000);
    const rows = intOption(values.rows, 'rows', 25, 1, 1_000_000);
    const state = await runningLocalStack(values['base-dir'] ?? defaultBaseDir());
    if (!state) {
      console.error('logferry seed: no local stack is running. Start one with `npm start` (logferry run all --local).');
      return EXIT.failure;
    }
    const [{ recordsBySource, seedSampleData, seedTargetOf }, { S3Client }, { SQSClient }] = await Promise.all([
      import('@logferry/standins'),
      import('@aws-sdk/client-s3'),
      import('@aws-sdk/client-sqs'),
    ]);
    const e = state.endpoints;
    const aws = {
      endpoint: e.aws.endpoint,
      region: e.aws.region,
      credentials: { accessKeyId: e.aws.accessKeyId, secretAccessKey: e.aws.secretAccessKey },
    };
    const s3 = new S3Client({ ...aws, forcePathStyle: true });
    const sqs = new SQSClient(aws);
    try {
      const result = await seedSampleData(seedTargetOf(e, { s3, sqs }), {
        objects,
        eventsPerObject: events,
        adxSamples: !values['no-adx'],
        rowsPerSample: rows,
        problems: values['with-problems'],
        // The stack's sqs-poller would refuse the other sources' objects without their routes.
        routedSources: e.routesFile !== undefined,
      });
      for (const object of result.objects)
        console.log(
          `s3://${e.bucket}/${object.key}  ${object.records} events, ${object.bytes} bytes (${object.source})`,
        );
      for (const b of result.blobs) console.log(`${e.dataContainer}/${b.name}  ${b.rows} rows`);
      for (const p of result.problems) console.log(`${p}  (problem case)`);
      const perSource = recordsBySource(result.objects)
        .map(([source, n]) => `${source} ${n}`)
        .join(', ');
      console.log(
        `Added ${result.objects.length} objects (${result.records} events: ${perSource}) announced on SQS, and ${result.blobs.length} files.`,
      );
      if (values.scan && result.blobs.length > 0) {
        const res = await fetch(new URL('scans', e.statusPageUrl), {
          method: 'POST',
          signal: AbortSignal.timeout(5_000),
        });
        const body = (await res.json().catch(() => ({}))) as { scanId?: string };
        console.log(res.ok ? `Scan ${body.scanId} started.` : `Scan not started: HTTP ${res.status}.`);
      }
      return EXIT.ok;
    } finally {
      s3.destroy();
      sqs.destroy();
    }
  },
};
