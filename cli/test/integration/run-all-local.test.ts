// `npm start` as a new user runs it: the banner names the status page, data flows through both flows,
// Ctrl-C stops everything with exit 0 and leaves no process behind.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI_MAIN } from '../support/cli.ts';
import { descendants, isAlive } from '../support/processes.ts';

const DEADLINE_MS = 120_000;

function httpsJson(url: string, ca: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += String(d);
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(err);
        }
      });
    })
      .on('error', reject)
      .end();
  });
}

async function until<T>(what: string, deadline: number, probe: () => Promise<T | undefined>): Promise<T> {
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} did not happen before the deadline (${String(last ?? 'no error')})`);
}

describe('logferry run all --local (npm start)', () => {
  let child: ChildProcess | undefined;
  let baseDir = '';
  let output = '';
  let tree: number[] = [];

  after(async () => {
    // Only on failure is anything left; leave nothing running either way.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const pid of tree) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    if (baseDir) await rm(baseDir, { recursive: true, force: true });
  });

  it('shows data flowing through both flows, then stops cleanly on Ctrl-C', async () => {
    const deadline = Date.now() + DEADLINE_MS;
    baseDir = await mkdtemp(join(tmpdir(), 'logferry-npm-start-'));
    const cli = spawn(
      process.execPath,
      [CLI_MAIN, 'run', 'all', '--local', '--base-dir', baseDir, '--status-port', '0', '--live-interval', '2'],
      { env: { PATH: process.env.PATH ?? '', HOME: baseDir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = cli;
    cli.stdout?.on('data', (d) => {
      output += String(d);
    });
    cli.stderr?.on('data', (d) => {
      output += String(d);
    });
    const exited = once(cli, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

    const page = await until('the banner', deadline, async () => {
      if (cli.exitCode !== null) throw new Error(`exited early with ${cli.exitCode}:\n${output}`);
      return /Status page\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1];
    }).catch((err: Error) => assert.fail(`${err.message}\n${output}`));
    assert.match(
      output,
      /Log Analytics\s+curl -sk https:\/\/127\.0\.0\.1:\d+\/stand-in\/streams\/Custom-Code42FileEvents_CL/,
    );
    assert.match(output, /node cli\/src\/main\.ts seed/);

    const res = await fetch(page);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    await res.body?.cancel();

    const state = JSON.parse(readFileSync(join(baseDir, 'local-stack.json'), 'utf8')) as {
      endpoints: { logsIngestionEndpoint: string; caCertPath: string; dcrStream: string };
    };
    const ca = readFileSync(state.endpoints.caCertPath, 'utf8');
    const streamUrl = `${state.endpoints.logsIngestionEndpoint}/stand-in/streams/${state.endpoints.dcrStream}`;
    const records = await until('records in the Logs Ingestion stand-in', deadline, async () => {
      const s = (await httpsJson(streamUrl, ca)) as { recordCount?: number; records?: Record<string, unknown>[] };
      return (s.recordCount ?? 0) > 0 ? s.records : undefined;
    }).catch((err: Error) => assert.fail(`${err.message}\n${output}`));
    assert.ok(records?.some((r) => typeof r.eventType === 'string' && typeof r.TimeGenerated === 'string'));

    const counts = await until('a blob in a terminal status', deadline, async () => {
      const c = (await (await fetch(new URL('counts', page))).json()) as { counts: Record<string, number> };
      const done = (c.counts.succeeded ?? 0) + (c.counts.failed ?? 0) + (c.counts.skipped ?? 0);
      return done > 0 ? c.counts : undefined;
    }).catch((err: Error) => assert.fail(`${err.message}\n${output}`));
    assert.ok(counts);

    tree = descendants(cli.pid ?? -1);
    assert.ok(tree.length >= 7, `six services and Azurite run as children (saw ${tree.length})`);
    cli.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 0, output);
    assert.match(output, /Stopped\./);
    const left = tree.filter(isAlive);
    assert.deepEqual(left, [], 'no child process outlives the CLI');
    assert.equal(existsSync(join(baseDir, 'local-stack.json')), false, 'the state file is removed');
  });
});
