import { intOption, parseCommandArgs, timeOption, UsageError } from '../args.ts';
import type { Command } from '../help.ts';
import { helpText } from '../help-text.ts';
import { SERVICE_BUS_ENV } from '../ops/env-help.ts';

export const backfillCommand: Command = {
  name: 'backfill',
  summary: 'Publish existing S3 objects as if SQS had announced them (history before the notifications)',
  help: helpText({
    usage:
      'logferry backfill s3://bucket/prefix [--since ISO] [--until ISO] [--dry-run] [--batch N] [--progress-every N]',
    summary: [
      'Lists the objects under the prefix (ListObjectsV2, page by page), keeps those last modified in [--since, --until),',
      'and publishes one s3-objects message each (origin "backfill") for s3-fetcher to fetch, exactly as sqs-poller would.',
      'Objects outside S3_ALLOWED_BUCKETS / S3_ALLOWED_PREFIXES, or that no route of ROUTES_FILE claims, are refused',
      '(counted, never published). An object that s3-fetcher already staged (same bucket/key@etag) is not staged twice.',
    ].join('\n'),
    options: [
      ['--since ISO', 'only objects modified at or after this time (2024-05-01 or 2024-05-01T12:00:00Z)'],
      ['--until ISO', 'only objects modified before this time'],
      ['--dry-run', 'list what would be published; publish nothing'],
      ['--batch N', 'messages per publish (default 100)'],
      ['--progress-every N', 'a progress line every N listed objects (default 1000)'],
    ],
    environment: [
      [
        'AWS_REGION, S3_ALLOWED_BUCKETS or ROUTES_FILE',
        'as for s3-fetcher (also AWS_ROLE_ARN, AWS_ENDPOINT_URL, S3_ALLOWED_PREFIXES …)',
      ],
      ...SERVICE_BUS_ENV,
    ],
    examples: [
      'logferry backfill s3://code42-logs/code42/ --since 2024-05-01 --until 2024-06-01 --dry-run',
      'logferry backfill s3://code42-logs/code42/file-events/2024/05/',
    ],
    exitCodes: [
      [0, 'every matching object published (or listed, with --dry-run)'],
      [3, 'some published, then publishing or listing failed'],
      [1, 'nothing published because of a failure, or the bucket is not in the allow-list'],
      [2, 'usage error'],
      [78, 'invalid configuration'],
    ],
  }),
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      since: { type: 'string' },
      until: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      batch: { type: 'string' },
      'progress-every': { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('name one s3://bucket/prefix');
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(positionals[0] ?? '');
    if (!m?.[1]) throw new UsageError(`expected s3://bucket/prefix (got ${positionals[0]})`);
    const bucket = m[1];
    const prefix = m[2] ?? '';
    const since = timeOption(values.since, 'since');
    const until = timeOption(values.until, 'until');
    if (since && until && since >= until) throw new UsageError('--since must be before --until');
    const batchSize = intOption(values.batch, 'batch', 100, 1, 500);
    const progressEvery = intOption(values['progress-every'], 'progress-every', 1000, 1, 10_000_000);

    const { runBackfill } = await import('../ops/backfill-run.ts');
    return runBackfill({
      bucket,
      prefix,
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      dryRun: values['dry-run'],
      batchSize,
      progressEvery,
    });
  },
};
