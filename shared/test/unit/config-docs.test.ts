import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { END, START } from '../../../scripts/config-docs.ts';

const script = fileURLToPath(new URL('../../../scripts/config-docs.ts', import.meta.url));
const fixtures = fileURLToPath(new URL('../fixtures/config-services', import.meta.url));

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('scripts/config-docs.ts', () => {
  let dir: string;
  let readme: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'config-docs-'));
    readme = join(dir, 'README.md');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes a table per service between the markers, leaving the rest alone, and --check agrees', async () => {
    await writeFile(readme, `# Title\n\nIntro text.\n\n${START}\nold content\n${END}\n\n## After\n`);
    const written = await run('--write', '--readme', readme, '--services-dir', fixtures);
    assert.equal(written.code, 0, written.stderr);
    const text = await readFile(readme, 'utf8');
    assert.ok(text.startsWith('# Title\n\nIntro text.\n\n'));
    assert.ok(text.endsWith(`${END}\n\n## After\n`));
    assert.ok(!text.includes('old content'));
    assert.match(text, /### sample-service/);
    assert.match(
      text,
      /\| `SAMPLE_QUEUE_URL` \| `OLD_QUEUE_URL` \| \*\*required\*\* \| {2}\| Queue the sample reads \\\| with a pipe\./,
    );
    assert.match(text, /\| `SAMPLE_MODE` \| {2}\| default `safe` \| {2}\| How it runs\. One of: fast, safe\. \|/);
    assert.match(text, /\| `SERVICEBUS_CONNECTION_STRING` \| {2}\| optional \| yes \|/);
    assert.match(text, /\| `HEALTH_PORT` \| {2}\| default `8080` \|/);
    assert.match(text, /- Set SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE\./);
    assert.equal((await run('--check', '--readme', readme, '--services-dir', fixtures)).code, 0);
  });

  it('--check fails with a clear message when the section is stale', async () => {
    await writeFile(readme, `# Title\n${START}\nstale\n${END}\n`);
    const checked = await run('--check', '--readme', readme, '--services-dir', fixtures);
    assert.equal(checked.code, 1);
    assert.match(checked.stderr, /configuration reference is stale; run `npm run docs:config`/);
    assert.match(await readFile(readme, 'utf8'), /stale/);
  });

  it('documents the shared parts when there are no service configs', async () => {
    await writeFile(readme, `# Title\n${START}\n${END}\n`);
    const written = await run('--write', '--readme', readme, '--services-dir', join(dir, 'missing'));
    assert.equal(written.code, 0, written.stderr);
    const text = await readFile(readme, 'utf8');
    assert.match(text, /### shared: Service Bus/);
    assert.match(text, /\| `AZURE_TENANT_ID` \| `AAD_TENANT_ID` \| optional \|/);
    assert.match(text, /\| `STATUS_TABLE` \| {2}\| default `logferrystatus` \|/);
  });

  it('refuses a README without the markers', async () => {
    await writeFile(readme, '# Title\n');
    const checked = await run('--write', '--readme', readme, '--services-dir', fixtures);
    assert.equal(checked.code, 1);
    assert.match(checked.stderr, /README has no "<!-- config-reference:start -->"/);
  });
});

describe('requirement()', () => {
  it('reads the default through a transform (a pipe whose input carries it), and names an empty default', async () => {
    const { z } = await import('zod');
    const { requirement } = await import('../../../scripts/config-docs.ts');
    const piped = {
      schema: z
        .string()
        .default('15m')
        .transform((s) => s.length),
      description: '',
    };
    const empty = {
      schema: z
        .string()
        .default('')
        .transform((s) => s.split(',')),
      description: '',
    };
    const bare = { schema: z.string().transform((s) => s.length), description: '' };
    assert.equal(requirement(piped), 'default `15m`');
    assert.equal(requirement(empty), 'default (empty)');
    assert.equal(requirement(bare), '**required**');
  });
});
