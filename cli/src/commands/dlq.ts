import type { ServiceBusClient } from '@azure/service-bus';
import { describeDeadLetter, peekDeadLetters } from '@logferry/shared/dead-letters/inspect';
import { parseSubscriptionRef, readSubscriptions, type SubscriptionRef } from '@logferry/shared/dead-letters/topology';
import { intOption, parseCommandArgs, UsageError } from '../args.ts';
import { type Command, EXIT } from '../help.ts';
import { helpText } from '../help-text.ts';
import { SERVICE_BUS_ENV } from '../ops/env-help.ts';
import { Progress, seconds } from '../ops/progress.ts';

const COUNT_LIMIT = 10_000;

export const dlq: Command = {
  name: 'dlq',
  summary: "List, show and replay every subscription's dead-letter queue",
  help: helpText({
    usage: [
      'logferry dlq list [--topology FILE]',
      'logferry dlq show <topic>/<subscription> [--max N]',
      'logferry dlq replay <topic>/<subscription> [--max N] [--id ID] [--dry-run]',
    ],
    summary: [
      'Topics and subscriptions come from deploy/servicebus/Config.json (the topology every environment shares).',
      '  list    dead-lettered messages per subscription (peeked: nothing is locked or changed)',
      '  show    the messages: id, enqueued time, delivery count, DeadLetterReason and description, body excerpt',
      '  replay  after a fix: receives each message from the dead-letter queue, publishes it to the topic again',
      "          addressed to that subscription only (logferry-retry-for, as the transport's retries are: the other",
      '          subscriptions of the topic skip it), with its attempt count reset, and removes it from the',
      '          dead-letter queue only once the publish succeeded. --dry-run lists what would be replayed.',
    ].join('\n'),
    options: [
      ['--max N', 'messages shown or replayed at most (default: show 20, replay 100)'],
      ['--id ID', 'replay only this message id (or the original id of a retry copy)'],
      ['--dry-run', 'list what replay would do; change nothing'],
      ['--topology FILE', 'another Config.json'],
    ],
    environment: SERVICE_BUS_ENV,
    examples: [
      'logferry dlq list',
      'logferry dlq show s3-objects/s3-fetcher --max 5',
      'logferry dlq replay staged-batches/la-uploader --dry-run',
      'logferry dlq replay ingest-requests/adx-ingester --id 7f0c…',
    ],
    exitCodes: [
      [0, 'done (replay: every selected message replayed, or none to replay)'],
      [3, 'replay: some replayed, then a publish failed'],
      [1, 'failed (Service Bus unreachable, entity missing, nothing replayed, --id not found)'],
      [2, 'usage error (unknown action, topic/subscription not in the topology)'],
      [78, 'invalid Service Bus configuration'],
    ],
  }),
  async run(args) {
    const [action, ...rest] = args;
    const { values, positionals } = parseCommandArgs(rest, {
      max: { type: 'string' },
      id: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      topology: { type: 'string' },
    });
    const known = readSubscriptions(values.topology);
    if (action === 'list') {
      if (positionals.length > 0 || values.id || values['dry-run'] || values.max)
        throw new UsageError('dlq list takes only --topology');
      return withClient((client) => list(client, known));
    }
    if (action !== 'show' && action !== 'replay') throw new UsageError('name an action: list, show or replay');
    if (positionals.length !== 1) throw new UsageError(`dlq ${action} needs one <topic>/<subscription>`);
    const ref = parseSubscriptionRef(positionals[0] ?? '', known);
    if (!ref) {
      throw new UsageError(
        `${positionals[0]} is not a subscription of the topology; one of: ${known.map(name).join(', ')}`,
      );
    }
    if (action === 'show') {
      if (values.id || values['dry-run']) throw new UsageError('dlq show takes --max only');
      const max = intOption(values.max, 'max', 20, 1, COUNT_LIMIT);
      return withClient((client) => show(client, ref, max));
    }
    const max = intOption(values.max, 'max', 100, 1, 100_000);
    return withClient((client) =>
      values['dry-run'] ? dryRun(client, ref, max, values.id) : replay(client, ref, max, values.id),
    );
  },
};

const name = (r: SubscriptionRef) => `${r.topic}/${r.subscription}`;

async function withClient(fn: (client: ServiceBusClient) => Promise<number>): Promise<number> {
  const { serviceBusClientFromEnv } = await import('../dlq/connect.ts');
  const client = await serviceBusClientFromEnv();
  try {
    return await fn(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function list(client: ServiceBusClient, known: readonly SubscriptionRef[]): Promise<number> {
  const width = Math.max(...known.map((k) => name(k).length));
  console.log(`${'SUBSCRIPTION'.padEnd(width)}  DEAD-LETTERED  OLDEST                    TOP REASON`);
  let total = 0;
  for (const ref of known) {
    const messages = (await peekDeadLetters(client, ref, COUNT_LIMIT)).map(describeDeadLetter);
    total += messages.length;
    const reasons = new Map<string, number>();
    for (const m of messages) reasons.set(m.reason ?? '(none)', (reasons.get(m.reason ?? '(none)') ?? 0) + 1);
    const top = [...reasons].sort((a, b) => b[1] - a[1])[0];
    const count = messages.length >= COUNT_LIMIT ? `≥${COUNT_LIMIT}` : String(messages.length);
    console.log(
      `${name(ref).padEnd(width)}  ${count.padStart(13)}  ${(messages[0]?.enqueuedAt ?? '-').padEnd(24)}  ${top ? `${top[0]} (${top[1]})` : '-'}`,
    );
  }
  console.log(`\n${total} dead-lettered message(s). Details: logferry dlq show <topic>/<subscription>`);
  return EXIT.ok;
}

async function show(client: ServiceBusClient, ref: SubscriptionRef, max: number): Promise<number> {
  const messages = (await peekDeadLetters(client, ref, max)).map(describeDeadLetter);
  console.log(
    `${name(ref)}: ${messages.length === 0 ? 'no dead-lettered messages' : `${messages.length} shown (oldest first)`}`,
  );
  for (const m of messages) {
    console.log('');
    console.log(`  message id      ${m.messageId}`);
    console.log(
      `  enqueued        ${m.enqueuedAt ?? '-'}   delivery count ${m.deliveryCount}   sequence ${m.sequenceNumber}`,
    );
    console.log(`  reason          ${m.reason ?? '-'}`);
    console.log(`  description     ${m.description ?? '-'}`);
    if (m.subject) console.log(`  type            ${m.subject}`);
    console.log(`  body            ${excerpt(m.body, 300)}`);
  }
  return EXIT.ok;
}

async function dryRun(client: ServiceBusClient, ref: SubscriptionRef, max: number, id?: string): Promise<number> {
  const { matchesId } = await import('@logferry/shared/dead-letters/replay');
  const peeked = await peekDeadLetters(client, ref, id ? COUNT_LIMIT : max);
  const selected = (id ? peeked.filter((m) => matchesId(m, id)) : peeked).slice(0, max).map(describeDeadLetter);
  console.log(
    `Dry run: would replay ${selected.length} message(s) from ${name(ref)} to topic ${ref.topic}, for ${ref.subscription} only:`,
  );
  for (const m of selected) console.log(`  ${m.messageId}  ${m.reason ?? '-'}  ${excerpt(m.body, 80)}`);
  if (id && selected.length === 0) {
    console.error(`No dead-lettered message with id ${id} in ${name(ref)}.`);
    return EXIT.failure;
  }
  return EXIT.ok;
}

async function replay(client: ServiceBusClient, ref: SubscriptionRef, max: number, id?: string): Promise<number> {
  const { replayDeadLetters } = await import('@logferry/shared/dead-letters/replay');
  const progress = new Progress(1_000);
  const summary = await replayDeadLetters(client, ref, {
    service: 'cli',
    max,
    scanLimit: id ? COUNT_LIMIT : max,
    ...(id ? { id } : {}),
    onProgress: (done, m) => progress.update(`  replayed ${done}: ${m.messageId}`, done),
  });
  console.log(
    `Replayed ${summary.replayed} message(s) from ${name(ref)} to ${ref.topic} for ${ref.subscription} in ${seconds(progress.elapsedMs)}` +
      (summary.failed > 0 ? `; the publish of the next one failed: ${summary.lastError}` : '.'),
  );
  if (summary.failed === 0 && summary.lastError) console.error(`warning: ${summary.lastError}`);
  if (summary.failed > 0) return summary.replayed > 0 ? EXIT.partial : EXIT.failure;
  if (summary.replayed === 0 && id) {
    console.error(`No dead-lettered message with id ${id} in ${name(ref)}.`);
    return EXIT.failure;
  }
  return EXIT.ok;
}

function excerpt(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
