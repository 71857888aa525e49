import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../fixtures/lifecycle/service.ts', import.meta.url));

interface Child {
  readonly proc: ChildProcess;
  readonly lines: Record<string, unknown>[];
  /** Resolves when a log line with this msg appears (or rejects after 10 s). */
  waitFor(msg: string): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

function start(...args: string[]): Child {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  const lines: Record<string, unknown>[] = [];
  const waiters: { msg: string; resolve: (l: Record<string, unknown>) => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const w of waiters.filter((w) => w.msg === line.msg)) w.resolve(line);
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // 'close', not 'exit': 'exit' can come before the last stdout lines are read (under load it did, and the
  // order checks below then missed 'stopped'); 'close' comes once the child's stdio has ended.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    lines,
    exited,
    waitFor: (msg) => {
      const seen = lines.find((l) => l.msg === msg);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${msg}" log line; stderr: ${stderr}`)), 10_000);
        waiters.push({
          msg,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}

const messages = (c: Child) => c.lines.map((l) => l.msg);

describe('runService', () => {
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('on SIGTERM finishes the in-flight job, flushes telemetry, and exits 0 within the grace period', async () => {
    // The job outlasts the signal by a wide margin even on a loaded machine (the signal follows 'job started').
    const child = start('normal', '10000', '2500');
    await child.waitFor('job started');
    const sent = Date.now();
    child.proc.kill('SIGTERM');
    const { code } = await child.exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - sent < 10000, 'exited within the grace period');
    const order = messages(child);
    const idx = (m: string) => order.indexOf(m);
    assert.ok(idx('fake-service started') >= 0);
    assert.ok(idx('stopping: intake closed, finishing in-flight work') < idx('stop called'));
    assert.ok(idx('stop called') < idx('job finished'), 'the job was still running when stop was called');
    assert.ok(idx('job finished') < idx('telemetry flushed'));
    assert.ok(idx('telemetry flushed') < idx('stopped'));
    assert.equal(child.lines.find((l) => l.msg === 'stop called')?.telemetryFlushed, false);
    assert.equal(child.lines.find((l) => l.msg === 'stopped')?.code, 0);
  });

  it('a second signal forces exit 1', async () => {
    const child = start('hang', '60000', '10');
    await child.waitFor('job started');
    child.proc.kill('SIGTERM');
    await child.waitFor('stop called');
    child.proc.kill('SIGINT');
    assert.equal((await child.exited).code, 1);
    assert.ok(messages(child).includes('second signal during shutdown; forcing exit'));
  });

  it('the watchdog forces exit 1 when stopping overruns grace + margin', async () => {
    const child = start('hang', '100', '10', '100');
    await child.waitFor('job started');
    child.proc.kill('SIGTERM');
    assert.equal((await child.exited).code, 1);
    assert.ok(messages(child).includes('shutdown overran the grace period; forcing exit'));
  });

  it('a fatal failure (e.g. an unrecoverable transport) shuts down in order and exits 1 to be restarted', async () => {
    const child = start('fatal', '5000', '200');
    const { code } = await child.exited;
    assert.equal(code, 1);
    const order = messages(child);
    const idx = (m: string) => order.indexOf(m);
    const fatal = child.lines.find((l) => l.msg === 'unrecoverable failure; stopping so the service is restarted') as {
      err?: { message?: string };
    };
    assert.equal(fatal?.err?.message, 'subscription gone');
    assert.ok(idx('stop called') < idx('job finished'), 'in-flight work finished before exit');
    assert.ok(idx('job finished') < idx('telemetry flushed'));
    assert.equal(child.lines.find((l) => l.msg === 'stopped')?.code, 1);
  });

  it('an uncaught exception is logged and exits 1', async () => {
    const child = start('crash', '1000', '10000');
    assert.equal((await child.exited).code, 1);
    const fatal = child.lines.find((l) => l.msg === 'uncaught exception; exiting') as { err?: { message?: string } };
    assert.equal(fatal?.err?.message, 'boom');
  });

  it('a failed start is logged without its secret and exits 1', async () => {
    const child = start('fail-start');
    assert.equal((await child.exited).code, 1);
    const fatal = child.lines.find((l) => l.msg === 'fake-service failed to start') as { err?: { message?: string } };
    assert.equal(fatal?.err?.message, 'cannot connect: SharedAccessKey=[REDACTED]');
  });
});
