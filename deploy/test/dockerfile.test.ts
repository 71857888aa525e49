// The image `docker build .` gives, built as a plan (./dockerfile-plan.ts: no Docker engine here): the default
// target's instructions carried out in a temp dir, npm's install included, so the node_modules looked at are the
// ones the Dockerfile's own command installs. Then each service is started from those files with the arguments
// the Helm chart gives its container: it must get as far as validating its configuration (exit 78 naming a
// variable), which means the entrypoint routes to the service and every module it imports is in the image.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ofKind, renderChart, SOURCES } from './chart-fixture.ts';
import { baseImage, type ImagePlan, parseDockerfile, planImage } from './dockerfile-plan.ts';

const root = join(import.meta.dirname, '../..');
const dockerfile = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const SERVICES = ['sqs-poller', 's3-fetcher', 'la-uploader', 'blob-scanner', 'adx-ingester', 'completion-checker'];
const RUNTIME_WORKSPACES = ['shared', 'cli', ...SERVICES.map((s) => `services/${s}`)];

const readJson = (p: string) => JSON.parse(readFileSync(join(root, p), 'utf8')) as Record<string, unknown>;
const names = (deps: unknown) => Object.keys((deps as Record<string, string> | undefined) ?? {});

/**
 * Packages the runtime image must not hold: every dev dependency in the repository, everything the stand-ins,
 * tests and benchmarks depend on, and those workspaces themselves, except what a runtime workspace needs in
 * production (directly, or through a package it installs for itself); and, whatever asks for them, the tools the
 * issue found in the image by name.
 */
const ALWAYS_FORBIDDEN = ['azurite', 'fauxqs', 'typescript', 'selfsigned', 'playwright-core', '@biomejs/biome'];
function forbiddenPackages(installed: ReadonlyMap<string, string[]>): Set<string> {
  const forbidden = new Set<string>();
  for (const w of ['.', 'standins', 'test', 'bench', ...RUNTIME_WORKSPACES])
    for (const n of names(readJson(join(w, 'package.json')).devDependencies)) forbidden.add(n);
  for (const w of ['standins', 'test', 'bench']) {
    const p = readJson(join(w, 'package.json'));
    forbidden.add(String(p.name));
    for (const n of names(p.dependencies)) forbidden.add(n);
  }
  for (const w of RUNTIME_WORKSPACES)
    for (const n of names(readJson(join(w, 'package.json')).dependencies)) forbidden.delete(n);
  // A package some allowed installed package depends on is there for production (rhea under @azure/service-bus).
  for (const [name, paths] of installed) {
    if (forbidden.has(name)) continue;
    for (const path of paths) {
      const p = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as Record<string, unknown>;
      for (const n of [...names(p.dependencies), ...names(p.optionalDependencies), ...names(p.peerDependencies)])
        forbidden.delete(n);
    }
  }
  for (const n of ALWAYS_FORBIDDEN) forbidden.add(n);
  return forbidden;
}

/** Every package directory under a node_modules tree (nested ones included): name → paths. */
function installedPackages(dir: string, out = new Map<string, string[]>()): Map<string, string[]> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry.startsWith('.')) continue;
    const full = join(dir, entry);
    if (entry.startsWith('@')) {
      for (const sub of readdirSync(full)) record(`${entry}/${sub}`, join(full, sub), out);
    } else record(entry, full, out);
  }
  return out;
}
function record(name: string, path: string, out: Map<string, string[]>): void {
  out.set(name, [...(out.get(name) ?? []), path]);
  installedPackages(join(path, 'node_modules'), out);
}

/** The container args the chart renders for each service, from values.yaml with the required settings and each example. */
function chartArgs(): Map<string, string[]> {
  const byService = new Map<string, string[]>();
  for (const source of SOURCES) {
    for (const d of ofKind(renderChart(source.overrides), 'Deployment')) {
      for (const c of d.spec?.template?.spec.containers ?? []) {
        assert.equal((c as { command?: unknown }).command, undefined, 'the chart keeps the image ENTRYPOINT');
        byService.set(c.args?.[0] ?? '', c.args ?? []);
      }
    }
  }
  return byService;
}

describe('Dockerfile: the default target, built as a plan', () => {
  let image: ImagePlan;

  before(() => {
    image = planImage(dockerfile, { context: root });
  });
  after(() => image?.dispose());

  it('is the runtime image: Node 24 slim from a build argument, non-root, the service runner as entrypoint', () => {
    assert.equal(dockerfile.defaultTarget.name, 'runtime', 'the last stage is what `docker build .` builds');
    assert.ok(
      dockerfile.stages.some((s) => s.name === 'local'),
      'the local image is a named target (--target local)',
    );
    // Pinning by digest is a build argument away: every FROM takes the base from NODE_IMAGE.
    assert.equal(dockerfile.globalArgs.get('NODE_IMAGE'), 'node:24-slim');
    for (const s of dockerfile.stages) {
      assert.equal(s.from, `\${NODE_IMAGE}`, `stage ${s.name} takes its base from the NODE_IMAGE argument`);
      const pinned = `node:24-slim@sha256:${'0'.repeat(64)}`;
      assert.equal(baseImage(dockerfile, s, { NODE_IMAGE: pinned }), pinned);
    }
    assert.equal(image.user, 'node');
    assert.deepEqual(image.entrypoint, ['node', 'cli/src/main.ts', 'run'], 'exec form: node is PID 1 and gets SIGTERM');
    assert.equal(image.env.NODE_ENV, 'production');
  });

  it("holds production dependencies only: no stand-in, test or dev package in the install's node_modules", (t) => {
    const installed = installedPackages(image.path('node_modules'));
    for (const w of RUNTIME_WORKSPACES) installedPackages(join(image.path(w), 'node_modules'), installed);
    const forbidden = forbiddenPackages(installed);
    const found = [...installed.keys()].filter((n) => forbidden.has(n)).sort();
    assert.deepEqual(
      found,
      [],
      `forbidden packages in the image: ${found.map((n) => installed.get(n)?.[0]).join(', ')}`,
    );
    // The services' own SDKs are there (the list above is not empty for want of an install).
    for (const p of ['@azure/service-bus', '@azure/identity', '@aws-sdk/client-s3', 'azure-kusto-ingest', 'pino'])
      assert.ok(installed.has(p), `${p} installed`);
    const du = spawnSync('du', ['-sm', image.path('node_modules')], { encoding: 'utf8' }).stdout.split('\t')[0];
    t.diagnostic(`${installed.size} packages, ${du} MB in node_modules`);
  });

  it('leaves tests, stand-ins and benchmarks out of the image', () => {
    const files = spawnSync('find', ['.', '-path', './node_modules', '-prune', '-o', '-type', 'f', '-print'], {
      cwd: image.path('.'),
      encoding: 'utf8',
    }).stdout.split('\n');
    assert.deepEqual(
      files.filter((f) => /(^|\/)test\/|^\.\/standins\/|^\.\/bench\//.test(f)),
      [],
    );
    assert.ok(statSync(image.path('services/sqs-poller/src/main.ts')).isFile());
    assert.ok(statSync(image.path('mappings.json')).isFile());
    assert.ok(statSync(image.path('routes.json')).isFile(), 'the routes file ROUTES_FILE names in docker-compose.yml');
  });

  it('prints the services it can run', () => {
    const [cmd, ...args] = [...image.entrypoint, '--help'];
    assert.equal(cmd, 'node');
    const r = spawnSync(process.execPath, args, { cwd: image.path('.'), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const s of SERVICES) assert.ok(r.stdout.includes(s), s);
  });

  const args = chartArgs();
  it('the chart runs all six services, each with its name as the container args', () => {
    assert.deepEqual([...args.keys()].sort(), [...SERVICES].sort());
  });

  for (const [service, containerArgs] of args) {
    it(`starts ${service} from the image with the chart's args ${JSON.stringify(containerArgs)} (exit 78 naming a variable)`, () => {
      const [cmd, ...argv] = [...image.entrypoint, ...containerArgs];
      assert.equal(cmd, 'node');
      const r = spawnSync(process.execPath, argv, {
        cwd: image.path('.'),
        encoding: 'utf8',
        env: { ...image.env, PATH: process.env.PATH ?? '', HOME: tmpdir() },
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
