// The local stack hands each service exactly the variables its config schema declares, and they parse.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '@logferry/shared/config/define';
import { type LocalEndpoints, type ServicePorts, STACK_SERVICES, serviceEnvFor } from '@logferry/standins';
import { DEFINITIONS } from '../../src/config-check/check-service.ts';

// Read by the AWS SDK and by Node, not by our config.
const RUNTIME = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'NODE_EXTRA_CA_CERTS']);

const endpoints: LocalEndpoints = {
  aws: { endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test' },
  sqsQueueUrl: 'http://sqs.us-east-1.127.0.0.1:4566/000000000000/code42-events',
  sqsDeadLetterQueueUrl: 'http://sqs.us-east-1.127.0.0.1:4566/000000000000/code42-events-dlq',
  bucket: 'code42-logs',
  storageConnectionString:
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;',
  blobEndpoint: 'http://127.0.0.1:10000/devstoreaccount1',
  queueEndpoint: 'http://127.0.0.1:10001/devstoreaccount1',
  tableEndpoint: 'http://127.0.0.1:10002/devstoreaccount1',
  dataContainer: 'data',
  stagingContainer: 'staging',
  statusTable: 'logferrystatus',
  serviceBusConnectionString:
    'Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true',
  logsIngestionEndpoint: 'https://127.0.0.1:8443',
  caCertPath: '/tmp/ca.pem',
  dcrImmutableId: 'dcr-00000000000000000000000000000000',
  dcrStream: 'Custom-Code42FileEvents_CL',
  adxEndpoint: 'http://127.0.0.1:8090',
  kustoDatabase: 'SecurityLogs',
  stsEndpoint: 'http://127.0.0.1:8091',
  mappingsFile: '/app/mappings.json',
  statusPageUrl: 'http://127.0.0.1:8081/',
};
const ports: ServicePorts = {
  health: {
    'blob-scanner': 9001,
    'adx-ingester': 9002,
    'completion-checker': 9003,
    'la-uploader': 9004,
    's3-fetcher': 9005,
    'sqs-poller': 9006,
  },
  statusPage: 8081,
};

describe('serviceEnvFor', () => {
  for (const service of STACK_SERVICES) {
    it(`${service}: only variables its schema knows, and they parse`, () => {
      const def = DEFINITIONS[service];
      const env = serviceEnvFor(service, endpoints, ports);
      const known = new Set(Object.entries(def.vars).flatMap(([k, v]) => [k, ...(v.aliases ?? [])]));
      assert.deepEqual(
        Object.keys(env).filter((k) => !known.has(k) && !RUNTIME.has(k)),
        [],
      );
      const config = parseConfig(def, env) as Record<string, unknown>;
      assert.equal(config.LOGFERRY_LOCAL, true);
      assert.equal(config.HEALTH_PORT, ports.health[service]);
    });
  }

  it('gives every service its own health port and blob-scanner the status page on loopback', () => {
    const healthPorts = STACK_SERVICES.map((s) => serviceEnvFor(s, endpoints, ports).HEALTH_PORT);
    assert.equal(new Set(healthPorts).size, STACK_SERVICES.length);
    const scanner = serviceEnvFor('blob-scanner', endpoints, ports);
    assert.equal(scanner.HTTP_HOST, '127.0.0.1');
    assert.equal(scanner.HTTP_PORT, '8081');
  });
});
