// The chart as the tests see it: its values and schema, a renderer (./helm-render.ts) and the value sets the
// tests render — values.yaml with what the install command supplies, and each example. renderChart() does what
// `helm template` does in order: coalesce the values, check them against values.schema.json, render, split
// the documents.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { coalesceValues, loadChart } from './helm-render.ts';

export const chart = join(import.meta.dirname, '../helm/logferry');
export const read = (p: string) => readFileSync(join(chart, p), 'utf8');
export const values = parse(read('values.yaml')) as Record<string, unknown>;
export const schema = JSON.parse(read('values.schema.json')) as object;
export const validateValues = new Ajv({ allErrors: true, strict: false }).compile(schema);
export const renderer = loadChart(chart);
export const RELEASE = { name: 'rel', namespace: 'logferry' };
export const FULLNAME = 'rel-logferry';

/** Values that fail values.schema.json: Helm stops here, before rendering. */
export class SchemaError extends Error {
  override name = 'SchemaError';
  readonly errors: unknown[];
  constructor(errors: unknown[]) {
    super(`values don't meet the specifications of the schema: ${JSON.stringify(errors)}`);
    this.errors = errors;
  }
}

/**
 * The descriptions of the schema's conditional rules (allOf if/then) that refused the values passed to render, so
 * a test can say which rule bit; [] when rendering got past the schema.
 */
export function refusedBy(render: () => unknown): string[] {
  try {
    render();
    return [];
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    const rules = new Set<string>();
    for (const e of err.errors as { keyword: string; schemaPath: string }[]) {
      if (e.keyword !== 'if') continue;
      let node: unknown = schema;
      for (const key of e.schemaPath.replace(/^#\//, '').split('/').slice(0, -1)) {
        node = (node as Record<string, unknown>)[key];
      }
      rules.add(String((node as { description?: string }).description));
    }
    return [...rules];
  }
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
export interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
export interface PodSpec {
  serviceAccountName?: string;
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}
export interface Trigger {
  type: string;
  metadata: Record<string, string>;
  authenticationRef?: { name: string };
}
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template?: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
    maxUnavailable?: number | string;
    scaleTargetRef?: { name: string };
    triggers?: Trigger[];
    podIdentity?: { provider: string; identityId?: string };
    ingressClassName?: string;
    tls?: { hosts: string[]; secretName: string }[];
    rules?: {
      host: string;
      http: { paths: { path: string; backend: { service: { name: string; port: { name?: string } } } }[] };
    }[];
    ports?: { name: string; port: number; targetPort: string | number }[];
  };
  data?: Record<string, string>;
}

export function mergedValues(overrides: readonly unknown[]): Record<string, unknown> {
  return overrides.reduce<unknown>((acc, o) => coalesceValues(acc, o), values) as Record<string, unknown>;
}

/** `helm template` as modelled by ./helm-render.ts (schema check included), parsed into manifests. */
export function renderChart(overrides: readonly unknown[], release = RELEASE): Manifest[] {
  const merged = mergedValues(overrides);
  if (!validateValues(merged)) throw new SchemaError(validateValues.errors ?? []);
  const docs: Manifest[] = [];
  for (const [file, text] of renderer.render(merged, release)) {
    for (const doc of parseAllDocuments(text)) {
      assert.deepEqual(doc.errors, [], `${file} renders valid YAML`);
      const m = doc.toJS() as Manifest | null;
      if (m === null) continue;
      assert.ok(m.apiVersion && m.kind && m.metadata?.name, `${file}: a document without apiVersion, kind or name`);
      docs.push(m);
    }
  }
  const ids = docs.map((d) => `${d.kind}/${d.metadata.name}`);
  assert.deepEqual(
    ids.filter((n, i) => ids.indexOf(n) !== i),
    [],
    'no two resources share a kind and name',
  );
  return docs;
}

export const ofKind = (docs: Manifest[], kind: string) => docs.filter((d) => d.kind === kind);
export const named = (docs: Manifest[], kind: string, name: string) =>
  docs.find((d) => d.kind === kind && d.metadata.name === name);

/** What values.yaml leaves to the installer (docs/deployment.md's values file sets these and more). */
export const REQUIRED = {
  azure: {
    tenantId: '00000000-0000-0000-0000-000000000000',
    serviceBusNamespace: 'logferry-test.servicebus.windows.net',
    storageAccountUrl: 'https://logferrytest.blob.core.windows.net',
    storageTableUrl: 'https://logferrytest.table.core.windows.net',
  },
  aws: {
    region: 'us-east-1',
    roleArn: 'arn:aws:iam::123456789012:role/logferry-reader',
    allowedBuckets: ['incydr-logs'],
  },
  adx: {
    clusterUri: 'https://test.westeurope.kusto.windows.net',
    ingestUri: 'https://ingest-test.westeurope.kusto.windows.net',
    database: 'SecurityLogs',
  },
  serviceAccount: { workloadIdentity: { clientId: '11111111-1111-1111-1111-111111111111' } },
  sqsPoller: { env: { SQS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/incydr-events' } },
  laUploader: {
    env: {
      LOGS_INGESTION_ENDPOINT: 'https://logferry-test.westeurope-1.ingest.monitor.azure.com',
      DCR_IMMUTABLE_ID: `dcr-${'0'.repeat(32)}`,
      DCR_STREAM: 'Custom-Code42FileEvents_CL',
    },
  },
  blobScanner: { auth: { apiKey: { secretName: 'logferry-status-api-key' } } },
};
export const EXAMPLES = readdirSync(join(chart, 'examples')).map((f) => ({
  name: `examples/${f}`,
  overrides: [parse(read(`examples/${f}`))] as unknown[],
}));
export const SOURCES = [
  { name: 'values.yaml with the required settings', overrides: [REQUIRED] as unknown[] },
  ...EXAMPLES,
];
export const PRODUCTION = [parse(read('examples/production.yaml'))] as unknown[];

/** Every common pod extension point set (podAnnotations … extraVolumeMounts), for the tests that render them. */
export const COMMON_EXTENSIONS = {
  podAnnotations: { 'team.example.com/owner': 'secops' },
  podLabels: { tier: 'ingest' },
  priorityClassName: 'logferry-normal',
  extraEnvVars: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=200' }],
  extraEnvVarsSecret: 'logferry-common-env',
  extraVolumes: [{ name: 'ca', configMap: { name: 'corp-ca' } }],
  extraVolumeMounts: [{ name: 'ca', mountPath: '/etc/corp-ca', readOnly: true }],
};

/** The schema rule that refuses blob-scanner without a way to authenticate its API's callers. */
export const STATUS_API_RULE =
  "blob-scanner's status API needs a way to authenticate callers: auth.audience (Entra ID tokens) and/or auth.apiKey.secretName";
