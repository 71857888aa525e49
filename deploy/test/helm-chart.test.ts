// No helm binary exists here. These tests check values and examples against values.schema.json, that every
// `.Values.*` a template reads exists and every value is documented, and then render the chart with a model of
// Go templates and Sprig (./helm-render.ts) to check the manifests: each service's container environment parses
// with that service's own config schema, KEDA triggers match the subscriptions each service drains, and the
// PodDisruptionBudget, Ingress, ConfigMap and ServiceAccount exist when (and only when) their values say so and
// reference the right names. `helm template` itself has not run here; see the chart README.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { consumedSubscriptions } from '../../shared/src/manifest.ts';
import { parseMappings } from '../../shared/src/mappings/index.ts';
import { checkRoutesAgainstMappings, parseRoutes } from '../../shared/src/routes/index.ts';
import { isService } from '../../shared/src/services.ts';
import {
  chart,
  FULLNAME,
  mergedValues,
  named,
  ofKind,
  PRODUCTION,
  RELEASE,
  REQUIRED,
  read,
  refusedBy,
  renderChart,
  renderer,
  SOURCES,
  validateValues,
  values,
} from './chart-fixture.ts';
import { goFloat, Renderer, TemplateError } from './helm-render.ts';
import { serviceEnvs } from './service-env.ts';

const STATUS_API_RULE =
  "blob-scanner's status API needs a way to authenticate callers: auth.audience (Entra ID tokens) and/or auth.apiKey.secretName";

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

describe('the Go template model (./helm-render.ts)', () => {
  const one = (text: string, v: Record<string, unknown> = {}) =>
    new Renderer({ chart: { name: 't' }, templates: new Map([['x.yaml', text]]) }).render(v).get('x.yaml');

  it('trims, scopes and short-circuits as text/template does', () => {
    assert.equal(one('a  {{- "b" -}}  c\n'), 'abc\n');
    assert.equal(one('{{- if and .Values.m .Values.m.x }}yes{{ else }}no{{ end }}', { m: null }), 'no');
    assert.throws(() => one('{{ .Values.m.x }}'), TemplateError, 'a field of nil is an error');
    assert.equal(one('{{ .Values.missing }}'), '', 'a missing key prints nothing');
    assert.equal(one('{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}', { m: { b: 2, a: 1 } }), 'a=1;b=2;');
  });

  it("follows Sprig's required, default and arithmetic, and Go's float formatting", () => {
    assert.equal(one('{{ required "no" .Values.l | len }}', { l: [] }), '0', 'required lets an empty list through');
    assert.throws(() => one('{{ required "no" (join "," .Values.l) }}', { l: [] }), /no/);
    assert.equal(one('{{ default "d" .Values.s }}', { s: '' }), 'd');
    assert.equal(one('{{ mul (sub .Values.n 5) 1000 | quote }}', { n: 60 }), '"55000"');
    assert.equal(goFloat(1_000_000), '1e+06');
  });

  it("follows Sprig's merge (the first map's non-empty keys win), concat, uniq, compact and kindIs", () => {
    const m = { a: { x: '1', y: '' }, b: 'B' };
    assert.equal(
      one('{{ merge (dict) .Values.a .Values.b | toJson }}', { a: m.a, b: { x: '2', y: '3', z: '4' } }),
      '{"x":"1","y":"3","z":"4"}',
    );
    assert.throws(() => one('{{ merge .Values.l (dict) }}', { l: [] }), TemplateError);
    assert.equal(one('{{ concat .Values.a .Values.b | toJson }}', { a: [1], b: [2] }), '[1,2]');
    assert.throws(() => one('{{ concat .Values.a .Values.missing }}', { a: [] }), TemplateError, 'nil is no list');
    assert.equal(one('{{ list "a" "b" "a" "" | uniq | compact | toJson }}'), '["a","b"]');
    assert.equal(
      one('{{ kindIs "map" .Values.m }} {{ kindIs "map" .Values.s }} {{ kindOf .Values.l }}', { m: {}, s: 'x', l: [] }),
      'true false slice',
    );
    assert.equal(goFloat(123_456), '123456');
    assert.equal(goFloat(0.5), '0.5');
  });
});

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

describe('helm chart: blob-scanner status API authentication', () => {
  const scannerEnv = (overrides: unknown[]) => {
    const d = named(renderChart(overrides), 'Deployment', `${FULLNAME}-blob-scanner`);
    return d?.spec?.template?.spec.containers[0]?.env ?? [];
  };
  const withAuth = (auth: Record<string, unknown>, more: Record<string, unknown> = {}) => [
    REQUIRED,
    { blobScanner: { auth: { apiKey: { secretName: '' }, ...auth } }, ...more },
  ];

  it('refuses (schema) a status API nobody can authenticate to, unless blob-scanner is off', () => {
    assert.deepEqual(
      refusedBy(() => renderChart(withAuth({}))),
      [STATUS_API_RULE],
    );
    assert.deepEqual(
      refusedBy(() => renderChart(withAuth({}, { blobScanner: { enabled: false } }))),
      [],
    );
  });

  it('refuses (schema) an audience without a required role or scope, or without a tenant', () => {
    assert.deepEqual(
      refusedBy(() => renderChart(withAuth({ audience: ['api://x'] }))),
      [
        'auth.audience needs auth.requiredRole or auth.requiredScope: without one, any token the tenant issues for that audience is accepted',
      ],
    );
    assert.deepEqual(
      refusedBy(() => renderChart(withAuth({ audience: ['api://x'], requiredRole: 'R' }, { azure: { tenantId: '' } }))),
      ['blobScanner.auth.audience needs a tenant: blobScanner.auth.tenantId or azure.tenantId'],
    );
    assert.deepEqual(
      refusedBy(() =>
        renderChart(
          withAuth({ audience: ['api://x'], requiredRole: 'R', tenantId: 't.example' }, { azure: { tenantId: '' } }),
        ),
      ),
      [],
    );
  });

  it('emits the AUTH_* variables together, with auth.tenantId over azure.tenantId', () => {
    const env = scannerEnv(
      withAuth({
        tenantId: 'contoso.onmicrosoft.com',
        audience: ['api://a', 'a'],
        requiredScope: 'Status.Read',
      }),
    );
    const byName = Object.fromEntries(env.map((e) => [e.name, e.value]));
    assert.equal(byName.AUTH_TENANT_ID, 'contoso.onmicrosoft.com');
    assert.equal(byName.AUTH_AUDIENCE, 'api://a,a');
    assert.equal(byName.AUTH_REQUIRED_SCOPE, 'Status.Read');
    assert.ok(!('AUTH_REQUIRED_ROLE' in byName));
    assert.ok(!('STATUS_API_KEY' in byName));
  });

  it('takes the API key from a Secret only, and sets no AUTH_* without an audience', () => {
    const env = scannerEnv(withAuth({ apiKey: { secretName: 'status-key', secretKey: 'key' } }));
    const key = env.find((e) => e.name === 'STATUS_API_KEY');
    assert.deepEqual(key, { name: 'STATUS_API_KEY', valueFrom: { secretKeyRef: { name: 'status-key', key: 'key' } } });
    assert.deepEqual(
      env.filter((e) => e.name.startsWith('AUTH_')),
      [],
      'AUTH_TENANT_ID is not emitted just because azure.tenantId is set',
    );
  });
});

describe('helm chart: PodDisruptionBudget', () => {
  it('protects every enabled service but completion-checker, selecting exactly its pods', () => {
    const docs = renderChart(PRODUCTION);
    const deployments = ofKind(docs, 'Deployment');
    const pdbs = ofKind(docs, 'PodDisruptionBudget');
    assert.deepEqual(
      pdbs.map((p) => p.metadata.name).sort(),
      deployments
        .map((d) => d.metadata.name)
        .filter((n) => n !== `${FULLNAME}-completion-checker`)
        .sort(),
    );
    for (const pdb of pdbs) {
      const d = named(docs, 'Deployment', pdb.metadata.name)!;
      assert.deepEqual(pdb.spec?.selector?.matchLabels, d.spec?.selector?.matchLabels, pdb.metadata.name);
      for (const [k, v] of Object.entries(pdb.spec?.selector?.matchLabels ?? {})) {
        assert.equal(d.spec?.template?.metadata.labels[k], v, `${pdb.metadata.name} selects its pods by ${k}`);
      }
      assert.equal(pdb.spec?.maxUnavailable, 1);
    }
  });

  it('follows pdb.create, pdb.minAvailable, pdb.maxUnavailable and the service switch', () => {
    const docs = renderChart([
      ...PRODUCTION,
      {
        s3Fetcher: { pdb: { create: false } },
        laUploader: { pdb: { maxUnavailable: '50%' } },
        blobScanner: { pdb: { minAvailable: 1 } },
        sqsPoller: { pdb: { minAvailable: '50%' } },
        adxIngester: { enabled: false },
      },
    ]);
    assert.equal(named(docs, 'PodDisruptionBudget', `${FULLNAME}-s3-fetcher`), undefined);
    assert.ok(named(docs, 'Deployment', `${FULLNAME}-s3-fetcher`));
    assert.equal(named(docs, 'PodDisruptionBudget', `${FULLNAME}-la-uploader`)?.spec?.maxUnavailable, '50%');
    for (const [svc, min] of [
      ['blob-scanner', 1],
      ['sqs-poller', '50%'],
    ] as const) {
      const spec = named(docs, 'PodDisruptionBudget', `${FULLNAME}-${svc}`)?.spec as Record<string, unknown>;
      assert.equal(spec.minAvailable, min, svc);
      assert.ok(!('maxUnavailable' in spec), `${svc}: a PDB takes one of the two`);
    }
    assert.equal(named(docs, 'PodDisruptionBudget', `${FULLNAME}-adx-ingester`), undefined);
    assert.equal(named(docs, 'Deployment', `${FULLNAME}-adx-ingester`), undefined);
    assert.equal(named(docs, 'ScaledObject', `${FULLNAME}-adx-ingester`), undefined);
  });
});

describe('helm chart: Ingress and Service of the status page', () => {
  it('is absent unless blobScanner.ingress.enabled', () => {
    const docs = renderChart([REQUIRED]);
    assert.deepEqual(ofKind(docs, 'Ingress'), []);
    assert.ok(named(docs, 'Service', `${FULLNAME}-blob-scanner`));
  });

  it("routes the host to blob-scanner's Service, whose port reaches the container's http port", () => {
    const docs = renderChart(PRODUCTION);
    const ingress = named(docs, 'Ingress', `${FULLNAME}-blob-scanner`);
    assert.ok(ingress);
    assert.equal(ingress.spec?.ingressClassName, 'webapprouting.kubernetes.azure.com');
    assert.deepEqual(ingress.spec?.tls, [{ hosts: ['logferry.example.com'], secretName: 'logferry-tls' }]);
    const rule = ingress.spec?.rules?.[0];
    assert.equal(rule?.host, 'logferry.example.com');
    const backend = rule?.http.paths[0]?.backend.service;
    const service = named(docs, 'Service', backend?.name ?? '');
    assert.ok(service, 'the backend Service exists');
    const port = service.spec?.ports?.find((p) => p.name === backend?.port.name);
    assert.ok(port, `the Service has the port named ${backend?.port.name}`);
    const pod = named(docs, 'Deployment', `${FULLNAME}-blob-scanner`)?.spec?.template;
    for (const [k, v] of Object.entries(service.spec?.selector ?? {})) {
      assert.equal(pod?.metadata.labels[k], v, `the Service selects blob-scanner pods by ${k}`);
    }
    const container = pod?.spec.containers[0];
    const target = container?.ports?.find((p) => p.name === port.targetPort);
    assert.equal(target?.containerPort, 8081);
    assert.equal(container?.env?.find((e) => e.name === 'HTTP_PORT')?.value, '8081', 'the service listens there');
  });

  it('is not rendered without blob-scanner, and needs a host', () => {
    const off = renderChart([...PRODUCTION, { blobScanner: { enabled: false } }]);
    assert.deepEqual(ofKind(off, 'Ingress'), []);
    assert.equal(named(off, 'Service', `${FULLNAME}-blob-scanner`), undefined);
    assert.deepEqual(
      refusedBy(() => renderChart([...PRODUCTION, { blobScanner: { ingress: { host: '' } } }])),
      ['ingress.host is required when the ingress is enabled'],
    );
  });
});

describe('helm chart: ConfigMap', () => {
  it('carries the mappings value as mappings.json, and pods roll when it changes', () => {
    const mappings = JSON.parse(readFileSync(join(chart, '../../../mappings.json'), 'utf8'));
    for (const overrides of [[REQUIRED], [REQUIRED, { mappings }]]) {
      const rendered = renderer.render(mergedValues(overrides), RELEASE);
      const docs = renderChart(overrides);
      const cm = named(docs, 'ConfigMap', `${FULLNAME}-config`);
      assert.ok(cm, 'the ConfigMap exists');
      assert.deepEqual(JSON.parse(cm.data?.['mappings.json'] ?? ''), mergedValues(overrides).mappings);
      const checksum = createHash('sha256')
        .update(rendered.get('configmap.yaml') ?? '')
        .digest('hex');
      for (const d of ofKind(docs, 'Deployment')) {
        assert.equal(d.spec?.template?.metadata.annotations?.['checksum/config'], checksum, d.metadata.name);
      }
    }
  });
});

describe('helm chart: routes', () => {
  const routes = JSON.parse(readFileSync(join(chart, '../../../routes.json'), 'utf8'));

  it('mounts routes.json for sqs-poller and s3-fetcher, as the allow-list in place of aws.allowedBuckets', async () => {
    const docs = renderChart([REQUIRED, { aws: { allowedBuckets: [] }, routes }]);
    const envs = await serviceEnvs(docs);
    for (const s of envs) assert.deepEqual(s.problems, [], `${s.service} accepts its environment`);
    const cm = named(docs, 'ConfigMap', `${FULLNAME}-config`);
    const text = cm?.data?.['routes.json'];
    assert.ok(text, 'the ConfigMap carries routes.json');
    const parsed = parseRoutes(JSON.parse(text));
    assert.deepEqual(
      parsed.map((r) => r.logsIngestion?.stream).sort(),
      ['Custom-Code42Audit_CL', 'Custom-Code42FileEvents_CL', 'Custom-VpcFlowLogs_CL'],
      'every route (order is irrelevant: the most specific match wins)',
    );
    checkRoutesAgainstMappings(parsed, parseMappings(mergedValues([REQUIRED]).mappings), 'routes.json');
    for (const s of envs) {
      const routed = s.service === 'sqs-poller' || s.service === 's3-fetcher';
      assert.equal(s.env.ROUTES_FILE, routed ? '/etc/logferry/routes.json' : undefined, s.service);
      if (!routed) continue;
      assert.equal(s.env.S3_ALLOWED_BUCKETS, undefined, `${s.service}: the routes are the allow-list`);
      const mount = s.container.volumeMounts?.find((m) => m.mountPath === '/etc/logferry');
      assert.ok(mount?.readOnly, `${s.service} mounts /etc/logferry read-only`);
      const volume = s.deployment.spec!.template!.spec.volumes?.find((v) => v.name === mount.name);
      assert.equal(volume?.configMap?.name, `${FULLNAME}-config`);
    }
    const fetcher = envs.find((s) => s.service === 's3-fetcher');
    const adx = envs.some((s) => s.service === 'adx-ingester');
    assert.equal(fetcher?.env.MAPPINGS_FILE !== undefined, adx, 's3-fetcher checks adx flags iff adx-ingester runs');
  });

  it('keeps aws.allowedBuckets as a narrowing when both are given, and has no routes.json without routes', async () => {
    const both = await serviceEnvs(renderChart([REQUIRED, { routes }]));
    assert.equal(both.find((s) => s.service === 's3-fetcher')?.env.S3_ALLOWED_BUCKETS, 'incydr-logs');
    const none = renderChart([REQUIRED]);
    assert.equal(named(none, 'ConfigMap', `${FULLNAME}-config`)?.data?.['routes.json'], undefined);
    const envs = await serviceEnvs(none);
    assert.ok(envs.every((s) => s.env.ROUTES_FILE === undefined));
  });
});

describe('helm chart: ServiceAccount', () => {
  it('is created with the workload identity annotations, and every pod runs as it', () => {
    const docs = renderChart(PRODUCTION);
    const [sa, ...more] = ofKind(docs, 'ServiceAccount');
    assert.deepEqual(more, []);
    assert.equal(sa?.metadata.name, FULLNAME);
    assert.equal(
      sa?.metadata.annotations?.['azure.workload.identity/client-id'],
      '11111111-1111-1111-1111-111111111111',
    );
    assert.equal(
      sa?.metadata.annotations?.['azure.workload.identity/tenant-id'],
      '00000000-0000-0000-0000-000000000000',
    );
    for (const d of ofKind(docs, 'Deployment')) {
      assert.equal(d.spec?.template?.spec.serviceAccountName, FULLNAME, d.metadata.name);
      assert.equal(d.spec?.template?.metadata.labels['azure.workload.identity/use'], 'true', d.metadata.name);
    }
  });

  it('follows serviceAccount.create, name, annotations and workloadIdentity.enabled', () => {
    const custom = renderChart([...PRODUCTION, { serviceAccount: { name: 'ferry', annotations: { team: 'secops' } } }]);
    assert.equal(ofKind(custom, 'ServiceAccount')[0]?.metadata.name, 'ferry');
    assert.equal(ofKind(custom, 'ServiceAccount')[0]?.metadata.annotations?.team, 'secops');
    for (const d of ofKind(custom, 'Deployment')) assert.equal(d.spec?.template?.spec.serviceAccountName, 'ferry');

    const existing = renderChart([...PRODUCTION, { serviceAccount: { create: false, name: 'byo' } }]);
    assert.deepEqual(ofKind(existing, 'ServiceAccount'), []);
    for (const d of ofKind(existing, 'Deployment')) assert.equal(d.spec?.template?.spec.serviceAccountName, 'byo');
    assert.deepEqual(
      refusedBy(() => renderChart([...PRODUCTION, { serviceAccount: { create: false } }])),
      ['serviceAccount.name is required when serviceAccount.create=false'],
    );

    const noWi = renderChart([...PRODUCTION, { serviceAccount: { workloadIdentity: { enabled: false } } }]);
    assert.equal(
      ofKind(noWi, 'ServiceAccount')[0]?.metadata.annotations?.['azure.workload.identity/client-id'],
      undefined,
    );
    for (const d of ofKind(noWi, 'Deployment')) {
      assert.equal(d.spec?.template?.metadata.labels['azure.workload.identity/use'], undefined, d.metadata.name);
    }
  });
});
