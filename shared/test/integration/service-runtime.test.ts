import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { startServiceBusStandIn } from '@logferry/standins';
import { startServiceRuntime } from '../../src/lifecycle/service-runtime.ts';
import { createLogger } from '../../src/logging/logger.ts';

const local = (connectionString: string) => ({
  LOG_LEVEL: 'silent' as const,
  SERVICEBUS_CONNECTION_STRING: connectionString,
  // The connection string's key is used locally, so no identity is needed for telemetry either.
  APPLICATIONINSIGHTS_CONNECTION_STRING: undefined,
  OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
  LOGFERRY_LOCAL: true,
  SHUTDOWN_GRACE_MS: 1_000,
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('startServiceRuntime', () => {
  it('starts logger, telemetry and a transport that is ready only while the broker answers, and closes cleanly', async () => {
    const broker = await startServiceBusStandIn({ logger: createLogger('sb', { level: 'silent' }) });
    // s3-fetcher publishes to staged-batches, so its readiness opens a send link there.
    const runtime = startServiceRuntime('s3-fetcher', local(broker.connectionString));
    const port = await closedPort();
    const unreachable = startServiceRuntime(
      's3-fetcher',
      local(`Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`),
    );
    try {
      assert.equal(runtime.logger.level, 'silent');
      assert.equal(runtime.fatal.aborted, false);
      assert.equal(await runtime.transport.ready(), true);
      assert.equal(await unreachable.transport.ready(), false, 'no broker answering: not ready');
    } finally {
      await Promise.all([runtime, unreachable].map((r) => r.transport.close()));
      await Promise.all([runtime, unreachable].map((r) => r.telemetry.shutdown()));
      await broker.close();
    }
    assert.equal(await runtime.transport.ready(), false, 'a closed transport is not ready');
  });
});
