// The chart's resources other than the Deployments' environments, rendered through the template model: the status
// API's authentication variables, PodDisruptionBudgets, the Ingress and Service, the ConfigMap (mappings and routes)
// and the ServiceAccount exist when their values say so, and reference the names and labels they must.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseMappings } from '../../shared/src/mappings/index.ts';
import { checkRoutesAgainstMappings, parseRoutes } from '../../shared/src/routes/index.ts';
import {
  chart,
  FULLNAME,
  mergedValues,
  named,
  ofKind,
  PRODUCTION,
  RELEASE,
  REQUIRED,
  refusedBy,
  renderChart,
  renderer,
  STATUS_API_RULE,
} from './chart-fixture.ts';
import { serviceEnvs } from './service-env.ts';

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
