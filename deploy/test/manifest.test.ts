// shared/src/manifest.ts is the one statement of who publishes and consumes what. These tests hold the
// things that restate it to it: the services' publish() calls, deploy/servicebus/Config.json and the
// chart's KEDA defaults (the rendered triggers are checked per service in helm-chart.test.ts, the
// deployment guide's role table in deployment-guide.test.ts).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { THROUGHPUT_UNITS } from '../../services/blob-scanner/src/pipeline/layout.ts';
import { listenSubscriptions, MANIFEST, sendTopics } from '../../shared/src/manifest.ts';
import { TOPICS } from '../../shared/src/messages/envelope.ts';
import { SERVICES } from '../../shared/src/services.ts';

const root = join(import.meta.dirname, '../..');
const topology = JSON.parse(readFileSync(join(root, 'deploy/servicebus/Config.json'), 'utf8')).UserConfig.Namespaces[0]
  .Topics as { Name: string; Subscriptions: { Name: string }[] }[];

/** Every topic a source tree's publish() calls name literally. */
function publishedIn(dir: string): string[] {
  const sources = (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
  return [...new Set([...sources.matchAll(/\.publish\(\s*'([a-z0-9-]+)'/g)].map((m) => m[1]!))].sort();
}

describe('the service manifest', () => {
  it("lists exactly the topics each service's code publishes to", () => {
    for (const service of SERVICES) {
      assert.deepEqual(
        publishedIn(join(root, 'services', service, 'src')),
        [...MANIFEST[service].publishes].sort(),
        service,
      );
    }
  });

  it('declares every topic and subscription of Config.json, and nothing else', () => {
    assert.deepEqual(topology.map((t) => t.Name).sort(), [...TOPICS].sort());
    const inConfig = topology.flatMap((t) => t.Subscriptions.map((s) => `${t.Name}/${s.Name}`)).sort();
    assert.deepEqual(inConfig, SERVICES.flatMap((s) => listenSubscriptions(s)).sort());
  });

  it("gives the chart's default KEDA triggers exactly the subscriptions each service consumes", () => {
    const values = parse(readFileSync(join(root, 'deploy/helm/logferry/values.yaml'), 'utf8')) as Record<
      string,
      {
        keda?: {
          topic?: string;
          subscription?: string;
          additionalSubscriptions?: { topic: string; subscription: string }[];
        };
      }
    >;
    const key = (service: string) => service.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    for (const service of SERVICES) {
      const keda = values[key(service)]?.keda;
      // blob-scanner's subscription is a live feed for its page, not a backlog to scale on.
      if (keda?.topic === undefined) {
        assert.ok(service === 'blob-scanner' || listenSubscriptions(service).length === 0, `${service} has no trigger`);
        continue;
      }
      const triggers = [
        { topic: keda.topic, subscription: keda.subscription },
        ...(keda.additionalSubscriptions ?? []),
      ];
      assert.deepEqual(
        triggers.map((t) => `${t.topic}/${t.subscription}`).sort(),
        listenSubscriptions(service),
        service,
      );
    }
  });

  it('needs Send on every topic a service publishes to or consumes from (retry copies)', () => {
    assert.deepEqual(sendTopics('la-uploader'), ['staged-batches']);
    assert.deepEqual(sendTopics('completion-checker'), ['ingest-requests', 'ingestion-results']);
    assert.deepEqual(sendTopics('adx-ingester'), ['ingest-requests', 'ingestion-results', 'staged-batches']);
  });

  it('declares that blob-scanner replays to the topic of every subscription its status page can replay', () => {
    const pageTopics = [...new Set(Object.keys(THROUGHPUT_UNITS).map((pair) => pair.split('/')[0]!))].sort();
    assert.deepEqual([...MANIFEST['blob-scanner'].replaysTo].sort(), pageTopics);
    assert.deepEqual(sendTopics('blob-scanner'), [
      'ingest-requests',
      'ingestion-results',
      's3-objects',
      'staged-batches',
    ]);
    // The CLI's `dlq replay` may name any subscription of Config.json.
    assert.deepEqual([...MANIFEST.cli.replaysTo].sort(), [...new Set(topology.map((t) => t.Name))].sort());
  });
});
