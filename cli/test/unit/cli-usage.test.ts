// What a user sees from `--help` and from a mistyped option, for every command, through the real entry point.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { COMMANDS } from '../../src/commands/index.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const exec = promisify(execFile);

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '' },
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const NAMES = ['run', 'scan', 'status', 'dlq', 'backfill', 'config', 'seed', 'standins'];

describe('logferry usage', () => {
  it('lists every command with a summary, and exits 2 without a command', async () => {
    const r = await cli();
    assert.equal(r.code, 2);
    for (const name of NAMES) assert.match(r.stdout, new RegExp(`^  ${name}\\s+\\S`, 'm'), name);
    assert.deepEqual(
      COMMANDS.map((c) => c.name),
      NAMES,
    );
  });

  for (const name of NAMES) {
    it(`${name} --help explains usage, options, examples and exit codes`, async () => {
      const r = await cli(name, '--help');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: logferry ${name}`, 'm'));
      assert.match(r.stdout, /^Examples:$/m);
      assert.match(r.stdout, /^Exit codes:$/m);
      assert.match(r.stdout, /^ {2}2 +usage error/m);
      if (name !== 'run') assert.match(r.stdout, /^Options:$/m);
    });

    it(`${name} rejects an unknown option with exit 2 and points at --help`, async () => {
      const args = { run: ['run', 'all'], dlq: ['dlq', 'list'], config: ['config', 'check'] }[name] ?? [name];
      const r = await cli(...args, '--no-such-option');
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /--no-such-option/);
      assert.match(r.stderr, new RegExp(`logferry ${name} --help`));
    });
  }

  it('rejects an unknown command with exit 2', async () => {
    const r = await cli('launch');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'launch'/);
  });

  it('rejects bad option values with exit 2: a non-number, a bad time, a subscription not in the topology', async () => {
    const cases = [
      ['status', '--max', 'lots'],
      ['status', '--status', 'exploded'],
      ['backfill', 's3://bucket/x', '--since', 'yesterday'],
      ['backfill', 'bucket/x'],
      ['dlq', 'show', 'nope/nothing'],
      ['dlq', 'purge'],
      ['config', 'check', '--service', 'nonsense'],
    ];
    const results = await Promise.all(cases.map((c) => cli(...c)));
    for (const [i, r] of results.entries()) assert.equal(r.code, 2, `${cases[i]?.join(' ')}: ${r.stderr}`);
  });
});
