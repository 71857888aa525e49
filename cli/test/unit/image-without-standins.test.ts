// The production image has no stand-ins (a dev dependency): every command must still load there.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CLI_MAIN } from '../support/cli.ts';

const exec = promisify(execFile);

// A resolve hook that makes @logferry/standins missing, as it is in the image.
const HOOK = `export async function resolve(specifier, context, next) {
  if (specifier === '@logferry/standins' || specifier.startsWith('@logferry/standins/')) {
    const err = new Error("Cannot find package '@logferry/standins'");
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return next(specifier, context);
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`;

async function imageCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, CLI_MAIN, ...args],
      {
        env: { PATH: process.env.PATH ?? '', LOGFERRY_STATE_DIR: '/nonexistent/logferry-test' },
        timeout: 20_000,
      },
    );
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the CLI without @logferry/standins (the runtime image)', () => {
  it('prints help for run and every other command', async () => {
    const results = await Promise.all(['run', 'status', 'dlq', 'config'].map((c) => imageCli(c, '--help')));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.match(results[0]?.stdout ?? '', /sqs-poller/);
  });

  it('says run all needs the full checkout instead of crashing', async () => {
    const r = await imageCli('run', 'all', '--local');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /needs the full checkout/);
    assert.doesNotMatch(r.stderr, /ERR_MODULE_NOT_FOUND/);
  });
});
