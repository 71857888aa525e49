// scripts/node24.mjs on the machine's real older Node (its default node is 20): the project's commands run under
// Node 24 from the npm registry's node@24 package, and when that cannot be had they stop with one line naming
// Node 24 and the fix, never a stack trace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '../..');
const launcher = join(root, 'scripts/node24.mjs');

function olderNode(): string {
  const found = spawnSync('which', ['-a', 'node'], { encoding: 'utf8' }).stdout.split('\n');
  for (const candidate of ['/usr/local/bin/node', '/usr/bin/node', ...found]) {
    const r = spawnSync(candidate, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' });
    if (r.status === 0 && Number(r.stdout.trim()) < 24) return candidate;
  }
  throw new Error('this machine has no Node older than 24 (its default node is 20)');
}

describe('scripts/node24.mjs', () => {
  it('on Node 24 runs the entry in this process, with its arguments and exit code', () => {
    const r = spawnSync(process.execPath, [launcher, 'cli/src/main.ts', 'no-such-command'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /unknown command 'no-such-command'/);
  });

  it('on an older Node runs the CLI under Node 24 (.tools/node24, fetched from the npm registry if absent)', () => {
    const old = olderNode();
    const r = spawnSync(old, [launcher, 'cli/src/main.ts', 'run', '--help'], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: `${dirname(old)}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? tmpdir() },
      timeout: 300_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /logferry run <service>/);
    assert.doesNotMatch(r.stderr, /ERR_UNKNOWN_FILE_EXTENSION|EBADENGINE/);
  });

  it('on an older Node with no Node 24 to be had: one line naming Node 24 and the fix, exit 1, no stack trace', () => {
    const old = olderNode();
    const dir = mkdtempSync(join(tmpdir(), 'logferry-launcher-'));
    try {
      // A checkout without .tools/node24, and a registry that answers nothing.
      mkdirSync(join(dir, 'scripts'));
      copyFileSync(launcher, join(dir, 'scripts/node24.mjs'));
      const started = Date.now();
      const r = spawnSync(old, [join(dir, 'scripts/node24.mjs'), 'cli/src/main.ts', 'run', 'all', '--local'], {
        cwd: dir,
        encoding: 'utf8',
        env: {
          PATH: `${dirname(old)}:${process.env.PATH ?? ''}`,
          HOME: dir,
          npm_config_registry: 'http://127.0.0.1:9/',
          npm_config_cache: join(dir, 'npm-cache'),
          npm_config_fetch_retries: '0',
        },
        timeout: 120_000,
      });
      assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      // The line saying what it tries, then the one saying it failed and what to do.
      assert.equal(lines.length, 2, r.stderr);
      assert.match(lines[0] ?? '', /Node v\d+\.\d+\.\d+ here; logferry runs on Node 24: fetching node@24/);
      assert.match(
        lines[1] ?? '',
        /^logferry needs Node\.js 24 \(this is v\d+\.\d+\.\d+\) .*install Node 24 \(nvm install, which reads \.nvmrc\)/,
      );
      assert.doesNotMatch(r.stderr, /^\s+at /m);
      assert.ok(Date.now() - started < 60_000, 'gives up as fast as npm does');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
