import { parseCommandArgs } from '../args.ts';
import { type Command, EXIT } from '../help.ts';
import { helpText } from '../help-text.ts';
import { Progress, seconds } from '../ops/progress.ts';
import { connectStatusApi } from '../ops/status-api.ts';

interface ScanRecord {
  scanId: string;
  state: 'running' | 'completed' | 'failed';
  prefix?: string;
  error?: string;
  counts: Record<string, number>;
}

const ENV: readonly (readonly [string, string])[] = [
  ['BLOB_SCANNER_URL', "blob-scanner's page/API (default: the local stack's, else http://127.0.0.1:8081)"],
  ['STATUS_API_TOKEN', 'an Entra bearer token (as --token): az account get-access-token --scope api://<app>/.default'],
  ['STATUS_API_KEY', 'else: the API key blob-scanner accepts (X-Api-Key)'],
  [
    'BLOB_SCANNER_SCOPE',
    "else: Entra scope to request a token for (e.g. api://<app>/.default), with the operator's az login on a laptop",
  ],
];
/** Every command that calls the status API takes the token as an option too. */
const TOKEN_OPTION = ['--token T', 'bearer token for the status API (overrides STATUS_API_TOKEN)'] as const;

export { ENV as STATUS_API_ENV, TOKEN_OPTION as STATUS_API_TOKEN_OPTION };

export const scan: Command = {
  name: 'scan',
  summary: 'Start a scan of the data container and follow it to the end',
  help: helpText({
    usage: 'logferry scan [--prefix P] [--follow | --detach] [--interval S] [--token T]',
    summary:
      'Asks blob-scanner (POST /scans) to compare the data container with the status table and queue what is new,\n' +
      'changed or failed with attempts left; then follows the scan (GET /scans/{id}) and prints a summary.',
    options: [
      ['--prefix P', 'only blobs whose names start with P'],
      ['--follow', 'follow progress until the scan ends (the default)'],
      ['--detach', 'print the scan id and return at once'],
      ['--interval S', 'seconds between progress reads (default 1)'],
      TOKEN_OPTION,
    ],
    environment: ENV,
    examples: [
      'logferry scan',
      'logferry scan --prefix TrafficFlows-',
      'BLOB_SCANNER_URL=https://status.example.com STATUS_API_KEY=… logferry scan --detach',
    ],
    exitCodes: [
      [0, 'the scan completed and every listed blob was handled'],
      [3, 'the scan completed, but some blobs could not be claimed or published'],
      [1, 'the scan failed, another scan of a different prefix is running, or the API is unreachable'],
      [2, 'usage error'],
    ],
  }),
  async run(args) {
    const { values } = parseCommandArgs(
      args,
      {
        prefix: { type: 'string' },
        follow: { type: 'boolean', default: false },
        detach: { type: 'boolean', default: false },
        interval: { type: 'string' },
        token: { type: 'string' },
      },
      false,
    );
    if (values.follow && values.detach) {
      console.error('logferry scan: --follow and --detach exclude each other');
      return EXIT.usage;
    }
    const intervalMs = Math.max(200, Number(values.interval ?? 1) * 1000) || 1000;
    const api = await connectStatusApi(values.token ? { token: values.token } : {});
    const started = await api.post<{
      scanId?: string;
      prefix?: string | null;
      alreadyRunning?: boolean;
      error?: string;
    }>('scans', values.prefix === undefined ? {} : { prefix: values.prefix });
    const scanId = started.body?.scanId;
    if (started.status === 409 || !scanId) {
      console.error(
        `logferry scan: another scan is running (${scanId ?? 'unknown id'}, prefix ${JSON.stringify(started.body?.prefix ?? null)}); try again when it ends.`,
      );
      return EXIT.failure;
    }
    console.log(
      `${started.body.alreadyRunning ? 'Joined the running scan' : 'Started scan'} ${scanId} on ${api.baseUrl}`,
    );
    if (values.detach) return EXIT.ok;
    const progress = new Progress(0);
    let record: ScanRecord;
    for (;;) {
      record = await api.get<ScanRecord>(`scans/${encodeURIComponent(scanId)}`);
      const c = record.counts;
      progress.update(
        `  ${record.state}: listed ${c.listed ?? 0}, queued ${c.queued ?? 0}, unchanged ${c.unchanged ?? 0}`,
        c.listed ?? 0,
      );
      if (record.state !== 'running') break;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    const c = record.counts;
    console.log(
      `Scan ${record.state} in ${seconds(progress.elapsedMs)}: listed ${c.listed ?? 0}, queued ${c.queued ?? 0}, unchanged ${c.unchanged ?? 0}, ` +
        `skipped ${c.skipped ?? 0}, claimed by another scan ${c.lostRace ?? 0}, failed ${c.failed ?? 0}.`,
    );
    if (record.state === 'failed') {
      console.error(`The scan failed: ${record.error ?? 'no reason given'}`);
      return EXIT.failure;
    }
    if ((c.failed ?? 0) > 0) return EXIT.partial;
    if ((c.queued ?? 0) > 0) console.log('Watch them with `logferry status` or on the status page.');
    return EXIT.ok;
  },
};
