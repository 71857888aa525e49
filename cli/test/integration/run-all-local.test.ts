// `npm start` as a new user runs it, then the operator commands against that one running stack: the banner
// names the status page; every seeded Code42 record reaches the Logs Ingestion stand-in and every seeded ADX row
// its table; the status API and `logferry status` show the malformed CSV failed and the unmapped file skipped;
// a batch the sink refused is dead-lettered and `logferry dlq replay` delivers it; `logferry backfill` publishes
// objects S3 never announced, only those inside --since/--until; `logferry scan` ends with a summary; Ctrl-C
// stops everything with exit 0 and leaves no process behind.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { waitUntil } from '@logferry/shared/testing';
import { code42FileEvents, type LocalEndpoints } from '@logferry/standins';
import { CLI_MAIN, type CliResult, runCli } from '../support/cli.ts';
import { byDeadline, dlqCount, httpsJson, type StreamPage, waitForAdxRows } from '../support/local-stack-probes.ts';
import { descendants, isAlive } from '../support/processes.ts';

/** From `npm start` to data through both flows, as the issue promises a new user. */
const FLOWS_DEADLINE_MS = 120_000;
/**
 * Each later step: its commands and what they should cause. Alone a step takes 2-15 s (each CLI process starts
 * in 1-2 s); the margin is for a loaded machine running other test files alongside.
 */
const STEP_DEADLINE_MS = 120_000;
/** Rows per ADX sample file: seedSampleData's default, which `run all --local` and `logferry seed` use. */
const ROWS_PER_SAMPLE = 25;
const ADX_TABLES = ['TrafficFlows', 'AuthEvents', 'DnsQueries'] as const;

describe('logferry run all --local (npm start) and the CLI against it', () => {
  let child: ChildProcess | undefined;
  let exited: Promise<[number | null, NodeJS.Signals | null]>;
  let baseDir = '';
  let output = '';
  let tree: number[] = [];
  let page = '';
  let e: LocalEndpoints;
  let ca = '';
  let s3: S3Client | undefined;
  let streamUrl = '';
  /** Code42 records the Logs Ingestion stand-in must hold once everything sent so far has arrived. */
  let expectedRecords = 0;
  let started = 0;

  const cli = (args: readonly string[]): Promise<CliResult> => runCli(args, { LOGFERRY_STATE_DIR: baseDir });
  const fail = (err: Error): never => assert.fail(`${err.message}\n--- npm start output ---\n${output}`);
  const stream = async (limit = 0) =>
    (await httpsJson(`${streamUrl}?limit=${limit}`, ca)) as StreamPage & { statuses: Record<string, number> };
  const blobCounts = async () =>
    ((await (await fetch(new URL('counts', page))).json()) as { counts: Record<string, number> }).counts;
  /** Waits until the stand-in holds exactly `expectedRecords`, then checks none arrived twice. */
  const allRecordsArrived = async (deadline: number) => {
    await waitUntil(
      `${expectedRecords} records in the Logs Ingestion stand-in`,
      async () => {
        const n = (await stream()).recordCount;
        if (n > expectedRecords) throw new Error(`more records than sent: ${n} > ${expectedRecords}`);
        return n === expectedRecords ? n : undefined;
      },
      byDeadline(deadline),
    ).catch(fail);
    const all = await stream(10_000);
    assert.equal(all.records.length, expectedRecords);
    const ids = new Set(all.records.map((r) => r.eventId));
    assert.equal(ids.size, expectedRecords, 'no record arrived twice');
    return all.records;
  };

  before(async () => {
    started = Date.now();
    const deadline = started + FLOWS_DEADLINE_MS;
    baseDir = await mkdtemp(join(tmpdir(), 'logferry-npm-start-'));
    const proc = spawn(
      process.execPath,
      [CLI_MAIN, 'run', 'all', '--local', '--base-dir', baseDir, '--status-port', '0', '--live-interval', '2'],
      { env: { PATH: process.env.PATH ?? '', HOME: baseDir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    proc.stdout?.on('data', (d) => {
      output += String(d);
    });
    proc.stderr?.on('data', (d) => {
      output += String(d);
    });
    exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    page = await waitUntil(
      'the banner',
      async () => {
        if (proc.exitCode !== null) throw new Error(`exited early with ${proc.exitCode}`);
        return /Status page\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1];
      },
      byDeadline(deadline),
    ).catch(fail);
    const state = JSON.parse(readFileSync(join(baseDir, 'local-stack.json'), 'utf8')) as { endpoints: LocalEndpoints };
    e = state.endpoints;
    ca = readFileSync(e.caCertPath, 'utf8');
    streamUrl = `${e.logsIngestionEndpoint}/stand-in/streams/${e.dcrStream}`;
    s3 = new S3Client({
      endpoint: e.aws.endpoint,
      region: e.aws.region,
      forcePathStyle: true,
      credentials: { accessKeyId: e.aws.accessKeyId, secretAccessKey: e.aws.secretAccessKey },
    });
  });

  after(async () => {
    s3?.destroy();
    // Only on failure is anything left; leave nothing running either way (children listed before the parent goes).
    const running = child && child.exitCode === null && child.signalCode === null;
    const left = tree.length > 0 || !running ? tree : descendants(child?.pid ?? -1);
    if (running) child?.kill('SIGKILL');
    for (const pid of left) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    if (baseDir) await rm(baseDir, { recursive: true, force: true });
  });

  it('shows every seeded record and row on the way through both flows, within two minutes', async () => {
    const deadline = started + FLOWS_DEADLINE_MS;
    assert.ok(page, 'the banner names the status page');
    assert.match(
      output,
      /Log Analytics\s+curl -sk https:\/\/127\.0\.0\.1:\d+\/stand-in\/streams\/Custom-Code42FileEvents_CL/,
    );
    assert.match(output, /ADX rows\s+curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/rest\/query /);
    assert.match(output, /npx logferry seed\s+more Code42 events in S3 \(announced on SQS\) and ADX sample files/);
    const res = await fetch(page);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    await res.body?.cancel();

    // routes.json's three sources, each in its own stream of the one DCR.
    const seeded =
      /Seeded \d+ objects in s3:\/\/\S+ \(Code42FileEvents: (\d+) records, Code42Audit: (\d+) records, VpcFlowLogs: (\d+) records\)/.exec(
        output,
      );
    assert.ok(seeded?.[1], `the start reports what it seeded\n${output}`);
    expectedRecords = Number(seeded[1]);
    assert.ok(expectedRecords > 0);
    const records = await allRecordsArrived(deadline);
    for (const [stream, n] of [
      ['Custom-Code42Audit_CL', Number(seeded[2])],
      ['Custom-VpcFlowLogs_CL', Number(seeded[3])],
    ] as const) {
      assert.ok(n > 0);
      await waitUntil(
        `${n} records in ${stream}`,
        async () => {
          const got = (
            (await httpsJson(`${e.logsIngestionEndpoint}/stand-in/streams/${stream}?limit=0`, ca)) as StreamPage
          ).recordCount;
          if (got > n) throw new Error(`${stream} holds ${got} records, more than seeded`);
          return got === n ? got : undefined;
        },
        byDeadline(deadline),
      ).catch(fail);
    }
    assert.ok(records.every((r) => typeof r.eventType === 'string' && typeof r.TimeGenerated === 'string'));
    assert.equal((await stream()).statuses['400'] ?? 0, 0, 'the sink refused nothing yet');

    await waitForAdxRows(e, ADX_TABLES, ROWS_PER_SAMPLE, deadline).catch(fail);
    // The malformed CSV fails in ADX and the file no mapping names is skipped; the three samples succeed.
    await waitUntil(
      'succeeded ≥ 3, failed 1, skipped 1 on the status API',
      async () => {
        const c = await blobCounts();
        return (c.succeeded ?? 0) >= 3 && c.failed === 1 && c.skipped === 1 ? c : undefined;
      },
      byDeadline(deadline),
    ).catch(fail);
    assert.ok(Date.now() - started < FLOWS_DEADLINE_MS);
  });

  it('logferry status prints the failed malformed CSV with its reason', async () => {
    const r = await cli(['status']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Number(/succeeded (\d+)/.exec(r.stdout)?.[1]) >= 3, r.stdout);
    assert.match(r.stdout, /\bfailed 1\s+skipped 1\b/);
    assert.match(r.stdout, /Failed or unknown: 1\n/);
    const m =
      /^ {2}(TrafficFlows-\S+-malformed\.csv) {2}\[failed, attempt \d+(?:\/\d+)?[^\]]*\]\n {6}(\S[^\n]*)$/m.exec(
        r.stdout,
      );
    assert.ok(m, `the malformed CSV and its reason:\n${r.stdout}`);
    assert.match(m[2] ?? '', /fields/i, 'the reason says what is wrong with the row');
  });

  it('dlq replay delivers a batch the Logs Ingestion API refused once, and empties the DLQ', async () => {
    const deadline = Date.now() + STEP_DEADLINE_MS;
    const ref = 'staged-batches/la-uploader';
    const before = await cli(['dlq', 'list']);
    assert.equal(before.code, 0, before.stderr);
    assert.equal(dlqCount(before.stdout, ref), 0, before.stdout);

    const faults = (await httpsJson(`${e.logsIngestionEndpoint}/stand-in/faults`, ca, 'POST', [
      { stream: e.dcrStream, status: 400, count: 1 },
    ])) as { pending: number };
    assert.equal(faults.pending, 1);
    const seeded = await cli(['seed']);
    assert.equal(seeded.code, 0, seeded.stderr);
    const added = /Added \d+ objects \(\d+ events: Code42FileEvents (\d+)[,)]/.exec(seeded.stdout);
    assert.ok(added?.[1], seeded.stdout);
    const total = expectedRecords + Number(added[1]);

    const listing = await waitUntil(
      `1 dead-letter in ${ref}`,
      async () => {
        const r = await cli(['dlq', 'list']);
        if (r.code !== 0) throw new Error(`dlq list exited ${r.code}: ${r.stderr}`);
        return dlqCount(r.stdout, ref) === 1 ? r.stdout : undefined;
      },
      byDeadline(deadline),
    ).catch(fail);
    assert.match(listing, /^staged-batches\/la-uploader\s+1\s+\S+\s+LogsIngestionRejected \(1\)$/m);
    const s = await stream();
    assert.equal(s.statuses['400'], 1, 'the fault answered one request');
    // Everything but the refused batch arrives; the refused one waits in the DLQ.
    await waitUntil(
      'the other batches of the seed',
      async () => {
        const n = (await stream()).recordCount;
        return n > expectedRecords && n < total ? n : undefined;
      },
      byDeadline(deadline),
    ).catch(fail);

    const replay = await cli(['dlq', 'replay', ref]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /Replayed 1 message\(s\) from staged-batches\/la-uploader/);
    expectedRecords = total;
    await allRecordsArrived(deadline);
    const empty = await waitUntil(
      `an empty ${ref} DLQ`,
      async () => {
        const r = await cli(['dlq', 'list']);
        return dlqCount(r.stdout, ref) === 0 ? r.stdout : undefined;
      },
      byDeadline(deadline),
    ).catch(fail);
    assert.equal(dlqCount(empty, 'staged-batches/adx-ingester'), 0, 'adx-ingester did not dead-letter the replay');
  });

  it('logferry scan exits 0 with a summary, and the files seed added reach ADX', async () => {
    // A scheduled scan (every minute) that began before the files may be the one joined: allow for the next.
    const deadline = Date.now() + STEP_DEADLINE_MS + 60_000;
    const r = await cli(['scan', '--interval', '0.2']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^(Started scan|Joined the running scan) \S+ on http:\/\/127\.0\.0\.1:\d+\/$/m);
    const summary =
      /^Scan completed in [\d.]+ s: listed (\d+), queued \d+, unchanged \d+, skipped \d+, claimed by another scan \d+, failed 0\.$/m.exec(
        r.stdout,
      );
    assert.ok(summary, r.stdout);
    // Five files from the start, and (unless a scheduled scan that began earlier was joined) three from seed.
    assert.ok([5, 8].includes(Number(summary[1])), r.stdout);
    await waitForAdxRows(e, ADX_TABLES, 2 * ROWS_PER_SAMPLE, deadline).catch(fail);
    await waitUntil(
      'succeeded ≥ 6, failed 1, skipped 1',
      async () => {
        const c = await blobCounts();
        return (c.succeeded ?? 0) >= 6 && c.failed === 1 && c.skipped === 1 ? c : undefined;
      },
      byDeadline(deadline),
    ).catch(fail);
  });

  it('logferry backfill publishes objects S3 never announced, only those inside --since/--until', async () => {
    const deadline = Date.now() + STEP_DEADLINE_MS;
    assert.ok(s3);
    const client = s3;
    const run = Date.now().toString(36);
    const put = async (key: string, events: number) => {
      const body = gzipSync(
        `${code42FileEvents(events, { seed: events })
          .map((x) => JSON.stringify(x))
          .join('\n')}\n`,
      );
      await client.send(new PutObjectCommand({ Bucket: e.bucket, Key: key, Body: body }));
    };
    const lastModified = async (prefix: string) => {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: e.bucket, Prefix: prefix }));
      return new Map((listed.Contents ?? []).map((o) => [o.Key ?? '', o.LastModified?.getTime() ?? Number.NaN]));
    };
    const perKey = (records: readonly Record<string, unknown>[]) => {
      const n = new Map<unknown, number>();
      for (const r of records) n.set(r._SourceKey, (n.get(r._SourceKey) ?? 0) + 1);
      return n;
    };

    // A whole prefix: two objects, no window.
    const whole = `code42/file-events/backfill-${run}/all/`;
    const wholeKeys = [`${whole}one.json.gz`, `${whole}two.json.gz`] as const;
    await put(wholeKeys[0], 4);
    await put(wholeKeys[1], 6);
    const all = await cli(['backfill', `s3://${e.bucket}/${whole}`]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /listed 2, published 2, outside the time window 0, refused by the allow-list 0\./);
    expectedRecords += 10;
    let counts = perKey(await allRecordsArrived(deadline));
    assert.equal(counts.get(wholeKeys[0]), 4);
    assert.equal(counts.get(wholeKeys[1]), 6);

    // Two objects modified at different times (past a whole second apart, in case the store rounds to seconds);
    // the later one's LastModified splits them: --until it keeps the first, --since it keeps the second.
    const windowed = `code42/file-events/backfill-${run}/window/`;
    const early = `${windowed}early.json.gz`;
    const late = `${windowed}late.json.gz`;
    await put(early, 7);
    const earlyAt = (await lastModified(windowed)).get(early) ?? Number.NaN;
    assert.ok(Number.isFinite(earlyAt), 'fauxqs lists the first object with its LastModified');
    await waitUntil(
      "the clock to pass the first object's second",
      async () => (Math.floor(Date.now() / 1000) > Math.floor(earlyAt / 1000) ? true : undefined),
      byDeadline(deadline),
    );
    await put(late, 11);
    const lateAt = (await lastModified(windowed)).get(late) ?? Number.NaN;
    assert.ok(
      lateAt > earlyAt,
      `LastModified ${new Date(lateAt).toISOString()} after ${new Date(earlyAt).toISOString()}`,
    );
    const split = new Date(lateAt).toISOString();

    const first = await cli(['backfill', `s3://${e.bucket}/${windowed}`, '--until', split]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /listed 2, published 1, outside the time window 1, refused by the allow-list 0\./);
    expectedRecords += 7;
    counts = perKey(await allRecordsArrived(deadline));
    assert.equal(counts.get(early), 7, 'the object before --until arrived');
    assert.equal(counts.get(late), undefined, 'the object at --until was not published');

    const second = await cli(['backfill', `s3://${e.bucket}/${windowed}`, '--since', split]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /listed 2, published 1, outside the time window 1, refused by the allow-list 0\./);
    expectedRecords += 11;
    counts = perKey(await allRecordsArrived(deadline));
    assert.equal(counts.get(late), 11, 'the object at --since arrived');
    assert.equal(counts.get(early), 7, 'the object before --since was not published again');
  });

  it('stops cleanly on Ctrl-C: exit 0, no process left, state file removed', async () => {
    const proc = child;
    assert.ok(proc?.pid, 'npm start is running');
    assert.equal(proc.exitCode, null, `npm start is still running\n${output}`);
    tree = descendants(proc.pid);
    assert.ok(tree.length >= 7, `six services and Azurite run as children (saw ${tree.length})`);
    proc.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 0, output);
    assert.match(output, /Stopped\./);
    const left = tree.filter(isAlive);
    assert.deepEqual(left, [], 'no child process outlives the CLI');
    assert.equal(existsSync(join(baseDir, 'local-stack.json')), false, 'the state file is removed');
  });
});
