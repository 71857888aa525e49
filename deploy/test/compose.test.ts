// No Docker engine here: the compose file is checked by what can run — every service's environment
// must parse with that service's own config schema (so names, values and cross-variable rules agree),
// and the Service Bus topology must be the one in deploy/servicebus/Config.json.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { type ConfigDefinition, parseConfig, type VarSpecs } from '../../shared/src/config/define.ts';
import { loadMappings } from '../../shared/src/mappings/index.ts';
import { checkRoutesAgainstMappings, loadRoutes } from '../../shared/src/routes/index.ts';
import { dcrRulesFor, LOCAL_RUN_SEED } from '../../standins/src/index.ts';
import { parseDockerfile } from './dockerfile-plan.ts';

const root = join(import.meta.dirname, '../..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    {
      command?: string[];
      environment?: Record<string, string>;
      volumes?: string[];
      build?: unknown;
      image?: string;
      depends_on?: unknown;
      healthcheck?: unknown;
    }
  >;
};
const SERVICES = ['sqs-poller', 's3-fetcher', 'la-uploader', 'blob-scanner', 'adx-ingester', 'completion-checker'];
// Read by Node itself, not by our config.
const RUNTIME_VARS = new Set(['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS']);

async function configOf(service: string): Promise<ConfigDefinition<VarSpecs>> {
  const mod = (await import(`../../shared/src/config/services/${service}.ts`)) as {
    config: ConfigDefinition<VarSpecs>;
  };
  return mod.config;
}

describe('docker-compose.yml', () => {
  it('runs every service from the one image, by name, read-only and unprivileged', () => {
    for (const name of SERVICES) {
      const svc = compose.services[name] as Record<string, unknown> | undefined;
      assert.ok(svc, `${name} is in docker-compose.yml`);
      assert.deepEqual(svc.command, [name]);
      assert.equal(svc.image, 'logferry:local');
      assert.equal(svc.read_only, true, `${name} read_only`);
      assert.deepEqual(svc.cap_drop, ['ALL']);
      assert.ok(svc.healthcheck, `${name} has a health check`);
    }
  });

  for (const name of SERVICES) {
    it(`${name}: its environment parses with its config schema`, async () => {
      const config = await configOf(name);
      const env = compose.services[name]?.environment ?? {};
      const known = new Set(Object.entries(config.vars).flatMap(([k, v]) => [k, ...(v.aliases ?? [])]));
      const unknown = Object.keys(env).filter((k) => !known.has(k) && !RUNTIME_VARS.has(k));
      assert.deepEqual(unknown, [], `variables ${name}'s schema does not know`);
      assert.doesNotThrow(() => parseConfig(config, env));
    });
  }

  it('mounts the Service Bus topology the stand-in and the chart use, and subscriptions exist in it', async () => {
    const emulator = compose.services.servicebus;
    assert.ok(
      emulator?.volumes?.some((v) =>
        v.startsWith('./deploy/servicebus/Config.json:/ServiceBus_Emulator/ConfigFiles/Config.json'),
      ),
    );
    const topology = JSON.parse(readFileSync(join(root, 'deploy/servicebus/Config.json'), 'utf8'));
    const subs = new Set<string>();
    for (const t of topology.UserConfig.Namespaces[0].Topics)
      for (const s of t.Subscriptions) subs.add(`${t.Name}/${s.Name}`);
    // Each consumer's default subscription (as its config resolves it) must exist in Config.json.
    const expected: Record<string, Record<string, string>> = {
      's3-fetcher': { SUBSCRIPTION: 's3-objects' },
      'adx-ingester': {
        INGEST_REQUESTS_SUBSCRIPTION: 'ingest-requests',
        STAGED_BATCHES_SUBSCRIPTION: 'staged-batches',
      },
      'blob-scanner': { RESULTS_SUBSCRIPTION: 'ingestion-results' },
    };
    for (const [service, vars] of Object.entries(expected)) {
      const parsed = parseConfig(await configOf(service), compose.services[service]?.environment ?? {}) as Record<
        string,
        unknown
      >;
      for (const [variable, topic] of Object.entries(vars)) {
        assert.ok(
          subs.has(`${topic}/${String(parsed[variable])}`),
          `${service} ${variable}=${String(parsed[variable])} on ${topic}`,
        );
      }
    }
  });

  it('waits with service_healthy only on services that have a health check', () => {
    const problems: string[] = [];
    for (const [name, svc] of Object.entries(compose.services)) {
      const deps = svc.depends_on;
      if (deps === undefined || Array.isArray(deps)) continue; // the short form means service_started
      for (const [dep, how] of Object.entries(deps as Record<string, { condition?: string }>)) {
        const target = compose.services[dep];
        if (!target) problems.push(`${name} depends on ${dep}, which is not a service`);
        else if (how?.condition === 'service_healthy' && !target.healthcheck) {
          problems.push(`${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('waits for the emulators and stand-ins to be healthy before starting the pipeline', () => {
    for (const name of SERVICES) {
      const deps = compose.services[name]?.depends_on as Record<string, { condition?: string }>;
      for (const dep of ['servicebus-health', 'azurite', 'standins']) {
        assert.equal(deps?.[dep]?.condition, 'service_healthy', `${name} waits for ${dep}`);
      }
    }
    // The emulator image has no shell or HTTP client; servicebus-health probes the emulator's /health port.
    const probe = JSON.stringify(compose.services['servicebus-health']?.healthcheck);
    assert.match(probe, /http:\/\/servicebus:5300\/health/);
    assert.equal(
      (compose.services.servicebus as { environment?: Record<string, string> }).environment?.EMULATOR_HTTP_PORT,
      '5300',
    );
    for (const name of ['sqledge', 'azurite'])
      assert.ok(compose.services[name]?.healthcheck, `${name} has a health check`);
  });

  it('points image builds at Dockerfile targets that exist; the six services run the default target, as the chart does', () => {
    const dockerfile = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
    const targets = new Set(dockerfile.stages.map((s) => s.name));
    for (const [name, svc] of Object.entries(compose.services)) {
      const target = (svc.build as { target?: string } | undefined)?.target;
      if (target) assert.ok(targets.has(target), `${name} builds target ${target}`);
      if (SERVICES.includes(name))
        assert.equal(
          target ?? dockerfile.defaultTarget.name,
          dockerfile.defaultTarget.name,
          `${name} runs what \`docker build .\` builds`,
        );
    }
    assert.equal(
      (compose.services.standins?.build as { target?: string } | undefined)?.target,
      'local',
      'the stand-ins need the local image (dev dependencies)',
    );
    assert.ok(existsSync(join(root, 'mappings.json')), 'mappings.json is mounted by path');
  });

  it('runs the S3 flow with the three sources npm start runs with, and the stand-ins seed and accept all three', () => {
    // A path in the image is the repository's file of that name (the image copies it to /app).
    const inRepo = (path = '') => {
      assert.ok(path.startsWith('/app/'), `${path} is a path in the image`);
      return join(root, path.slice('/app/'.length));
    };
    const env = (name: string) => compose.services[name]?.environment ?? {};
    const routesFile = env('sqs-poller').ROUTES_FILE;
    for (const name of ['s3-fetcher', 'standins'])
      assert.equal(env(name).ROUTES_FILE, routesFile, `${name} reads the routes sqs-poller does`);
    assert.equal(inRepo(routesFile), join(root, 'routes.json'), "npm start's routes.json (DEFAULT_ROUTES_FILE)");
    const routes = loadRoutes(inRepo(routesFile));
    assert.deepEqual(
      routes.map((r) => r.name).sort(),
      ['Code42Audit', 'Code42FileEvents', 'VpcFlowLogs'],
      'the three sources the local seed puts in S3',
    );
    // s3-fetcher's start-up check of the routes' adx flags against the mappings it is given.
    assert.equal(env('s3-fetcher').MAPPINGS_FILE, env('adx-ingester').MAPPINGS_FILE);
    const mappingsFile = inRepo(env('s3-fetcher').MAPPINGS_FILE);
    assert.doesNotThrow(() => checkRoutesAgainstMappings(routes, loadMappings(mappingsFile), mappingsFile));
    const allowed = (env('sqs-poller').S3_ALLOWED_BUCKETS ?? '').split(',');
    for (const route of routes)
      for (const match of route.matches) assert.ok(allowed.includes(match.bucket), `${route.name}: ${match.bucket}`);

    // The stand-ins container seeds the local run's seed (LOCAL_RUN_SEED: all three sources, with the routes).
    assert.ok(compose.services.standins?.command?.includes('--seed'));
    assert.equal(LOCAL_RUN_SEED.routedSources, true);
    // Its Logs Ingestion stand-in accepts la-uploader's stream and every route's, under la-uploader's DCR.
    const standins = env('standins');
    const rules = dcrRulesFor(inRepo(routesFile), String(standins.DCR_IMMUTABLE_ID), String(standins.DCR_STREAM));
    const uploader = env('la-uploader');
    assert.equal(standins.DCR_IMMUTABLE_ID, uploader.DCR_IMMUTABLE_ID);
    const streams = new Set(rules[String(uploader.DCR_IMMUTABLE_ID)]);
    for (const stream of [uploader.DCR_STREAM, ...routes.map((r) => r.logsIngestion?.stream)])
      assert.ok(stream && streams.has(stream), `the stand-in accepts ${stream}`);
  });
});
