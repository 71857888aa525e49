// The chart's bitnami conventions, rendered through the template model: names (fullname collapse, nameOverride,
// fullnameOverride, 63-character limit), global image settings, and the per-pod extension points (podAnnotations,
// podLabels, extraEnvVars, extraEnvVarsSecret, extraVolumes, extraVolumeMounts, topologySpreadConstraints,
// priorityClassName), common and per service. What the schema refuses of them is checked here too.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  COMMON_EXTENSIONS,
  type Manifest,
  named,
  ofKind,
  PRODUCTION,
  REQUIRED,
  refusedBy,
  renderChart,
  SchemaError,
} from './chart-fixture.ts';

const SERVICES = ['sqs-poller', 's3-fetcher', 'la-uploader', 'blob-scanner', 'adx-ingester', 'completion-checker'];
const podOf = (docs: Manifest[], name: string) => named(docs, 'Deployment', name)?.spec?.template;
const release = (name: string) => ({ name, namespace: 'logferry' });
/** Every name a resource of the chart carries. */
const names = (docs: Manifest[]) => docs.map((d) => `${d.kind}/${d.metadata.name}`).sort();

describe('helm chart names', () => {
  it('collapse <release>-<chart> when the release name contains the chart name', () => {
    const docs = renderChart(PRODUCTION, release('logferry'));
    for (const s of SERVICES) assert.ok(named(docs, 'Deployment', `logferry-${s}`), `logferry-${s}`);
    assert.equal(ofKind(docs, 'ServiceAccount')[0]?.metadata.name, 'logferry');
    assert.ok(named(docs, 'ConfigMap', 'logferry-config'));
    assert.ok(named(docs, 'Service', 'logferry-blob-scanner'));
    assert.equal(
      names(docs).filter((n) => n.includes('logferry-logferry')).length,
      0,
      'no logferry-logferry-* resource',
    );
    assert.ok(named(renderChart(PRODUCTION, release('prod-logferry')), 'Deployment', 'prod-logferry-la-uploader'));
  });

  it('follow nameOverride (names and the app.kubernetes.io/name label) and fullnameOverride', () => {
    const renamed = renderChart([...PRODUCTION, { nameOverride: 'ferry' }], release('sec'));
    assert.ok(named(renamed, 'Deployment', 'sec-ferry-s3-fetcher'));
    for (const d of ofKind(renamed, 'Deployment')) {
      assert.equal(d.metadata.labels?.['app.kubernetes.io/name'], 'ferry');
      assert.equal(d.spec?.template?.metadata.labels['app.kubernetes.io/name'], 'ferry');
    }
    const full = renderChart([...PRODUCTION, { fullnameOverride: 'lf' }], release('whatever'));
    assert.ok(named(full, 'Deployment', 'lf-completion-checker'));
    assert.equal(ofKind(full, 'ServiceAccount')[0]?.metadata.name, 'lf');
    // ScaledObjects, PDBs, the Ingress and the Service follow the Deployments they belong to.
    assert.equal(named(full, 'ScaledObject', 'lf-la-uploader')?.spec?.scaleTargetRef?.name, 'lf-la-uploader');
    assert.ok(named(full, 'PodDisruptionBudget', 'lf-la-uploader'));
    const backend = named(full, 'Ingress', 'lf-blob-scanner')?.spec?.rules?.[0]?.http.paths[0]?.backend.service.name;
    assert.equal(backend, 'lf-blob-scanner');
    assert.ok(named(full, 'Service', backend ?? ''));
  });

  it('stay within 63 characters (a Service name or label value) for the longest release name', () => {
    const longRelease = 'r'.repeat(53); // Helm's limit on release names
    const docs = renderChart(PRODUCTION, release(longRelease));
    for (const d of docs) assert.ok(d.metadata.name.length <= 63, `${d.kind}/${d.metadata.name}`);
    const deployments = ofKind(docs, 'Deployment').map((d) => d.metadata.name);
    assert.equal(new Set(deployments).size, deployments.length, 'truncation keeps them distinct');
    for (const d of deployments) assert.doesNotMatch(d, /-$/);
  });

  it('are refused by the schema when not a DNS label', () => {
    for (const bad of [{ nameOverride: 'Logferry' }, { fullnameOverride: 'x'.repeat(64) }]) {
      assert.throws(() => renderChart([...PRODUCTION, bad]), SchemaError, JSON.stringify(bad));
    }
  });
});

describe('helm chart global image settings', () => {
  it('global.imageRegistry replaces image.registry; pull secrets from global and image, each once', () => {
    const docs = renderChart([
      ...PRODUCTION,
      {
        global: { imageRegistry: 'mirror.example.com', imagePullSecrets: ['shared', { name: 'mirror' }] },
        image: { pullSecrets: ['shared', 'own'] },
      },
    ]);
    for (const d of ofKind(docs, 'Deployment')) {
      const pod = d.spec?.template?.spec as unknown as { imagePullSecrets?: { name: string }[] };
      assert.equal(d.spec?.template?.spec.containers[0]?.image, 'mirror.example.com/logferry:0.1.0');
      assert.deepEqual(pod.imagePullSecrets, [{ name: 'shared' }, { name: 'mirror' }, { name: 'own' }]);
    }
    const plain = podOf(renderChart(PRODUCTION), 'rel-logferry-la-uploader')!;
    assert.equal(plain.spec.containers[0]?.image, 'myregistry.azurecr.io/logferry:0.1.0');
    assert.equal((plain.spec as unknown as Record<string, unknown>).imagePullSecrets, undefined);
  });

  it('accepts keys of a parent chart under global', () => {
    assert.doesNotThrow(() => renderChart([...PRODUCTION, { global: { storageClass: 'managed-csi' } }]));
  });
});

describe('helm chart pod extension points', () => {
  const common = COMMON_EXTENSIONS;
  const spread = {
    maxSkew: 1,
    topologyKey: 'topology.kubernetes.io/zone',
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'la-uploader' } },
  };
  const docs = renderChart([
    ...PRODUCTION,
    common,
    {
      laUploader: {
        podAnnotations: { 'team.example.com/owner': 'la-team', extra: 'yes' },
        podLabels: { tier: 'sink' },
        priorityClassName: 'logferry-high',
        extraEnvVars: [
          { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/corp-ca/ca.pem' },
          { name: 'AZURE_LOG_LEVEL', valueFrom: { secretKeyRef: { name: 'dbg', key: 'level' } } },
        ],
        extraEnvVarsSecret: 'la-env',
        extraVolumes: [{ name: 'scratch', emptyDir: {} }],
        extraVolumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
        topologySpreadConstraints: [spread],
      },
    },
  ]);
  const la = podOf(docs, 'rel-logferry-la-uploader')!;
  const fetcher = podOf(docs, 'rel-logferry-s3-fetcher')!;
  type Spec = Record<string, unknown> & { containers: Record<string, unknown>[] };
  const spec = (p: typeof la) => p.spec as unknown as Spec;

  it('gives every pod the common ones, and a service its own on top (its own win)', () => {
    assert.equal(fetcher.metadata.annotations?.['team.example.com/owner'], 'secops');
    assert.equal(la.metadata.annotations?.['team.example.com/owner'], 'la-team');
    assert.equal(la.metadata.annotations?.extra, 'yes');
    assert.ok(la.metadata.annotations?.['checksum/config'], 'the chart annotation stays');
    assert.equal(fetcher.metadata.labels.tier, 'ingest');
    assert.equal(la.metadata.labels.tier, 'sink');
    assert.equal(la.metadata.labels['app.kubernetes.io/component'], 'la-uploader', 'the selector label stays');
    assert.equal(spec(fetcher).priorityClassName, 'logferry-normal');
    assert.equal(spec(la).priorityClassName, 'logferry-high');
    assert.equal(spec(podOf(renderChart(PRODUCTION), 'rel-logferry-la-uploader')!).priorityClassName, undefined);
  });

  it('appends extra environment after the chart’s, common first, and envFrom the Secrets', () => {
    const env = (p: typeof la) => (p.spec.containers[0]?.env ?? []).map((e) => e.name);
    assert.deepEqual(env(la).slice(-3), ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'AZURE_LOG_LEVEL']);
    assert.deepEqual(env(fetcher).slice(-1), ['NODE_OPTIONS']);
    assert.ok(env(la).includes('DCR_STREAM'), 'the chart environment is kept');
    assert.deepEqual(spec(la).containers[0]?.envFrom, [
      { secretRef: { name: 'logferry-common-env' } },
      { secretRef: { name: 'la-env' } },
    ]);
    assert.deepEqual(spec(fetcher).containers[0]?.envFrom, [{ secretRef: { name: 'logferry-common-env' } }]);
  });

  it('adds volumes and mounts after the chart’s, and spreads only the service that asks', () => {
    assert.deepEqual(
      la.spec.volumes?.map((v) => v.name),
      ['tmp', 'ca', 'scratch'],
    );
    assert.deepEqual(
      la.spec.containers[0]?.volumeMounts?.map((m) => m.mountPath),
      ['/tmp', '/etc/corp-ca', '/scratch'],
    );
    // s3-fetcher mounts mappings.json (the chart's config volume) while adx-ingester runs.
    assert.deepEqual(
      fetcher.spec.volumes?.map((v) => v.name),
      ['tmp', 'config', 'ca'],
    );
    assert.deepEqual(spec(la).topologySpreadConstraints, [spread]);
    assert.equal(spec(fetcher).topologySpreadConstraints, undefined);
  });

  it('are refused by the schema where they would replace what the chart relies on', () => {
    const bad: Record<string, unknown>[] = [
      { podLabels: { 'app.kubernetes.io/component': 'x' } }, // the selector: pods would leave their Deployment
      { laUploader: { podLabels: { 'azure.workload.identity/use': 'false' } } },
      { podAnnotations: { 'checksum/config': 'pinned' } },
      { podLabels: { tier: 'not a label value' } },
      { extraEnvVars: [{ value: 'no name' }] },
      { extraEnvVars: [{ name: 'BOTH', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
      { extraVolumes: [{ name: 'tmp', emptyDir: {} }] }, // the chart's writable /tmp
      { extraVolumeMounts: [{ name: 'x', mountPath: '/etc/logferry' }] },
      { extraVolumeMounts: [{ name: 'x', mountPath: 'relative' }] },
      { extraEnvVarsSecret: 'Not_A_Name' },
      { priorityClassName: 'UPPER' },
      { s3Fetcher: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone' }] } },
    ];
    for (const b of bad) assert.throws(() => renderChart([...PRODUCTION, b]), SchemaError, JSON.stringify(b));
  });
});

describe('helm chart PodDisruptionBudget values', () => {
  it('take minAvailable or maxUnavailable, not both; completion-checker has none to set', () => {
    assert.throws(
      () => renderChart([...PRODUCTION, { s3Fetcher: { pdb: { minAvailable: 1, maxUnavailable: 1 } } }]),
      SchemaError,
    );
    assert.throws(() => renderChart([...PRODUCTION, { completionChecker: { pdb: { create: true } } }]), SchemaError);
    const defaults = renderChart([REQUIRED]);
    for (const pdb of ofKind(defaults, 'PodDisruptionBudget')) assert.equal(pdb.spec?.maxUnavailable, 1);
    assert.equal(named(defaults, 'PodDisruptionBudget', 'rel-logferry-completion-checker'), undefined);
  });

  it('needs an AWS TriggerAuthentication for sqs-poller with KEDA (schema)', () => {
    assert.deepEqual(
      refusedBy(() => renderChart([...PRODUCTION, { sqsPoller: { keda: { enabled: true } } }])),
      [
        'keda.authenticationRef (a TriggerAuthentication with AWS access to the queue depth) is required when keda.enabled',
      ],
    );
  });
});
