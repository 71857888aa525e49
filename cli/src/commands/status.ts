import { intOption, parseCommandArgs, UsageError } from '../args.ts';
import { type Command, EXIT } from '../help.ts';
import { helpText } from '../help-text.ts';
import { connectStatusApi } from '../ops/status-api.ts';
import { STATUS_API_ENV, STATUS_API_TOKEN_OPTION } from './scan.ts';

const STATUSES = ['new', 'queued', 'ingesting', 'succeeded', 'failed', 'skipped', 'unknown'] as const;

interface BlobRow {
  blobName: string;
  status: string;
  attempts: number;
  maxAttempts?: number;
  table?: string;
  lastError?: string;
  errorCode?: string;
  failureStatus?: string;
  updatedAt: string;
}

export const status: Command = {
  name: 'status',
  summary: 'Blob counts per status and the failures with their reasons',
  help: helpText({
    usage: 'logferry status [--status S] [--prefix P] [--max N] [--json] [--token T]',
    summary:
      "Reads blob-scanner's status API: counts per status for the data container (GET /counts), then the blobs in\n" +
      'one status with their reasons (GET /blobs): by default the failed and unknown ones.',
    options: [
      ['--status S', `list blobs in this status instead (${STATUSES.join(', ')})`],
      ['--prefix P', 'only blobs whose names start with P'],
      ['--max N', 'blobs listed at most (default 50)'],
      ['--json', 'print {counts, blobs} as JSON'],
      STATUS_API_TOKEN_OPTION,
    ],
    environment: STATUS_API_ENV,
    examples: ['logferry status', 'logferry status --status skipped', 'logferry status --prefix TrafficFlows- --json'],
    exitCodes: [
      [0, 'report printed'],
      [1, 'the status API failed or is unreachable'],
      [2, 'usage error'],
    ],
  }),
  async run(args) {
    const { values } = parseCommandArgs(
      args,
      {
        status: { type: 'string' },
        prefix: { type: 'string' },
        max: { type: 'string' },
        json: { type: 'boolean', default: false },
        token: { type: 'string' },
      },
      false,
    );
    if (values.status !== undefined && !(STATUSES as readonly string[]).includes(values.status)) {
      throw new UsageError(`--status must be one of ${STATUSES.join(', ')} (got ${values.status})`);
    }
    const max = intOption(values.max, 'max', 50, 1, 10_000);
    const api = await connectStatusApi(values.token ? { token: values.token } : {});
    const { container, counts } = await api.get<{ container: string; counts: Record<string, number> }>('counts');
    const wanted = values.status ? [values.status] : ['failed', 'unknown'];
    const blobs: BlobRow[] = [];
    for (const s of wanted) {
      let token: string | null | undefined;
      do {
        const q = new URLSearchParams({ status: s, pageSize: String(Math.min(200, max - blobs.length)) });
        if (values.prefix) q.set('prefix', values.prefix);
        if (token) q.set('continuationToken', token);
        const page = await api.get<{ items: BlobRow[]; continuationToken: string | null }>(`blobs?${q}`);
        blobs.push(...page.items);
        token = page.continuationToken;
      } while (token && blobs.length < max);
      if (blobs.length >= max) break;
    }
    if (values.json) {
      console.log(JSON.stringify({ container, counts, blobs }, null, 2));
      return EXIT.ok;
    }
    console.log(`Blobs in container "${container}":`);
    console.log(`  ${STATUSES.map((s) => `${s} ${counts[s] ?? 0}`).join('   ')}`);
    const title = values.status ? `In status ${values.status}` : 'Failed or unknown';
    console.log(
      `\n${title}${values.prefix ? ` (prefix ${values.prefix})` : ''}: ${blobs.length === 0 ? 'none' : blobs.length}`,
    );
    for (const b of blobs) {
      const attempts = `attempt ${b.attempts}${b.maxAttempts ? `/${b.maxAttempts}` : ''}`;
      const kind = [b.failureStatus, b.errorCode].filter(Boolean).join(' ');
      console.log(`  ${b.blobName}  [${b.status}, ${attempts}${b.table ? `, table ${b.table}` : ''}, ${b.updatedAt}]`);
      if (b.lastError || kind) console.log(`      ${kind ? `${kind}: ` : ''}${b.lastError ?? ''}`);
    }
    if (blobs.length >= max) console.log(`  … more not shown (--max ${max})`);
    return EXIT.ok;
  },
};
