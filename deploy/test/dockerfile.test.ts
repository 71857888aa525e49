// No Docker engine here. This test reads the Dockerfile, lays out in a temp dir exactly the files its build
// stage COPYs from the build context (after .dockerignore; the runtime stage takes /app whole), and checks that
// the entrypoint starts every service
// from those files alone: each one gets as far as validating its configuration (exit 78 naming a variable),
// which means every module it imports is in the image.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, matchesGlob } from 'node:path';
import { after, before, describe, it } from 'node:test';

const root = join(import.meta.dirname, '../..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const SERVICES = ['sqs-poller', 's3-fetcher', 'la-uploader', 'blob-scanner', 'adx-ingester', 'completion-checker'];

interface Stage {
  name: string;
  from: string;
  lines: string[];
}
function stages(): Stage[] {
  const out: Stage[] = [];
  for (const raw of dockerfile.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ from: from[1] ?? '', name: from[2] ?? String(out.length), lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

/** Docker's .dockerignore semantics, enough for ours: later patterns win, `!` re-includes. */
function ignored(path: string, patterns: string[]): boolean {
  let result = false;
  for (const p of patterns) {
    const negate = p.startsWith('!');
    const pattern = negate ? p.slice(1) : p;
    if (matchesGlob(path, pattern) || matchesGlob(path, `${pattern}/**`)) result = !negate;
  }
  return result;
}

describe('Dockerfile', () => {
  const all = stages();
  const runtime = all.find((s) => s.name === 'runtime');
  const build = all.find((s) => s.name === 'build');
  let app: string;

  before(() => {
    assert.ok(runtime && build, 'stages named build and runtime');
    assert.ok(runtime.lines.includes('COPY --from=build --chown=root:root /app /app'), 'runtime takes /app from build');
    const patterns = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const tracked = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
      cwd: root,
      encoding: 'utf8',
    })
      .stdout.split('\n')
      .filter((f) => f && !ignored(f, patterns));
    const dir = mkdtempSync(join(tmpdir(), 'logferry-image-'));
    app = join(dir, 'app');
    for (const line of build.lines) {
      const copy = /^COPY\s+(?!--from)(?:--\S+\s+)*(.+)$/i.exec(line);
      if (!copy) continue;
      const parts = (copy[1] ?? '').split(/\s+/);
      const dest = parts.pop() ?? '';
      for (const src of parts) {
        const prefix = src.replace(/\/$/, '');
        for (const f of tracked.filter((t) => t === prefix || t.startsWith(`${prefix}/`))) {
          const target =
            dest.endsWith('/') && !src.endsWith('/')
              ? join(app, dest, f.split('/').pop() ?? f)
              : join(app, dest === './' ? f : f.replace(prefix, dest.replace(/\/$/, '')));
          mkdirSync(dirname(target), { recursive: true });
          cpSync(join(root, f), target);
        }
      }
    }
    // The build stage's node_modules: third-party packages from this checkout, workspace links to the image's copies.
    const modules = join(app, 'node_modules');
    mkdirSync(join(modules, '@logferry'), { recursive: true });
    for (const entry of readdirSync(join(root, 'node_modules'))) {
      if (entry !== '@logferry' && entry !== '.bin')
        symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
    }
    const workspaces: Record<string, string> = { shared: 'shared', cli: 'cli' };
    for (const s of SERVICES) workspaces[s] = `services/${s}`;
    for (const [name, path] of Object.entries(workspaces)) {
      symlinkSync(join(app, path), join(modules, '@logferry', name));
      // Packages npm nested under a workspace (version conflicts) are in the image too.
      const nested = join(root, path, 'node_modules');
      if (existsSync(nested)) symlinkSync(nested, join(app, path, 'node_modules'));
    }
  });
  after(() => rmSync(dirname(app), { recursive: true, force: true }));

  it('builds from Node 24 slim, installs production dependencies only, runs as a non-root user', () => {
    for (const s of all) assert.match(s.from, /^node:24-slim$/, `stage ${s.name}`);
    assert.ok(
      build?.lines.some((l) => /npm ci\b.*--omit=dev/.test(l)),
      'npm ci --omit=dev',
    );
    assert.ok(runtime?.lines.includes('USER node'), 'USER node');
    const entrypoint = runtime?.lines.find((l) => l.startsWith('ENTRYPOINT'));
    assert.equal(
      entrypoint,
      'ENTRYPOINT ["node", "cli/src/main.ts", "run"]',
      'exec form: node is PID 1 and gets SIGTERM',
    );
  });

  it('leaves tests, stand-ins and benchmarks out of the runtime image', () => {
    const files = spawnSync('find', [app, '-path', `${app}/node_modules`, '-prune', '-o', '-type', 'f', '-print'], {
      encoding: 'utf8',
    }).stdout;
    const inApp = files.split('\n').map((f) => f.slice(app.length + 1));
    assert.deepEqual(
      inApp.filter((f) => /(^|\/)test\/|^standins\/|^bench\//.test(f) && !f.endsWith('package.json')),
      [],
    );
    assert.match(files, /services\/sqs-poller\/src\/main\.ts/);
    assert.match(files, /mappings\.json/);
  });

  it('prints the services it can run', () => {
    const r = spawnSync(process.execPath, ['cli/src/main.ts', 'run', '--help'], { cwd: app, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const s of SERVICES) assert.ok(r.stdout.includes(s), s);
  });

  for (const service of SERVICES) {
    it(`starts ${service} from the image's files (reaches configuration: exit 78 naming the variable)`, () => {
      const r = spawnSync(process.execPath, ['cli/src/main.ts', 'run', service], {
        cwd: app,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: tmpdir() },
        timeout: 30_000,
      });
      assert.equal(r.status, 78, `exit ${r.status}\n${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(`^${service}: configuration error: .*\\b[A-Z][A-Z0-9_]{3,}\\b.* is required`, 'm'),
      );
      assert.doesNotMatch(r.stderr, /ERR_MODULE_NOT_FOUND|Cannot find/);
    });
  }
});
