import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { createLoopbackCertificate, type LoopbackCertificate } from '@logferry/standins/tls';
import { trace } from '@opentelemetry/api';
import { stageMetrics } from '../../src/telemetry/metrics.ts';
import { startTelemetry } from '../../src/telemetry/start.ts';

interface Received {
  readonly path: string;
  readonly body: Buffer;
}

// One local HTTPS endpoint plays both the OTLP collector and the Application Insights ingestion
// endpoint (the Azure Monitor exporter only speaks HTTPS).
describe('startTelemetry exporters', () => {
  let server: Server;
  let cert: LoopbackCertificate;
  const defaultCAs = getCACertificates('default');
  let base: string;
  const received: Received[] = [];
  let arrived: () => void = () => {};

  before(async () => {
    process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED = 'true';
    cert = await createLoopbackCertificate();
    setDefaultCACertificates([...defaultCAs, cert.caCertPem]);
    server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        received.push({ path: req.url ?? '', body });
        arrived();
        const items = req.url?.includes('/track') ? body.toString().split('\n').filter(Boolean).length : 0;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          req.url?.includes('/track')
            ? JSON.stringify({ itemsReceived: items, itemsAccepted: items, errors: [] })
            : '{}',
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    setDefaultCACertificates(defaultCAs);
    await cert.dispose();
  });

  it('sends spans and metrics over OTLP/HTTP and to Application Insights, and flushes them on shutdown', async () => {
    const telemetry = startTelemetry({
      service: 'export-test',
      config: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `${base}/`,
        APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=${base}/`,
      },
    });
    assert.deepEqual(telemetry.exporters, ['azure-monitor', 'otlp']);
    trace.getTracer('test').startSpan('fetch object').end();
    stageMetrics('s3-fetcher').records(42);
    await telemetry.shutdown();

    // Shutdown flushed every exporter; the server may still be reading the last bodies.
    const wanted = ['/v1/traces', '/v1/metrics', '/v2.1/track'];
    const deadline = Date.now() + 10_000;
    while (!wanted.every((p) => received.some((r) => r.path === p)) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        arrived = resolve;
        setTimeout(resolve, 100);
      });
    }
    const paths = received.map((r) => r.path);
    assert.ok(paths.includes('/v1/traces'), `paths: ${paths}`);
    assert.ok(paths.includes('/v1/metrics'), `paths: ${paths}`);
    const otlpTraces = received.find((r) => r.path === '/v1/traces')?.body.toString() ?? '';
    assert.match(otlpTraces, /export-test/);
    assert.match(otlpTraces, /fetch object/);
    const track = received.filter((r) => r.path.endsWith('/track')).map((r) => r.body.toString());
    assert.ok(
      track.some((b) => b.includes('fetch object')),
      'span reached Application Insights',
    );
    assert.ok(
      track.some((b) => b.includes('logferry.records')),
      'metric reached Application Insights',
    );
  });
});
