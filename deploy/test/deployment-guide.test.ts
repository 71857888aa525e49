// docs/deployment.md as a new user follows it: every command in a fenced bash block; the values file it writes,
// with each variable filled by a value of the right shape, has no placeholder left, passes the chart's schema,
// renders (with and without the routes file), gives each service an environment its config accepts, passes the
// Kubernetes schemas and names only Secrets the guide creates; the JSON files it writes parse; and the names it
// uses (ServiceAccount subject, Deployments) are the ones the chart renders for release `logferry`. The checks
// against what the services do are in deployment-guide-azure.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ofKind } from './chart-fixture.ts';
import {
  allBash,
  bash,
  guide,
  installCommand,
  NS,
  PLACEHOLDER,
  rendered,
  resolve,
  valuesDoc,
} from './guide-fixture.ts';
import { expand, heredocs, referenced } from './guide-shell.ts';
import { kubeProblems } from './kube-validate.ts';
import { serviceEnvs } from './service-env.ts';

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

  for (const withRoutes of [false, true]) {
    it(`renders manifests the Kubernetes and KEDA schemas accept, for environments every service accepts${withRoutes ? ' (with the routes of step 4)' : ''}`, async () => {
      if (withRoutes) assert.deepEqual(installCommand().optional, ['logferry-routes.yaml']);
      const docs = rendered(withRoutes);
      for (const m of docs) assert.deepEqual(await kubeProblems(m), [], `${m.kind}/${m.metadata.name}`);
      const envs = await serviceEnvs(docs);
      assert.equal(envs.length, 6, 'all six services');
      for (const s of envs) assert.deepEqual(s.problems, [], s.service);
      const fetcher = envs.find((s) => s.service === 's3-fetcher');
      assert.equal(fetcher?.env.ROUTES_FILE !== undefined, withRoutes, 's3-fetcher reads routes exactly with the file');
    });
  }

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
