// The health Services and blob-scanner's READINESS_URLS: the overview's readiness asks each service's /readyz by a
// Service name, so every URL must name a rendered Service whose port reaches that service's health container port.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FULLNAME, type Manifest, named, ofKind, PRODUCTION, renderChart, SOURCES } from './chart-fixture.ts';

const readinessUrls = (docs: Manifest[]) =>
  named(docs, 'Deployment', `${FULLNAME}-blob-scanner`)?.spec?.template?.spec.containers[0]?.env?.find(
    (e) => e.name === 'READINESS_URLS',
  )?.value;

const healthServices = (docs: Manifest[]) => ofKind(docs, 'Service').filter((s) => s.metadata.name.endsWith('-health'));

describe('helm chart: health Services and the overview readiness', () => {
  for (const { name, overrides } of SOURCES) {
    it(`${name}: READINESS_URLS names exactly the rendered health Services and their ports`, () => {
      const docs = renderChart(overrides);
      const deployments = ofKind(docs, 'Deployment');
      if (!named(docs, 'Deployment', `${FULLNAME}-blob-scanner`)) {
        assert.equal(readinessUrls(docs), undefined);
        return;
      }
      const entries = (readinessUrls(docs) ?? '').split(',').map((entry) => {
        const [service = '', url = ''] = entry.split(/=(.*)/s);
        return { service, url: new URL(url) };
      });
      const components = deployments.map((d) => d.spec?.template?.metadata.labels['app.kubernetes.io/component']);
      assert.deepEqual(entries.map((e) => e.service).sort(), components.sort(), 'one URL per deployed service');
      assert.deepEqual(
        entries.map((e) => e.url.hostname).sort(),
        healthServices(docs)
          .map((s) => s.metadata.name)
          .sort(),
        'every URL names a rendered health Service, and every one is named',
      );
      for (const { service, url } of entries) {
        assert.equal(url.pathname, '/readyz');
        const svc = named(docs, 'Service', url.hostname);
        assert.ok(svc);
        const selector = (svc.spec?.selector ?? {}) as Record<string, string>;
        assert.equal(selector['app.kubernetes.io/component'], service);
        const port = svc.spec?.ports?.find((p) => p.port === Number(url.port));
        assert.ok(port, `${url.hostname} has port ${url.port}`);
        const pod = deployments.find((d) => d.metadata.name === `${FULLNAME}-${service}`)?.spec?.template;
        for (const [key, value] of Object.entries(selector)) {
          assert.equal(pod?.metadata.labels[key], value, `${url.hostname} selects ${service} pods by ${key}`);
        }
        const target = pod?.spec.containers[0]?.ports?.find((p) => p.name === port.targetPort);
        assert.equal(target?.name, 'health', `${url.hostname} reaches ${service}'s health port`);
      }
    });
  }

  it('healthService.enabled: false renders no health Service and no READINESS_URLS', () => {
    const docs = renderChart([...PRODUCTION, { healthService: { enabled: false } }]);
    assert.deepEqual(healthServices(docs), []);
    assert.equal(readinessUrls(docs), undefined);
    assert.ok(named(docs, 'Service', `${FULLNAME}-blob-scanner`), "the status page's Service stays");
  });

  it("follows the deployed services, and leaves an operator's own READINESS_URLS alone", () => {
    const docs = renderChart([...PRODUCTION, { adxIngester: { enabled: false } }]);
    assert.equal(named(docs, 'Service', `${FULLNAME}-adx-ingester-health`), undefined);
    assert.doesNotMatch(readinessUrls(docs) ?? '', /adx-ingester/);
    const own = 'sqs-poller=http://elsewhere:8080/readyz';
    const mine = renderChart([...PRODUCTION, { blobScanner: { env: { READINESS_URLS: own } } }]);
    const env = named(mine, 'Deployment', `${FULLNAME}-blob-scanner`)?.spec?.template?.spec.containers[0]?.env ?? [];
    assert.deepEqual(
      env.filter((e) => e.name === 'READINESS_URLS').map((e) => e.value),
      [own],
    );
  });
});
