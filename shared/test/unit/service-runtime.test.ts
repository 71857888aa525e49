import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServiceRuntime } from '../../src/lifecycle/service-runtime.ts';

describe('startServiceRuntime', () => {
  it('starts logger, telemetry and a ready transport from a local configuration, and closes cleanly', async () => {
    const runtime = startServiceRuntime('la-uploader', {
      LOG_LEVEL: 'silent',
      SERVICEBUS_CONNECTION_STRING:
        'Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true',
      // The connection string's key is used locally, so no identity is needed for telemetry either.
      APPLICATIONINSIGHTS_CONNECTION_STRING: undefined,
      OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
      LOGFERRY_LOCAL: true,
      SHUTDOWN_GRACE_MS: 1_000,
    });
    try {
      assert.equal(runtime.logger.level, 'silent');
      assert.equal(runtime.fatal.aborted, false);
      assert.equal(await runtime.transport.ready(), true);
    } finally {
      await runtime.transport.close();
      await runtime.telemetry.shutdown();
    }
    assert.equal(await runtime.transport.ready(), false, 'a closed transport is not ready');
  });
});
