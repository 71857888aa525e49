// Every manifest the chart renders (values.yaml with the install's settings, each example, and one value set that
// turns on every optional template path) checked against the Kubernetes API's OpenAPI schemas (kubernetes-models)
// and KEDA's API types (@kubernetes-models/keda, generated from kedacore/keda's v1alpha1 Go types, the source of
// its CRDs), plus the object-name and label rules the API server applies that OpenAPI does not state, and strict
// field validation (./kube-fields.ts). What is not checked (KEDA's CRD markers) is listed in the chart README.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMON_EXTENSIONS, type Manifest, PRODUCTION, RELEASE, renderChart, SOURCES } from './chart-fixture.ts';
import { kubeProblems } from './kube-validate.ts';

/** Every optional template path on: extension points common and per service, KEDA on for every service. */
const EVERY_PATH = [
  ...PRODUCTION,
  {
    global: { imageRegistry: 'mirror.example.com', imagePullSecrets: ['mirror'] },
    image: { pullSecrets: ['acr'] },
    ...COMMON_EXTENSIONS,
    telemetry: { otlpEndpoint: 'http://otel-collector.monitoring:4318' },
    serviceAccount: { annotations: { 'team.example.com/owner': 'secops' } },
    kedaServiceBusAuth: { identityId: '44444444-4444-4444-4444-444444444444' },
    sqsPoller: {
      keda: { enabled: true, authenticationRef: 'logferry-sqs-depth' },
      pdb: { minAvailable: 1 },
      secretEnv: [{ name: 'AWS_ACCESS_KEY_ID', secretName: 'aws', secretKey: 'id' }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'logs', effect: 'NoSchedule' }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] },
            ],
          },
        },
      },
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'topology.kubernetes.io/zone',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'sqs-poller' } },
        },
      ],
      priorityClassName: 'logferry-high',
      podAnnotations: { a: 'b' },
      podLabels: { c: 'd' },
      extraEnvVars: [{ name: 'AZURE_LOG_LEVEL', valueFrom: { secretKeyRef: { name: 'dbg', key: 'level' } } }],
      extraEnvVarsSecret: 'sqs-env',
      extraVolumes: [{ name: 'scratch', emptyDir: { sizeLimit: '16Mi' } }],
      extraVolumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
    },
    blobScanner: {
      keda: { enabled: true },
      pdb: { maxUnavailable: '50%' },
      auth: { apiKey: { secretName: 'logferry-status-api-key' } },
      ingress: { annotations: { 'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600' } },
    },
  },
];

const CASES = [...SOURCES, { name: 'production.yaml with every optional template path', overrides: EVERY_PATH }];

describe('rendered manifests against the Kubernetes and KEDA schemas', () => {
  for (const source of CASES) {
    it(`${source.name}: every manifest is valid`, async () => {
      const docs = renderChart(source.overrides);
      assert.ok(docs.length > 0);
      for (const m of docs) assert.deepEqual(await kubeProblems(m), [], `${m.kind}/${m.metadata.name}`);
    });
  }

  it('covers every kind the chart renders, KEDA included', () => {
    const kinds = new Set(CASES.flatMap((c) => renderChart(c.overrides).map((m) => `${m.apiVersion} ${m.kind}`)));
    for (const k of [
      'apps/v1 Deployment',
      'keda.sh/v1alpha1 ScaledObject',
      'keda.sh/v1alpha1 TriggerAuthentication',
      'policy/v1 PodDisruptionBudget',
      'v1 ServiceAccount',
      'v1 ConfigMap',
      'v1 Service',
      'networking.k8s.io/v1 Ingress',
    ]) {
      assert.ok(kinds.has(k), k);
    }
  });

  it('rejects a broken manifest: the validation bites', async () => {
    const docs = renderChart(EVERY_PATH, RELEASE);
    const REMOVE = Symbol('remove');
    /** A copy of the first rendered manifest of a kind, with the value at path replaced (or removed). */
    const edited = (kind: string, path: (string | number)[], value: unknown): Manifest => {
      const copy = structuredClone(docs.find((d) => d.kind === kind)) as Manifest;
      let node = copy as unknown as Record<string | number, unknown>;
      for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
      const last = path.at(-1)!;
      if (value === REMOVE) delete node[last];
      else node[last] = value;
      return copy;
    };
    const container = ['spec', 'template', 'spec', 'containers', 0];
    const trigger = ['spec', 'triggers', 0];
    const broken: [string, Manifest][] = [
      ['containerPort as a string', edited('Deployment', [...container, 'ports', 0, 'containerPort'], '8080')],
      ['Deployment without a selector', edited('Deployment', ['spec', 'selector'], REMOVE)],
      ['env entry without a name', edited('Deployment', [...container, 'env', 0], { value: 'no name' })],
      [
        'label value over 63 characters',
        edited('Deployment', ['spec', 'template', 'metadata', 'labels', 'tier'], 'x'.repeat(64)),
      ],
      ['ScaledObject minReplicaCount as a string', edited('ScaledObject', ['spec', 'minReplicaCount'], '1')],
      [
        'KEDA trigger metadata value not a string',
        edited('ScaledObject', [...trigger, 'metadata', 'messageCount'], 20),
      ],
      ['KEDA trigger without a type', edited('ScaledObject', [...trigger, 'type'], REMOVE)],
      ['podIdentity without a provider', edited('TriggerAuthentication', ['spec', 'podIdentity', 'provider'], REMOVE)],
      ['PDB maxUnavailable a boolean', edited('PodDisruptionBudget', ['spec', 'maxUnavailable'], true)],
      ['Service name not a DNS label', edited('Service', ['metadata', 'name'], 'Upper-Case')],
      ['Ingress pathType a number', edited('Ingress', ['spec', 'rules', 0, 'http', 'paths', 0, 'pathType'], 7)],
      ['a misspelt pod field', edited('Deployment', ['spec', 'template', 'spec', 'priorityClasName'], 'x')],
      ['a misspelt container field', edited('Deployment', [...container, 'readinesProbe'], {})],
      ['a field KEDA does not have', edited('ScaledObject', ['spec', 'minReplicas'], 1)],
      ['a misspelt trigger field', edited('ScaledObject', [...trigger, 'authRef'], { name: 'x' })],
      ['an unknown metadata field', edited('Service', ['metadata', 'label'], { a: 'b' })],
    ];
    for (const [what, m] of broken) assert.notDeepEqual(await kubeProblems(m), [], `${what} is rejected`);
  });
});
