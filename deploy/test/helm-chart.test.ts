// No helm binary exists here. These tests check values and examples against values.schema.json, that every
// `.Values.*` a template reads exists and every value is documented, and then render the chart with a model of
// Go templates and Sprig (./helm-render.ts) to check the manifests: each service's container environment parses
// with that service's own config schema, mappings.json is mounted where it is read, and KEDA triggers match the
// subscriptions each service drains. The other resources: helm-resources.test.ts; names and extension points:
// helm-conventions.test.ts; the model itself: helm-render.test.ts. `helm template` has not run here (chart README).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { consumedSubscriptions } from '../../shared/src/manifest.ts';
import { parseMappings } from '../../shared/src/mappings/index.ts';
import { isService } from '../../shared/src/services.ts';
import {
  chart,
  FULLNAME,
  named,
  ofKind,
  PRODUCTION,
  REQUIRED,
  read,
  refusedBy,
  renderChart,
  SOURCES,
  STATUS_API_RULE,
  validateValues,
  values,
} from './chart-fixture.ts';
import { TemplateError } from './helm-render.ts';
import { serviceEnvs } from './service-env.ts';

const templates = readdirSync(join(chart, 'templates')).map((f) => ({ name: f, text: read(`templates/${f}`) }));
const SERVICES = ['sqsPoller', 's3Fetcher', 'laUploader', 'blobScanner', 'adxIngester', 'completionChecker'];
interface KedaValues {
  topic: string;
  subscription: string;
  additionalSubscriptions: { topic: string; subscription: string }[];
}

function deepMerge(a: unknown, b: unknown): unknown {
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b)) out[k] = deepMerge(out[k], v);
    return out;
  }
  return b === undefined ? a : b;
}

function leafPaths(o: unknown, prefix = ''): string[] {
  if (!o || typeof o !== 'object' || Array.isArray(o) || Object.keys(o).length === 0) return [prefix];
  return Object.entries(o).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('helm chart values', () => {
  const validate = validateValues;

  // The base of the refusal cases below: it must pass, or every refusal would pass for the wrong reason.
  const installed = deepMerge(values, REQUIRED);

  it('values.yaml with the settings the install supplies satisfies values.schema.json', () => {
    assert.ok(validate(installed), JSON.stringify(validate.errors, null, 2));
  });

  it('values.yaml alone is refused: blob-scanner has no way to authenticate callers yet', () => {
    assert.equal(validate(values), false);
    assert.ok(
      validate.errors?.some((e) => e.instancePath === '/blobScanner/auth' && e.keyword === 'anyOf'),
      JSON.stringify(validate.errors),
    );
  });

  for (const example of readdirSync(join(chart, 'examples'))) {
    it(`examples/${example} merged over values.yaml satisfies the schema`, () => {
      const merged = deepMerge(values, parse(read(`examples/${example}`)));
      assert.ok(validate(merged), JSON.stringify(validate.errors, null, 2));
    });
  }

  it('the schema refuses what would be unsafe or wrong', () => {
    const bad = [
      deepMerge(installed, { containerSecurityContext: { readOnlyRootFilesystem: false } }),
      deepMerge(installed, { podSecurityContext: { runAsNonRoot: false } }),
      deepMerge(installed, { completionChecker: { replicaCount: 2 } }),
      deepMerge(installed, { aws: { roleArn: 'not-an-arn' } }),
      deepMerge(installed, { laUploader: { keda: { topic: 'no-such-topic' } } }),
      deepMerge(installed, { sqsPoller: { env: { 'bad name': 'x' } } }),
      deepMerge(installed, { unknownTopLevel: true }),
      // The API key only ever comes from a Secret: no literal value in the values.
      deepMerge(installed, { blobScanner: { auth: { apiKey: { value: 'a-literal-key-in-values' } } } }),
      deepMerge(installed, { blobScanner: { auth: { audience: 'api://not-a-list' } } }),
      deepMerge(installed, {
        adxIngester: { keda: { additionalSubscriptions: [{ topic: 'nope', subscription: 'x' }] } },
      }),
    ];
    for (const v of bad) assert.equal(validate(v), false, JSON.stringify(v).slice(0, 200));
  });

  it('documents every value with an @param line', () => {
    const documented = new Set([...read('values.yaml').matchAll(/^## @param (\S+)/gm)].map((m) => m[1]));
    const undocumented = leafPaths(values).filter(
      (p) => ![...documented].some((d) => d === p || p.startsWith(`${d}.`)),
    );
    assert.deepEqual(undocumented, []);
  });
});

describe('helm chart templates', () => {
  it('read only values that exist in values.yaml', () => {
    const missing: string[] = [];
    for (const t of templates) {
      for (const m of t.text.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) {
        const path = (m[1] ?? '').split('.');
        let node: unknown = values;
        for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
        if (node === undefined) missing.push(`${t.name}: .Values.${m[1]}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('balance their control blocks', () => {
    for (const t of templates) {
      let depth = 0;
      for (const m of t.text.matchAll(/\{\{-?\s*(if|range|with|define|end)\b/g)) {
        depth += m[1] === 'end' ? -1 : 1;
        assert.ok(depth >= 0, `${t.name}: {{ end }} without an opening block`);
      }
      assert.equal(depth, 0, `${t.name}: unclosed block`);
      assert.equal((t.text.match(/\{\{/g) ?? []).length, (t.text.match(/\}\}/g) ?? []).length, `${t.name}: braces`);
    }
  });

  it('render every service from one definition, with probes, identity and a non-root read-only container', () => {
    const services = read('templates/_services.tpl');
    for (const s of SERVICES) assert.match(services, new RegExp(`\\.Values\\.${s}\\b`), s);
    const deployment = read('templates/deployments.yaml');
    for (const needle of [
      'path: /livez',
      'path: /readyz',
      'azure.workload.identity/use: "true"',
      'serviceAccountName:',
      'containerSecurityContext',
      'readOnly: true',
      'type: Recreate',
      'terminationGracePeriodSeconds',
    ]) {
      assert.ok(deployment.includes(needle), `deployments.yaml lacks ${needle}`);
    }
  });

  it('scale consumers on their subscription backlog with KEDA and workload identity', () => {
    const so = read('templates/scaledobjects.yaml');
    assert.match(so, /type: azure-servicebus/);
    assert.match(so, /subscriptionName:/);
    assert.match(so, /type: aws-sqs-queue/);
    assert.match(read('templates/triggerauthentication.yaml'), /provider: azure-workload/);
    for (const s of ['s3Fetcher', 'laUploader', 'adxIngester']) {
      const keda = (values[s] as { keda: { topic: string; subscription: string } }).keda;
      assert.ok(keda.topic && keda.subscription, `${s} has a KEDA topic and subscription`);
    }
  });

  it('keeps KEDA subscriptions in step with deploy/servicebus/Config.json', () => {
    const config = JSON.parse(readFileSync(join(chart, '../../servicebus/Config.json'), 'utf8'));
    const subs = new Set<string>();
    for (const topic of config.UserConfig.Namespaces[0].Topics)
      for (const sub of topic.Subscriptions) subs.add(`${topic.Name}/${sub.Name}`);
    for (const s of ['s3Fetcher', 'laUploader', 'adxIngester']) {
      const keda = (values[s] as { keda: KedaValues }).keda;
      for (const { topic, subscription } of [keda, ...keda.additionalSubscriptions]) {
        assert.ok(subs.has(`${topic}/${subscription}`), `${topic}/${subscription} is in Config.json`);
      }
    }
  });
});

// ------------------------------------------------------------------------------------ rendered manifests

/** The topic/subscription pairs a service drains, as its main.ts subscribes with the parsed config. */
/** The subscriptions a service drains under its parsed configuration, as shared/src/manifest.ts declares them. */
function drained(service: string, c: Record<string, unknown>): string[] {
  return isService(service) ? consumedSubscriptions(service, c).map((x) => `${x.topic}/${x.subscription}`) : [];
}

const topology = (() => {
  const config = JSON.parse(readFileSync(join(chart, '../../servicebus/Config.json'), 'utf8'));
  const subs = new Set<string>();
  for (const topic of config.UserConfig.Namespaces[0].Topics)
    for (const sub of topic.Subscriptions) subs.add(`${topic.Name}/${sub.Name}`);
  return subs;
})();

describe('helm chart rendered', () => {
  it('refuses values.yaml alone: the schema, for the status API without authentication', () => {
    assert.deepEqual(
      refusedBy(() => renderChart([])),
      [STATUS_API_RULE],
    );
  });

  it('refuses values.yaml with only an API key Secret, naming the first missing value', () => {
    assert.throws(
      () => renderChart([{ blobScanner: { auth: { apiKey: { secretName: 'k' } } } }]),
      (err: unknown) => err instanceof TemplateError && /is required/.test(err.message),
    );
  });

  for (const source of SOURCES) {
    describe(source.name, () => {
      it('gives every service an environment its config schema accepts (secretKeyRef values count as set)', async () => {
        const envs = await serviceEnvs(renderChart(source.overrides));
        assert.ok(envs.length > 0, 'renders Deployments');
        for (const s of envs) assert.deepEqual(s.problems, [], s.service);
      });

      it('mounts mappings.json where MAPPINGS_FILE points, with contents the services accept', async () => {
        const docs = renderChart(source.overrides);
        const envs = await serviceEnvs(docs);
        for (const s of envs) {
          const file = s.env.MAPPINGS_FILE;
          const mount = s.container.volumeMounts?.find((m) => m.mountPath === (file ? dirname(file) : '/etc/logferry'));
          if (!file) {
            assert.equal(mount, undefined, `${s.service} mounts the ConfigMap without reading it`);
            continue;
          }
          assert.ok(mount?.readOnly, `${s.service}: ${dirname(file)} is mounted read-only`);
          const volume = s.deployment.spec!.template!.spec.volumes?.find((v) => v.name === mount.name);
          const cm = named(docs, 'ConfigMap', volume?.configMap?.name ?? '');
          const text = cm?.data?.[basename(file)];
          assert.ok(text, `${s.service}: ${file} comes from a ConfigMap key`);
          assert.doesNotThrow(() => parseMappings(JSON.parse(text)));
        }
        // s3-fetcher marks the staged batches adx-ingester reads (la-uploader keeps those) only if it reads the same mappings.
        const adx = envs.some((s) => s.service === 'adx-ingester');
        const fetcher = envs.find((s) => s.service === 's3-fetcher');
        if (fetcher)
          assert.equal(
            fetcher.env.MAPPINGS_FILE !== undefined,
            adx,
            's3-fetcher reads mappings.json iff adx-ingester runs',
          );
        assert.equal(
          envs.find((s) => s.service === 'la-uploader')?.env.MAPPINGS_FILE,
          undefined,
          'la-uploader does not',
        );
      });

      it('scales each Service Bus consumer on exactly the subscriptions it drains, with workload identity', async () => {
        const docs = renderChart(source.overrides);
        const envs = await serviceEnvs(docs);
        const auth = ofKind(docs, 'TriggerAuthentication')[0];
        for (const so of ofKind(docs, 'ScaledObject')) {
          const s = envs.find((e) => e.deployment.metadata.name === so.spec?.scaleTargetRef?.name);
          assert.ok(s?.parsed, `${so.metadata.name} targets a rendered Deployment`);
          assert.equal(s.deployment.spec?.replicas, undefined, `${s.service}: KEDA, not the Deployment, sets replicas`);
          const sb = (so.spec?.triggers ?? []).filter((t) => t.type === 'azure-servicebus');
          if (s.service === 'sqs-poller' || s.service === 'blob-scanner') {
            assert.deepEqual(sb, [], `${s.service} does not scale on Service Bus`);
            continue;
          }
          const pairs = sb.map((t) => `${t.metadata.topicName}/${t.metadata.subscriptionName}`);
          assert.deepEqual(pairs.sort(), drained(s.service, s.parsed).sort(), s.service);
          for (const t of sb) {
            assert.ok(topology.has(`${t.metadata.topicName}/${t.metadata.subscriptionName}`), 'in Config.json');
            assert.equal(t.metadata.namespace, String(s.parsed.SERVICEBUS_NAMESPACE).split('.')[0]);
            assert.equal(t.authenticationRef?.name, auth?.metadata.name, 'uses the chart TriggerAuthentication');
            assert.equal(auth?.spec?.podIdentity?.provider, 'azure-workload');
          }
        }
      });
    });
  }

  it('refuses an empty aws.allowedBuckets (Sprig `required` lets an empty list through, so the chart checks the join)', () => {
    assert.throws(() => renderChart([REQUIRED, { aws: { allowedBuckets: [] } }]), /needs at least one bucket/);
  });

  it('scales adx-ingester on ingest-requests and staged-batches (production example)', () => {
    const so = named(renderChart(PRODUCTION), 'ScaledObject', `${FULLNAME}-adx-ingester`);
    assert.deepEqual(
      so?.spec?.triggers?.map((t) => [
        t.type,
        t.metadata.topicName,
        t.metadata.subscriptionName,
        t.authenticationRef?.name,
      ]),
      [
        ['azure-servicebus', 'ingest-requests', 'adx-ingester', `${FULLNAME}-servicebus`],
        ['azure-servicebus', 'staged-batches', 'adx-ingester', `${FULLNAME}-servicebus`],
      ],
    );
  });

  it('catches a missing companion variable: AUTH_TENANT_ID without AUTH_AUDIENCE', async () => {
    const docs = renderChart([
      ...PRODUCTION,
      {
        blobScanner: {
          auth: { audience: [], requiredRole: '', apiKey: { secretName: 'k' } },
          env: { AUTH_TENANT_ID: '00000000-0000-0000-0000-000000000000' },
        },
      },
    ]);
    const scanner = (await serviceEnvs(docs)).find((s) => s.service === 'blob-scanner');
    assert.match(scanner?.problems.join('\n') ?? '', /AUTH_TENANT_ID is set but AUTH_AUDIENCE is not/);
  });
});
