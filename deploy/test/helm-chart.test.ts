// No helm binary exists here: these tests check what can be checked without rendering —
// values and examples against values.schema.json, every `.Values.*` a template reads exists,
// every value is documented with @param, template blocks balance, and per-service resources exist.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

const chart = join(import.meta.dirname, '../helm/logferry');
const read = (p: string) => readFileSync(join(chart, p), 'utf8');
const values = parse(read('values.yaml')) as Record<string, unknown>;
const schema = JSON.parse(read('values.schema.json')) as object;
const templates = readdirSync(join(chart, 'templates')).map((f) => ({ name: f, text: read(`templates/${f}`) }));
const SERVICES = ['sqsPoller', 's3Fetcher', 'laUploader', 'blobScanner', 'adxIngester', 'completionChecker'];

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
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

  it('values.yaml satisfies values.schema.json', () => {
    assert.ok(validate(values), JSON.stringify(validate.errors, null, 2));
  });

  for (const example of readdirSync(join(chart, 'examples'))) {
    it(`examples/${example} merged over values.yaml satisfies the schema`, () => {
      const merged = deepMerge(values, parse(read(`examples/${example}`)));
      assert.ok(validate(merged), JSON.stringify(validate.errors, null, 2));
    });
  }

  it('the schema refuses what would be unsafe or wrong', () => {
    const bad = [
      deepMerge(values, { containerSecurityContext: { readOnlyRootFilesystem: false } }),
      deepMerge(values, { podSecurityContext: { runAsNonRoot: false } }),
      deepMerge(values, { completionChecker: { replicaCount: 2 } }),
      deepMerge(values, { aws: { roleArn: 'not-an-arn' } }),
      deepMerge(values, { laUploader: { keda: { topic: 'no-such-topic' } } }),
      deepMerge(values, { sqsPoller: { env: { 'bad name': 'x' } } }),
      deepMerge(values, { unknownTopLevel: true }),
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
      const keda = (values[s] as { keda: { topic: string; subscription: string } }).keda;
      assert.ok(subs.has(`${keda.topic}/${keda.subscription}`), `${keda.topic}/${keda.subscription} is in Config.json`);
    }
  });
});
