import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The receiving end of OTLP/HTTP JSON (what `@opentelemetry/exporter-metrics-otlp-http` sends): a test
 * points a service's OTEL_EXPORTER_OTLP_ENDPOINT here and reads its counters as a metrics backend would.
 */
export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  /** Latest cumulative value of a counter's data point whose attributes include `attributes`; summed over matches. */
  counter(name: string, attributes?: Record<string, string>): number;
  close(): Promise<void>;
}

interface DataPoint {
  attributes?: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
  asInt?: string | number;
  asDouble?: number;
}

interface MetricsRequest {
  resourceMetrics?: { scopeMetrics?: { metrics?: { name: string; sum?: { dataPoints?: DataPoint[] } }[] }[] }[];
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  // Cumulative temporality: each export restates the total, so the last one per series wins.
  const latest = new Map<string, { attributes: Record<string, string>; value: number }>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/metrics' && (req.headers['content-type'] ?? '').includes('json')) {
        try {
          record(JSON.parse(Buffer.concat(chunks).toString('utf8')) as MetricsRequest);
        } catch {
          // Not ours to judge; the exporter only logs a failed export.
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  function record(body: MetricsRequest): void {
    for (const rm of body.resourceMetrics ?? []) {
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          for (const dp of m.sum?.dataPoints ?? []) {
            const attributes = Object.fromEntries(
              (dp.attributes ?? []).map((a) => [a.key, String(a.value.stringValue ?? a.value.intValue ?? '')]),
            );
            const value = Number(dp.asInt ?? dp.asDouble ?? 0);
            latest.set(`${m.name} ${JSON.stringify(Object.entries(attributes).sort())}`, { attributes, value });
          }
        }
      }
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counter(name, attributes = {}) {
      let total = 0;
      for (const [series, point] of latest) {
        if (!series.startsWith(`${name} `)) continue;
        if (Object.entries(attributes).every(([k, v]) => point.attributes[k] === v)) total += point.value;
      }
      return total;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
