// `npm start` under a supervisor: a signal to npm's own PID (not to a terminal's process group) must stop the CLI,
// Azurite, the other stand-ins and the six services, and npm must exit with the CLI's code; if npm dies without
// passing anything on (SIGKILL), the CLI must notice its parent is gone and stop everything the same way. And the
// same with the machine's older Node first on PATH, where scripts/node24.mjs runs the CLI under Node 24 as a child.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { descendants, isAlive } from '../support/processes.ts';

const root = join(import.meta.dirname, '../../..');
const READY_MS = 180_000;
const GONE_MS = 30_000;

/** A Node older than 24 on this machine (its default node is 20), for the launcher's path. */
function olderNode(): string | undefined {
  const found = spawnSync('which', ['-a', 'node'], { encoding: 'utf8' }).stdout.split('\n');
  for (const candidate of ['/usr/local/bin/node', '/usr/bin/node', ...found]) {
    const r = spawnSync(candidate, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' });
    if (r.status === 0 && Number(r.stdout.trim()) < 24) return candidate;
  }
  return undefined;
}

interface Started {
  npm: ChildProcess;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  tree: number[];
  output: () => string;
  baseDir: string;
}

async function startNpm(pathFirst: string): Promise<Started> {
  const baseDir = await mkdtemp(join(tmpdir(), 'logferry-npm-start-'));
  // Its own process group, as under a supervisor: a signal goes to npm's PID only, never to a group.
  const npm = spawn('npm', ['start', '--', '--no-seed', '--status-port', '0', '--base-dir', baseDir], {
    cwd: root,
    env: { PATH: `${pathFirst}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? baseDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = once(npm, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let output = '';
  npm.stdout?.on('data', (d) => {
    output += String(d);
  });
  npm.stderr?.on('data', (d) => {
    output += String(d);
  });
  const deadline = Date.now() + READY_MS;
  try {
    while (!output.includes('logferry is running locally')) {
      if (npm.exitCode !== null) throw new Error(`npm start exited ${npm.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`no banner within ${READY_MS} ms:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await cleanUp({ npm, exited, tree: [npm.pid ?? -1, ...descendants(npm.pid ?? -1)], output: () => output, baseDir });
    throw err;
  }
  const tree = descendants(npm.pid ?? -1);
  return { npm, exited, tree, output: () => output, baseDir };
}

async function leftBehind(tree: readonly number[]): Promise<number[]> {
  const deadline = Date.now() + GONE_MS;
  let alive = tree.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    alive = alive.filter(isAlive);
  }
  return alive;
}

function describeProcs(pids: readonly number[]): string {
  return pids
    .map((p) => spawnSync('ps', ['-o', 'pid=,args=', '-p', String(p)], { encoding: 'utf8' }).stdout.trim())
    .join('\n');
}

async function cleanUp(s: Started): Promise<void> {
  for (const p of s.tree.filter(isAlive)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  await rm(s.baseDir, { recursive: true, force: true });
}

describe('npm start, stopped by a supervisor', () => {
  const node24 = dirname(process.execPath);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to npm's PID stops the whole stack, npm exits 0, no process left`, async () => {
      const s = await startNpm(node24);
      try {
        // The CLI, Azurite and six services at least, all under npm.
        assert.ok(s.tree.length >= 8, `npm's descendants:\n${describeProcs(s.tree)}`);
        s.npm.kill(signal);
        const [code] = await s.exited;
        assert.equal(code, 0, s.output());
        const alive = await leftBehind(s.tree);
        assert.deepEqual(alive, [], `left behind:\n${describeProcs(alive)}`);
        assert.match(s.output(), new RegExp(`${signal}: stopping the services`));
      } finally {
        await cleanUp(s);
      }
    });
  }

  it('npm killed outright (SIGKILL): the CLI notices its parent is gone and stops everything', async () => {
    const s = await startNpm(node24);
    try {
      s.npm.kill('SIGKILL');
      await s.exited;
      const alive = await leftBehind(s.tree);
      assert.deepEqual(alive, [], `left behind:\n${describeProcs(alive)}`);
    } finally {
      await cleanUp(s);
    }
  });

  it("with the machine's older Node first on PATH: runs under Node 24 and SIGTERM still leaves nothing", async () => {
    const old = olderNode();
    assert.ok(old, 'this machine has a Node older than 24 (its default node is 20)');
    const s = await startNpm(dirname(old));
    try {
      const versions = s.tree.map((p) =>
        spawnSync('ps', ['-o', 'args=', '-p', String(p)], { encoding: 'utf8' }).stdout.trim(),
      );
      assert.ok(
        versions.some((a) => a.includes('.tools/node24/') && a.includes('cli/src/main.ts')),
        `the CLI runs on .tools/node24:\n${versions.join('\n')}`,
      );
      s.npm.kill('SIGTERM');
      const [code] = await s.exited;
      assert.equal(code, 0, s.output());
      const alive = await leftBehind(s.tree);
      assert.deepEqual(alive, [], `left behind:\n${describeProcs(alive)}`);
    } finally {
      await cleanUp(s);
    }
  });
});
