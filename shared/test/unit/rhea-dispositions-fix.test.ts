// The rhea disposition fix (src/amqp/rhea-dispositions-fix.ts): it matches the installed rhea, it really runs in
// this process and in every module that loads rhea, and it refuses to stay silent when it cannot apply.
// The behaviour itself (two outcomes in one tick) is standins/test/integration/servicebus-settlement.test.ts (`same tick, …`).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { runInThisContext } from 'node:vm';
import {
  fixedRheaFiles,
  fixRheaSessionSource,
  RHEA_BUGGY_CONDITION,
  RHEA_FIXED_CONDITION,
} from '../../src/amqp/rhea-dispositions-fix.ts';

const require = createRequire(import.meta.url);
const sessionFile = require.resolve('rhea/lib/session.js');
const fixUrl = new URL('../../src/amqp/rhea-dispositions-fix.ts', import.meta.url).href;
const root = new URL('../../../', import.meta.url);

/** Runs an ES module snippet in a fresh node (no test-runner preload) from the repository root. */
function runModule(code: string) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
}

describe('rhea disposition fix', () => {
  it('matches the installed rhea: the condition it corrects is in write_dispositions exactly once', () => {
    const source = readFileSync(sessionFile, 'utf8');
    const fixed = fixRheaSessionSource(source, sessionFile);
    assert.ok(fixed.includes(RHEA_FIXED_CONDITION));
    assert.ok(!fixed.includes(RHEA_BUGGY_CONDITION));
    assert.equal(fixed.length, source.length - RHEA_BUGGY_CONDITION.length + RHEA_FIXED_CONDITION.length);
  });

  // write_dispositions itself, from the installed session.js with and without the fix, on stub deliveries.
  describe('write_dispositions', () => {
    const message = require('rhea/lib/message.js') as Record<string, (o?: unknown) => { described(): unknown }>;
    const outcome = {
      accepted: () => message.accepted!().described(),
      released: () => message.released!().described(),
      abandoned: () => message.modified!({ delivery_failed: true }).described(),
      deadLettered: (reason: string) =>
        message.rejected!({ error: { condition: 'com.microsoft:dead-letter', description: reason } }).described(),
    };
    type Frame = { first: number; last: number; state: unknown; settled: boolean };

    /** The module-private function, from session.js evaluated as CommonJS with one line exporting it. */
    function writeDispositions(source: string): (deliveries: unknown[]) => void {
      const mod = { exports: {} as { __write_dispositions?: (d: unknown[]) => void } };
      const wrapped = runInThisContext(
        Module.wrap(`${source}\nmodule.exports.__write_dispositions = write_dispositions;`),
      ) as (...args: unknown[]) => void;
      wrapped(mod.exports, createRequire(sessionFile), mod, sessionFile, dirname(sessionFile));
      return mod.exports.__write_dispositions!;
    }
    const original = readFileSync(sessionFile, 'utf8');
    const fixed = writeDispositions(fixRheaSessionSource(original, sessionFile));
    const unfixed = writeDispositions(original);

    function frames(write: (d: unknown[]) => void, states: unknown[]): Frame[] {
      const out: Frame[] = [];
      const link = { is_receiver: () => true, session: { output: (f: Frame) => out.push(f) } };
      write(states.map((state, id) => ({ id: 10 + id, state, settled: false, link })));
      return out.map((f) => ({ first: f.first, last: f.last, state: f.state, settled: f.settled }));
    }
    const range = (first: number, last: number, state: unknown) => ({ first, last, state, settled: false });

    it('sends two consecutive deliveries with different outcomes in two frames, each with its own', () => {
      const [done, retry] = [outcome.accepted(), outcome.abandoned()];
      assert.deepEqual(frames(fixed, [done, retry]), [range(10, 10, done), range(11, 11, retry)]);
      const [a, b] = [outcome.deadLettered('A'), outcome.deadLettered('B')];
      assert.deepEqual(frames(fixed, [a, b]), [range(10, 10, a), range(11, 11, b)]);
      const [dl, ok] = [outcome.deadLettered('A'), outcome.accepted()];
      assert.deepEqual(frames(fixed, [dl, ok]), [range(10, 10, dl), range(11, 11, ok)]);
    });

    it('without the fix, rhea sends them as one frame with the first outcome (the bug this corrects)', () => {
      const [done, retry] = [outcome.accepted(), outcome.abandoned()];
      assert.deepEqual(frames(unfixed, [done, retry]), [range(10, 11, done)]);
    });

    it('still sends one delivery once, whatever its outcome, and batches consecutive accepts', () => {
      for (const state of [outcome.accepted(), outcome.released(), outcome.abandoned(), outcome.deadLettered('A')]) {
        assert.deepEqual(frames(fixed, [state]), [range(10, 10, state)]);
      }
      const ok = outcome.accepted();
      assert.deepEqual(frames(fixed, [ok, outcome.accepted(), outcome.accepted()]), [range(10, 12, ok)]);
      const [a, b] = [outcome.abandoned(), outcome.abandoned()];
      assert.deepEqual(frames(fixed, [ok, outcome.accepted(), a, b]), [
        range(10, 11, ok),
        range(12, 12, a),
        range(13, 13, b),
      ]);
    });
  });

  it('throws, naming the file, when rhea no longer holds that text', () => {
    assert.throws(() => fixRheaSessionSource('function write_dispositions() {}', '/x/session.js'), /\/x\/session\.js/);
    const twice = `${RHEA_BUGGY_CONDITION}\n${RHEA_BUGGY_CONDITION}`;
    assert.throws(() => fixRheaSessionSource(twice), /no longer holds/);
  });

  it('is applied to the rhea this process loads', () => {
    require('rhea');
    assert.ok(fixedRheaFiles.includes(sessionFile), `fixed: ${JSON.stringify(fixedRheaFiles)}`);
  });

  it('refuses to load after rhea, so a wrong import order fails loudly', () => {
    const r = runModule(`await import('@azure/service-bus'); await import(${JSON.stringify(fixUrl)});`);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /rhea was loaded before/);
  });

  // Each project module that loads the SDK or rhea (a value import) imports the fix first; imported alone in a
  // fresh process, the rhea it loads must come out corrected.
  for (const module of [
    'shared/src/transport/servicebus/transport.ts',
    'shared/src/transport/servicebus/errors.ts',
    'shared/src/dead-letters/clients.ts',
    'cli/src/config-check/probes.ts',
    'cli/src/dlq/connect.ts',
    'standins/src/servicebus/server.ts',
    'standins/src/servicebus/codec.ts',
    'standins/src/servicebus/outcomes.ts',
  ]) {
    it(`${module} loads rhea with the fix`, () => {
      const out = execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `await import(${JSON.stringify(new URL(module, root).href)});
           const { createRequire } = await import('node:module');
           const session = createRequire(${JSON.stringify(new URL(module, root).href)}).resolve('rhea/lib/session.js');
           const { fixedRheaFiles } = await import(${JSON.stringify(fixUrl)});
           console.log(JSON.stringify({ loaded: session in (await import('node:module')).default._cache, fixed: fixedRheaFiles }));`,
        ],
        { cwd: root, encoding: 'utf8' },
      );
      const { loaded, fixed } = JSON.parse(out) as { loaded: boolean; fixed: string[] };
      assert.ok(loaded, 'importing the module loads rhea');
      assert.deepEqual(fixed, [sessionFile]);
    });
  }
});
