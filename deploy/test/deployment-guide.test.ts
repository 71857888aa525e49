// docs/deployment.md as a new user follows it: every command in a fenced bash block; the values file it writes,
// with each variable filled by a value of the right shape, has no placeholder left, passes the chart's schema,
// renders, gives each service an environment its config accepts, passes the Kubernetes schemas and names only
// Secrets the guide creates; the JSON files it writes parse; the DCR stream and the table have the same columns,
// covering what s3-fetcher adds; the Service Bus roles are what the services' code sends and receives; and the
// names it uses (ServiceAccount subject, Deployments) are the ones the chart renders for release `logferry`.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createEnricher } from '../../services/s3-fetcher/src/enrich.ts';
import { listenSubscriptions, MANIFEST } from '../../shared/src/manifest.ts';
import { isService } from '../../shared/src/services.ts';
import { type Manifest, ofKind, renderChart } from './chart-fixture.ts';
import { expand, heredocs, readGuide, referenced, resolver } from './guide-shell.ts';
import { kubeProblems } from './kube-validate.ts';
import { serviceEnvs } from './service-env.ts';

const root = join(import.meta.dirname, '../..');
const guide = readGuide(readFileSync(join(root, 'docs/deployment.md'), 'utf8'));
const bash = guide.fences.filter((f) => f.lang === 'bash');
const allBash = bash.map((f) => f.text).join('\n');

/** What the guide's command substitutions would print: values of the shape Azure and AWS return. */
const SAMPLES: Record<string, string> = {
  TENANT: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  SUB: '3b1e9a2c-5d4f-4e6a-8b7c-9d0e1f2a3b4c',
  AWS_ACCOUNT: '210987654321',
  OIDC_ISSUER: 'https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/6a1b2c3d/',
  CLIENT_ID: '5c7a1e2b-3d4f-4a5b-8c6d-7e8f9a0b1c2d',
  PRINCIPAL_ID: '8d9e0f1a-2b3c-4d5e-9f6a-7b8c9d0e1f2a',
  KEDA_CLIENT_ID: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  KEDA_PRINCIPAL_ID: '1a2b3c4d-5e6f-4a7b-9c8d-0e1f2a3b4c5d',
  SB_ID:
    '/subscriptions/3b1e9a2c-5d4f-4e6a-8b7c-9d0e1f2a3b4c/resourceGroups/logferry-prod/providers/Microsoft.ServiceBus/namespaces/logferry-prod-sb',
  ME: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e',
  ST_ID:
    '/subscriptions/3b1e9a2c-5d4f-4e6a-8b7c-9d0e1f2a3b4c/resourceGroups/logferry-prod/providers/Microsoft.Storage/storageAccounts/logferryprodst',
  LAW_ID:
    '/subscriptions/3b1e9a2c-5d4f-4e6a-8b7c-9d0e1f2a3b4c/resourceGroups/logferry-prod/providers/Microsoft.OperationalInsights/workspaces/logferry-prod-law',
  DCE_ID:
    '/subscriptions/3b1e9a2c-5d4f-4e6a-8b7c-9d0e1f2a3b4c/resourceGroups/logferry-prod/providers/Microsoft.Insights/dataCollectionEndpoints/logferry-prod-dce',
  DCE_URL: 'https://logferry-prod-dce-k3x9.westeurope-1.ingest.monitor.azure.com',
  DCR_ID:
    '/subscriptions/3b1e9a2c-5d4f-4e6a-8b7c-9d0e1f2a3b4c/resourceGroups/logferry-prod/providers/Microsoft.Insights/dataCollectionRules/logferry-prod-dcr',
  DCR_IMMUTABLE_ID: 'dcr-7f3e2d1c0b9a48e7a6d5c4b3a2f1e0d9',
  APPINSIGHTS:
    'InstrumentationKey=4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/',
  ADX_URI: 'https://logferryprodadx.westeurope.kusto.windows.net',
  ADX_INGEST_URI: 'https://ingest-logferryprodadx.westeurope.kusto.windows.net',
  ADX_PRINCIPAL_ID: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
  AUD_APP: '4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a',
  ROLE_ARN: 'arn:aws:iam::210987654321:role/logferry-reader',
  DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/210987654321/code42-s3-events-dlq',
  DLQ_ARN: 'arn:aws:sqs:us-east-1:210987654321:code42-s3-events-dlq',
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/210987654321/code42-s3-events',
  STATUS_APP_ID: '6f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b9c',
  STATUS_APP_OBJECT_ID: '7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d',
  ROLE_ID: '8b9c0d1e-2f3a-4b4c-8d5e-6f7a8b9c0d1e',
  STATUS_SP_ID: '9c0d1e2f-3a4b-4c5d-9e6f-7a8b9c0d1e2f',
  SCOPE_ID: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f3a',
  TAG: '3f9c2ab',
  TOKEN: 'eyJ0eXAiOiJKV1QifQ.e30.sig',
  // Chosen in step 0, where the guide's own value is an example domain: a user sets their own.
  HOST: 'logferry.secops.contoso.net',
};
const resolve = resolver(guide, SAMPLES);

/** Literals that mark a value nobody has set yet. */
const PLACEHOLDER =
  /<[^>]*>|\bexample\.(com|org|net)\b|00000000-0000|11111111-1111|123456789012|myregistry|mycluster|changeme|replace[-_ ]?me|\bTODO\b|\bxxx+\b/i;

const valuesDoc = heredocs(guide).find((h) => h.target === 'logferry-values.yaml');

/** The helm command that installs the release, and the values files and --set flags it passes. */
function installCommand(): { release: string; files: string[]; sets: string[] } {
  const line = allBash.replace(/\\\n\s*/g, ' ').match(/^helm upgrade --install (\S+) deploy\/helm\/logferry (.*)$/m);
  assert.ok(line, 'the guide installs the chart with helm upgrade --install <release> deploy/helm/logferry');
  const args = line[2]!;
  return {
    release: line[1]!,
    files: [...args.matchAll(/(?:-f|--values) (\S+)/g)].map((m) => m[1]!),
    sets: [...args.matchAll(/--set (\S+)/g)].map((m) => m[1]!),
  };
}

/** The values the guide installs, with the samples for its variables; the mappings file as its printf writes it. */
function installedValues(): unknown[] {
  const { files, sets } = installCommand();
  assert.deepEqual(sets, [], 'every value is in the values file, none on the command line');
  return files.map((file) => {
    if (file === 'logferry-values.yaml') return parse(expand(valuesDoc!.body, resolve));
    if (file === 'logferry-mappings.yaml') {
      assert.ok(allBash.includes(`printf '{"mappings": %s}\\n' "$(cat mappings.json)" > logferry-mappings.yaml`));
      return parse(`{"mappings": ${readFileSync(join(root, 'mappings.json'), 'utf8')}}`);
    }
    throw new Error(`the guide installs ${file}, which it does not write`);
  });
}

const NS = resolve('NS');
function rendered(): Manifest[] {
  return renderChart(installedValues(), { name: installCommand().release, namespace: NS });
}

describe('docs/deployment.md: commands', () => {
  const COMMAND = /^(az|aws|kubectl|helm|curl|npx|npm|node|docker|openssl|git|grep|cat|printf|uuidgen|logferry|sed)\s/;

  it('puts every command in a fenced bash block, none in the prose', () => {
    const inline: string[] = [];
    const isCommand = (code: string) => COMMAND.test(code) && /\$|\s-|:\/\//.test(code);
    for (const { line, text } of guide.prose) {
      const trimmed = text.trim();
      if (isCommand(trimmed) || /^\$ /.test(trimmed)) inline.push(`${line}: ${trimmed}`);
    }
    // Inline code spans may wrap over lines: read them per paragraph. A mention (`az login`, `logferry dlq
    // replay`) is prose; with a variable, a flag or a URL it is a command to copy.
    const paragraphs: { line: number; text: string }[] = [];
    for (const p of guide.prose) {
      const last = paragraphs.at(-1);
      if (p.text.trim() === '') paragraphs.push({ line: p.line + 1, text: '' });
      else if (last && last.text !== '' && p.line === last.line + last.text.split('\n').length)
        last.text += `\n${p.text}`;
      else paragraphs.push({ line: p.line, text: p.text });
    }
    for (const para of paragraphs) {
      for (const m of para.text.matchAll(/`([^`]+)`/g)) {
        const code = m[1]!.replace(/\s+/g, ' ').trim();
        if (isCommand(code)) inline.push(`${para.line}: ${code}`);
      }
    }
    assert.deepEqual(inline, []);
  });

  it('marks every block of commands as bash (a block without a language is a diagram)', () => {
    for (const f of guide.fences.filter((x) => x.lang === '')) {
      for (const l of f.text.split('\n')) assert.doesNotMatch(l.trim(), COMMAND, `line ${f.line}: ${l}`);
    }
  });

  it('sets every variable a bash block uses, in an earlier or the same block', () => {
    const local = new Set(['t', 'ts', 'c', 'p', 's', 'role', 'f']); // loop variables
    bash.forEach((fence, i) => {
      const text = fence.text.replace(/<<'[A-Z]+'[\s\S]*?^[A-Z]+$/gm, ''); // quoted heredocs do not expand
      for (const name of referenced(text.replace(/\\\$/g, ''))) {
        if (local.has(name) || /^[0-9]$/.test(name)) continue;
        const setEarlier = bash.slice(0, i + 1).some((f) => new RegExp(`(^|\\s)${name}=`, 'm').test(f.text));
        assert.ok(setEarlier, `$${name} (block at line ${fence.line}) is not set before it is used`);
      }
    });
  });

  it('writes JSON files that parse once the variables are set, policies inside them too', () => {
    const json = heredocs(guide).filter((h) => h.target.endsWith('.json'));
    assert.ok(json.length >= 5, 'dcr.json, trust.json, policy.json, queue-attributes.json, notification.json');
    for (const h of json) {
      const doc = JSON.parse(expand(h.body, resolve)) as Record<string, unknown>;
      for (const [k, v] of Object.entries(doc)) {
        if (typeof v === 'string' && v.startsWith('{')) assert.doesNotThrow(() => JSON.parse(v), `${h.target} ${k}`);
      }
    }
  });
});

describe('docs/deployment.md: the values file it installs', () => {
  it('is written by the guide and installed by its helm command', () => {
    assert.ok(valuesDoc?.expands, 'cat > logferry-values.yaml <<YAML (unquoted: the variables expand)');
    assert.ok(installCommand().files.includes('logferry-values.yaml'));
    assert.equal(installCommand().release, 'logferry');
  });

  it('lists every variable it uses in the table that follows it, each set earlier in the guide', () => {
    const body = valuesDoc!.body;
    const proseAfter = guide.prose.filter((p) => p.line > valuesDoc!.fence.line).map((p) => p.text);
    const table = proseAfter
      .slice(
        0,
        proseAfter.findIndex((l, i) => i > 2 && l.trim() === ''),
      )
      .join('\n');
    for (const name of referenced(body)) {
      assert.ok(table.includes(`$${name}`), `$${name} is listed in the table of values`);
      assert.doesNotThrow(() => resolve(name), `$${name} is set`);
    }
  });

  it('has no placeholder left once the listed values are set', () => {
    assert.doesNotMatch(valuesDoc!.body, PLACEHOLDER, 'no example value written into the file');
    const filled = expand(valuesDoc!.body, resolve);
    assert.doesNotMatch(filled, /\$|""/, 'every variable expands to something');
    assert.doesNotMatch(filled, PLACEHOLDER);
    // The file sets every value values.yaml leaves empty that this deployment needs.
    assert.doesNotThrow(() => rendered());
  });

  it('renders manifests the Kubernetes and KEDA schemas accept, for environments every service accepts', async () => {
    const docs = rendered();
    for (const m of docs) assert.deepEqual(await kubeProblems(m), [], `${m.kind}/${m.metadata.name}`);
    const envs = await serviceEnvs(docs);
    assert.equal(envs.length, 6, 'all six services');
    for (const s of envs) assert.deepEqual(s.problems, [], s.service);
  });

  it('references only Secrets the guide creates, with the keys it creates', () => {
    const created = new Map<string, string[]>();
    for (const m of allBash.matchAll(/kubectl -n \$NS create secret (generic|tls) (\S+)(.*)$/gm)) {
      const keys =
        m[1] === 'tls' ? ['tls.crt', 'tls.key'] : [...m[3]!.matchAll(/--from-literal=([^=]+)=/g)].map((k) => k[1]!);
      created.set(m[2]!, keys);
    }
    const refs: { name: string; key?: string; where: string }[] = [];
    for (const d of rendered()) {
      const text = JSON.stringify(d);
      for (const m of text.matchAll(/"secretKeyRef":\{"name":"([^"]+)","key":"([^"]+)"\}/g))
        refs.push({ name: m[1]!, key: m[2]!, where: d.metadata.name });
      for (const m of text.matchAll(/"secretRef":\{"name":"([^"]+)"\}/g))
        refs.push({ name: m[1]!, where: d.metadata.name });
      for (const t of (d.spec?.tls ?? []) as { secretName: string }[])
        refs.push({ name: t.secretName, key: 'tls.crt', where: d.metadata.name });
    }
    assert.ok(refs.some((r) => r.name === 'logferry-appinsights'));
    assert.ok(refs.some((r) => r.name === 'logferry-tls'));
    for (const r of refs) {
      assert.ok(created.has(r.name), `${r.where} references Secret ${r.name}, which the guide does not create`);
      if (r.key) assert.ok(created.get(r.name)?.includes(r.key), `${r.name} has key ${r.key}`);
    }
  });

  it('federates the identity with the ServiceAccount the chart renders, and execs into Deployments that exist', () => {
    const docs = rendered();
    const sa = ofKind(docs, 'ServiceAccount')[0]?.metadata.name;
    const subject = /--identity-name \$ID [\s\S]*?--subject "([^"]+)"/.exec(allBash)?.[1];
    assert.equal(expand(subject ?? '', resolve), `system:serviceaccount:${NS}:${sa}`);
    const loop = /for s in ([a-z0-9 -]+); do\n\s+kubectl -n \$NS exec deploy\/(\S+)\$s /.exec(allBash);
    assert.ok(loop, 'the config check loop');
    const deployments = ofKind(docs, 'Deployment').map((d) => d.metadata.name);
    for (const s of loop[1]!.trim().split(/\s+/)) assert.ok(deployments.includes(`${loop[2]}${s}`), s);
    assert.equal(loop[1]!.trim().split(/\s+/).length, 6);
  });
});

describe('docs/deployment.md: Log Analytics table and DCR stream', () => {
  const tableCreate = allBash.replace(/\\\n\s*/g, ' ').match(/workspace table create .*--columns (.*)$/m)?.[1];
  const tableColumns = new Map(
    (tableCreate ?? '')
      .trim()
      .split(/\s+/)
      .map((c) => c.split('=') as [string, string]),
  );
  const dcr = JSON.parse(expand(heredocs(guide).find((h) => h.target === 'dcr.json')!.body, resolve));
  const stream = dcr.properties.streamDeclarations[`Custom-${resolve('TABLE')}`]?.columns as
    | { name: string; type: string }[]
    | undefined;

  it('declares in the stream exactly the table columns, with the same types', () => {
    assert.ok(stream && tableColumns.size > 0);
    assert.deepEqual(new Map(stream.map((c) => [c.name, c.type])), tableColumns);
    assert.equal(dcr.properties.dataFlows[0].outputStream, `Custom-${resolve('TABLE')}`);
  });

  it('has a column for every field s3-fetcher adds to a record (versioned bucket)', () => {
    const enricher = createEnricher({
      timeField: undefined,
      bucket: 'b',
      key: 'k',
      versionId: 'v1',
      fallbackTime: '2026-12-01T00:00:00.000Z',
    });
    const out = enricher.serialize({ value: { eventId: 'e' }, raw: undefined, position: 1 } as never);
    const record = JSON.parse(out.head.toString() + (out.tail ?? '')) as Record<string, unknown>;
    for (const field of Object.keys(record).filter((k) => k !== 'eventId')) {
      assert.ok(tableColumns.has(field), `${field} is a column of the table and the stream`);
    }
  });
});

describe('docs/deployment.md: Service Bus roles', () => {
  const servicesDir = join(root, 'services');
  const services = readdirSync(servicesDir).filter((s) => !s.startsWith('.'));
  const topology = JSON.parse(readFileSync(join(root, 'deploy/servicebus/Config.json'), 'utf8')).UserConfig
    .Namespaces[0].Topics as { Name: string; Subscriptions: { Name: string }[] }[];
  /**
   * What the services do, as shared/src/manifest.ts declares it; manifest.test.ts holds the manifest to
   * the code's publish() calls and to Config.json, so the guide cannot drift from either.
   */
  const truth = services.filter(isService).map((svc) => {
    const m = MANIFEST[svc];
    return {
      svc,
      publishes: [...m.publishes].sort(),
      retries: [...new Set(m.consumes.map((c) => c.topic))].sort(),
      listens: listenSubscriptions(svc),
    };
  });
  const cells = (s: string) =>
    s.trim()
      ? s
          .split(',')
          .map((x) => x.trim())
          .sort()
      : [];
  const table = new Map(
    guide.prose
      .map((p) => p.text.split('|').map((c) => c.trim()))
      .filter((c) => c.length === 6 && services.includes(c[1]!))
      .map((c) => [c[1]!, { publishes: cells(c[2]!), retries: cells(c[3]!), listens: cells(c[4]!) }]),
  );
  const loopWords = (re: RegExp) =>
    (re.exec(allBash.replace(/\\\n\s*/g, ' '))?.[1] ?? '').trim().split(/\s+/).filter(Boolean).sort();

  it('documents per service what its code publishes, retries on and listens on', () => {
    assert.ok(
      truth.every((t) => t.publishes.length + t.listens.length > 0),
      'the scan finds each service',
    );
    for (const t of truth) {
      assert.deepEqual(table.get(t.svc), { publishes: t.publishes, retries: t.retries, listens: t.listens }, t.svc);
    }
  });

  it('grants the pods’ identity Send on exactly those topics and Listen on exactly those subscriptions', () => {
    const send = loopWords(/for t in ([a-z0-9 -]+); do\s+az role assignment create [^;]*Data Sender/);
    const listen = loopWords(/for ts in ([a-z0-9/ -]+); do\s+az role assignment create [^;]*Data Receiver/);
    assert.deepEqual(send, [...new Set(truth.flatMap((t) => [...t.publishes, ...t.retries]))].sort());
    assert.deepEqual(listen, truth.flatMap((t) => t.listens).sort());
    assert.deepEqual(listen, topology.flatMap((t) => t.Subscriptions.map((s) => `${t.Name}/${s.Name}`)).sort());
  });

  it('federates and grants KEDA’s identity, then restarts the operator', () => {
    assert.match(allBash, /--subject system:serviceaccount:kube-system:keda-operator/);
    assert.match(allBash, /--assignee-object-id \$KEDA_PRINCIPAL_ID [^\n]*\n?\s*--role "Azure Service Bus Data Owner"/);
    assert.match(allBash, /kubectl -n kube-system rollout restart deployment keda-operator/);
    const auth = ofKind(rendered(), 'TriggerAuthentication')[0];
    assert.equal((auth?.spec?.podIdentity as { identityId?: string } | undefined)?.identityId, SAMPLES.KEDA_CLIENT_ID);
  });
});
