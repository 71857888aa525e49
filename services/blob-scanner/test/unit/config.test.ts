import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@logferry/shared/config/define';
import { config, parseInterval } from '@logferry/shared/config/services/blob-scanner';

const BASE = {
  SERVICEBUS_CONNECTION_STRING:
    'Endpoint=sb://localhost;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true',
  AzureStorage: 'UseDevelopmentStorage=true',
};

describe('blob-scanner configuration', () => {
  it('parses intervals and off', () => {
    assert.equal(parseInterval('15m'), 900_000);
    assert.equal(parseInterval('2h'), 7_200_000);
    assert.equal(parseInterval('off'), 0);
    assert.equal(parseInterval('15 minutes'), undefined);
  });

  it('has working defaults and the seeds’ names', () => {
    const c = parseConfig(config, { ...BASE, DATA_CONTAINER: 'incoming' });
    assert.equal(c.DATA_CONTAINER, 'incoming');
    assert.equal(c.SCAN_SCHEDULE, 900_000);
    assert.equal(c.HTTP_PORT, 8081);
    assert.equal(c.STORAGE_CONNECTION_STRING, BASE.AzureStorage);
    assert.equal(parseConfig(config, BASE).DATA_CONTAINER, 'data');
  });

  it('keeps the scheduled-scan lease 60 s by default, within what blob leases allow', () => {
    assert.equal(parseConfig(config, BASE).SCAN_LEASE_DURATION_S, 60);
    assert.equal(parseConfig(config, { ...BASE, SCAN_LEASE_DURATION_S: '20' }).SCAN_LEASE_DURATION_S, 20);
    assert.throws(() => parseConfig(config, { ...BASE, SCAN_LEASE_DURATION_S: '90' }), /SCAN_LEASE_DURATION_S/);
  });

  it('names each bad variable and never echoes the API key', () => {
    const error = (() => {
      try {
        parseConfig(config, {
          ...BASE,
          SCAN_SCHEDULE: '5s',
          DATA_CONTAINER: 'Bad_Name',
          STATUS_API_KEY: 'short-secret',
        });
      } catch (e) {
        return e as ConfigError;
      }
      assert.fail('expected a ConfigError');
    })();
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /SCAN_SCHEDULE is invalid: must be an interval of at least 10s/);
    assert.match(error.message, /DATA_CONTAINER is invalid: must be a valid container name/);
    assert.match(error.message, /STATUS_API_KEY is invalid/);
    assert.doesNotMatch(error.message, /short-secret/);
  });

  it('refuses a tenant without an audience', () => {
    assert.throws(() => parseConfig(config, { ...BASE, AUTH_TENANT_ID: 'contoso.onmicrosoft.com' }), /AUTH_AUDIENCE/);
    const c = parseConfig(config, { ...BASE, AUTH_TENANT_ID: 't', AUTH_AUDIENCE: 'api://a, 1234' });
    assert.deepEqual(c.AUTH_AUDIENCE, ['api://a', '1234']);
  });

  it('takes the local stand-ins’ URLs only in a local run', () => {
    const sinks = {
      LOCAL_SINKS_LOGS_INGESTION_URL: 'https://127.0.0.1:8443',
      LOCAL_SINKS_ADX_URL: 'http://127.0.0.1:8090',
    };
    const local = parseConfig(config, { ...BASE, ...sinks, LOGFERRY_LOCAL: 'true' });
    assert.equal(local.LOCAL_SINKS_LOGS_INGESTION_URL, 'https://127.0.0.1:8443');
    assert.equal(local.LOCAL_SINKS_ADX_URL, 'http://127.0.0.1:8090');
    assert.equal(parseConfig(config, BASE).LOCAL_SINKS_ADX_URL, undefined, 'off by default');

    for (const env of [
      { ...BASE, LOCAL_SINKS_ADX_URL: 'http://standins:8090' },
      { ...BASE, LOCAL_SINKS_ADX_URL: 'http://standins:8090', LOGFERRY_LOCAL: 'false' },
    ]) {
      assert.throws(
        () => parseConfig(config, env),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.problems.length === 1 &&
          /^LOCAL_SINKS_ADX_URL is set but LOGFERRY_LOCAL is not true\./.test(e.problems[0] ?? ''),
      );
    }
    assert.throws(
      () => parseConfig(config, { ...BASE, ...sinks }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.length === 2 &&
        /LOCAL_SINKS_LOGS_INGESTION_URL is set but LOGFERRY_LOCAL is not true/.test(e.message),
    );
    for (const bad of ['ftp://127.0.0.1:8090', 'http://127.0.0.1:8090/v1/rest', 'not a url']) {
      assert.throws(
        () => parseConfig(config, { ...BASE, LOGFERRY_LOCAL: 'true', LOCAL_SINKS_ADX_URL: bad }),
        /LOCAL_SINKS_ADX_URL is invalid/,
        bad,
      );
    }
  });
});
