import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startServiceProcess } from '../../src/stack/service-process.ts';

// startServiceProcess runs services/<name>/src/main.ts; the relative name reaches this package's fixture.
const FIXTURE = '../standins/test/fixtures/loud-exit';
// The log file is <logDir>/<name>.log, so the fixture's relative name needs its directories there too.
const base = mkdtempSync(join(tmpdir(), 'service-process-'));
const logDir = join(base, 'logs');
mkdirSync(join(base, 'standins', 'test', 'fixtures'), { recursive: true });
after(() => rmSync(base, { recursive: true, force: true }));

test('stack service process: output written just before exit is seen once stop() resolves', async () => {
  const svc = await startServiceProcess(FIXTURE, {}, { logDir });
  try {
    await svc.waitForLog(/^ready$/, 10_000);
    const code = await svc.stop('SIGTERM', 10_000);
    assert.equal(code, 3);
    assert.match(svc.output(), /last line before exit$/);
    assert.equal(await svc.waitForLog(/^last line before exit$/, 1_000), 'last line before exit');
  } finally {
    await svc.kill();
  }
});

test('stack service process: a signal death exits with 128 + signal number', async () => {
  const svc = await startServiceProcess(FIXTURE, {}, { logDir });
  try {
    await svc.waitForLog(/^ready$/, 10_000);
    assert.equal(await svc.kill(), 128 + 9);
  } finally {
    await svc.kill();
  }
});
