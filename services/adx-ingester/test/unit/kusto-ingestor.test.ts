import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '@logferry/shared/config/define';
import { config, ingestUri } from '@logferry/shared/config/services/adx-ingester';
import { classify } from '../../src/kusto-ingestor.ts';

describe('adx-ingester: errors and configuration', () => {
  it('classifies cluster refusals as permanent and the rest as transient, without leaking a SAS', () => {
    assert.equal(
      classify(new Error('Failed to fetch ingestion resources. Request failed with status code 401')).transient,
      false,
    );
    assert.equal(classify(new Error('Request failed with status code 503')).transient, true);
    assert.equal(classify(new Error('Failed to send message to queue.')).transient, true);
    const e = classify(new Error('boom https://a/q?sv=1&sig=SECRET123&se=2'));
    assert.ok(!e.message.includes('SECRET123'));
    assert.ok(!classify(new Error('Authorization: Bearer abc.def')).message.includes('abc.def'));
    // The same scrubber as the logs: a Kusto application key and a percent-encoded SAS inside another URL.
    const key = 'kP9~q2Zr.sEcReT-aPpKeY_1234';
    const { message: text } = classify(
      new Error(
        `Data Source=https://c;Application Client Id=a;Application Key=${key} at https://x/?u=https%3A%2F%2Fa%2Fb%3Fsv%3D1%26sig%3DSECRET456%26se%3D2`,
      ),
    );
    assert.ok(!text.includes(key) && !text.includes('SECRET456'), text);
  });

  it('derives the ingest endpoint like the SDK', () => {
    assert.equal(
      ingestUri({ KUSTO_URI: 'https://c.westeurope.kusto.windows.net' }),
      'https://ingest-c.westeurope.kusto.windows.net',
    );
    assert.equal(ingestUri({ KUSTO_URI: 'http://127.0.0.1:8080' }), 'http://127.0.0.1:8080');
    assert.equal(
      ingestUri({ KUSTO_INGEST_URI: 'https://ingest-x.kusto.windows.net', KUSTO_URI: 'https://y' }),
      'https://ingest-x.kusto.windows.net',
    );
  });

  it('accepts the seeds’ variable names and refuses KUSTO_AUTH=none off loopback', () => {
    const base = {
      SERVICEBUS_CONNECTION_STRING:
        'Endpoint=sb://localhost;SharedAccessKeyName=a;SharedAccessKey=b;UseDevelopmentEmulator=true',
      AzureStorage: 'UseDevelopmentStorage=true',
      KUSTO_URI: 'https://c.westeurope.kusto.windows.net',
      KUSTO_DATABASE: 'Logs',
      AAD_TENANT_ID: 't',
      APPLICATION_ID: 'a',
      APPLICATION_SECRET: 's',
    };
    const parsed = parseConfig(config, base);
    assert.equal(parsed.AZURE_CLIENT_ID, 'a');
    assert.equal(parsed.MAPPINGS_FILE, 'mappings.json');
    assert.equal(parsed.REPORT_LEVEL, 'FailuresAndSuccesses');
    assert.throws(() => parseConfig(config, { ...base, KUSTO_AUTH: 'none' }), /not loopback/);
    assert.throws(() => parseConfig(config, { ...base, KUSTO_URI: undefined }), /KUSTO_INGEST_URI or KUSTO_URI/);
  });
});
