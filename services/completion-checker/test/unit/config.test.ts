import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@logferry/shared/config/define';
import { config } from '@logferry/shared/config/services/completion-checker';

const BASE = {
  SERVICEBUS_CONNECTION_STRING:
    'Endpoint=sb://localhost;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true',
  AzureStorage: 'UseDevelopmentStorage=true',
  KUSTO_URI: 'https://example.westeurope.kusto.windows.net',
};

describe('completion-checker configuration', () => {
  it('keeps the reader lease for 60 s unless told otherwise', () => {
    assert.equal(parseConfig(config, BASE).LEASE_DURATION_S, 60);
    assert.equal(parseConfig(config, { ...BASE, LEASE_DURATION_S: '15' }).LEASE_DURATION_S, 15);
  });

  it('refuses a lease duration Azure Blob leases cannot have', () => {
    for (const bad of ['14', '61', '30.5', 'forever']) {
      assert.throws(
        () => parseConfig(config, { ...BASE, LEASE_DURATION_S: bad }),
        (e: unknown) => e instanceof ConfigError && /LEASE_DURATION_S is invalid/.test(e.message),
        bad,
      );
    }
  });
});
