// docs/deployment.md against what the services do: the Log Analytics tables and the DCR streams have the same
// columns and cover what s3-fetcher adds, every route goes to a declared stream, and the Service Bus roles and the
// per-service table are those of shared/src/manifest.ts; KEDA's identity is federated, granted and restarted.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createEnricher } from '../../services/s3-fetcher/src/enrich.ts';
import { listenSubscriptions, MANIFEST } from '../../shared/src/manifest.ts';
import { isService } from '../../shared/src/services.ts';
import { ofKind } from './chart-fixture.ts';
import { allBash, guide, rendered, resolve, root, routesValues, SAMPLES } from './guide-fixture.ts';
import { expand, heredocs } from './guide-shell.ts';

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

  it("sends every route to a stream of the guide's DCR, and each plain flow into a table of the stream's columns", () => {
    const sources = JSON.parse(expand(heredocs(guide).find((h) => h.target === 'dcr-sources.json')!.body, resolve));
    const declared = sources.properties.streamDeclarations as Record<
      string,
      { columns: { name: string; type: string }[] }
    >;
    const routes = (routesValues() as { routes: Record<string, { logsIngestion?: { stream?: string } }> }).routes;
    for (const [name, route] of Object.entries(routes)) {
      if (name.startsWith('$')) continue;
      assert.ok(route.logsIngestion?.stream && declared[route.logsIngestion.stream], `${name}: its stream is declared`);
    }
    const tables = new Map<string, Map<string, string>>();
    for (const m of allBash.replace(/\\\n\s*/g, ' ').matchAll(/workspace table create .* -n (\S+) --columns (.*)$/gm)) {
      tables.set(
        `Custom-${expand(m[1]!, resolve)}`,
        new Map(
          m[2]!
            .trim()
            .split(/\s+/)
            .map((c) => c.split('=') as [string, string]),
        ),
      );
    }
    for (const flow of sources.properties.dataFlows as {
      streams: string[];
      outputStream: string;
      transformKql: string;
    }[]) {
      assert.ok(tables.has(flow.outputStream), `${flow.outputStream} is a table the guide creates`);
      if (flow.transformKql !== 'source') continue; // a transformation renames columns: checked against Azure only
      const stream = flow.streams[0]!;
      assert.deepEqual(
        new Map(declared[stream]!.columns.map((c) => [c.name, c.type])),
        tables.get(flow.outputStream),
        stream,
      );
    }
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
      replays: [...m.replaysTo].sort(),
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
      .filter((c) => c.length === 7 && services.includes(c[1]!))
      .map((c) => [
        c[1]!,
        { publishes: cells(c[2]!), replays: cells(c[3]!), retries: cells(c[4]!), listens: cells(c[5]!) },
      ]),
  );
  const loopWords = (re: RegExp) =>
    (re.exec(allBash.replace(/\\\n\s*/g, ' '))?.[1] ?? '').trim().split(/\s+/).filter(Boolean).sort();

  it('documents per service what its code publishes, replays dead letters to, retries on and listens on', () => {
    assert.ok(
      truth.every((t) => t.publishes.length + t.listens.length > 0),
      'the scan finds each service',
    );
    for (const t of truth) {
      const { svc, ...rights } = t;
      assert.deepEqual(table.get(svc), rights, svc);
    }
  });

  it('grants the pods’ identity Send on exactly those topics and Listen on exactly those subscriptions', () => {
    const send = loopWords(/for t in ([a-z0-9 -]+); do\s+az role assignment create [^;]*Data Sender/);
    const listen = loopWords(/for ts in ([a-z0-9/ -]+); do\s+az role assignment create [^;]*Data Receiver/);
    assert.deepEqual(send, [...new Set(truth.flatMap((t) => [...t.publishes, ...t.replays, ...t.retries]))].sort());
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
