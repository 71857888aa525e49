// The banner of `npm start`: a newcomer copies its lines as they are.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LocalEndpoints } from '@logferry/standins';
import { banner } from '../../src/local/banner.ts';

const CONNECTION =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;';
const endpoints = {
  statusPageUrl: 'http://127.0.0.1:8081/',
  logsIngestionEndpoint: 'https://127.0.0.1:4443',
  dcrStream: 'Custom-Code42FileEvents_CL',
  adxEndpoint: 'http://127.0.0.1:8090',
  kustoDatabase: 'SecurityLogs',
  aws: { endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test' },
  bucket: 'code42-logs',
  dataContainer: 'data',
  storageConnectionString: CONNECTION,
} as unknown as LocalEndpoints;

describe('npm start banner', () => {
  const text = banner(endpoints, '/repo/.logferry/logs', '/repo');

  it('gives the commands to drop a file into the data container: the connection string and an az upload', () => {
    assert.ok(text.includes(`export AZURE_STORAGE_CONNECTION_STRING='${CONNECTION}'`), text);
    assert.match(text, /^\s+az storage blob upload --container-name data --file (\S+) --name \1$/m);
  });

  it('names the CLI as npx logferry, which runs on any Node npm runs on', () => {
    for (const sub of ['seed', 'status', 'dlq list', 'config check --local', 'scan', '--help'])
      assert.ok(text.includes(`npx logferry ${sub}`), sub);
    assert.doesNotMatch(text, /node cli\/src\/main\.ts/);
  });
});
