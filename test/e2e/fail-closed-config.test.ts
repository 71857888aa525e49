// Fail closed at start: a configuration that would silently widen what a service may touch stops it
// with EX_CONFIG (78), naming the variable and never echoing a secret. Each service runs as its own process.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServiceProcess } from '@logferry/standins';

const SB = 'Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=kkkkkkkkkkkk;UseDevelopmentEmulator=true';
const STORAGE = 'UseDevelopmentStorage=true';
const AWS = { AWS_REGION: 'us-east-1', S3_ALLOWED_BUCKETS: 'logs-bucket', HEALTH_PORT: '0' };

describe('fail-closed configuration (services as processes)', () => {
  let logDir: string;
  before(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'logferry-failclosed-'));
  });
  after(async () => {
    await rm(logDir, { recursive: true, force: true });
  });

  async function exitOf(name: string, env: Record<string, string>): Promise<{ code: number; output: string }> {
    const p = await startServiceProcess(name, env, { logDir });
    const code = await Promise.race([
      p.exited,
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`${name} still running`)), 30_000)),
    ]).finally(() => p.stop('SIGKILL', 0));
    return { code, output: p.output() };
  }

  for (const prefixes of [',', ' , ', 'incydr/,']) {
    it(`S3_ALLOWED_PREFIXES=${JSON.stringify(prefixes)} stops sqs-poller and s3-fetcher with exit 78`, async () => {
      const poller = await exitOf('sqs-poller', {
        ...AWS,
        S3_ALLOWED_PREFIXES: prefixes,
        SQS_QUEUE_URL: 'http://127.0.0.1:1/000000000000/q',
        SERVICEBUS_CONNECTION_STRING: SB,
      });
      const fetcher = await exitOf('s3-fetcher', {
        ...AWS,
        S3_ALLOWED_PREFIXES: prefixes,
        SERVICEBUS_CONNECTION_STRING: SB,
        STORAGE_CONNECTION_STRING: STORAGE,
      });
      for (const [name, r] of [
        ['sqs-poller', poller],
        ['s3-fetcher', fetcher],
      ] as const) {
        assert.equal(r.code, 78, `${name}: ${r.output}`);
        assert.match(r.output, /S3_ALLOWED_PREFIXES is invalid: has a blank entry/, name);
      }
    });
  }

  it('a routes file with a bad entry stops sqs-poller and s3-fetcher with exit 78, naming the entry and field', async () => {
    const file = join(logDir, 'routes.json');
    await writeFile(
      file,
      JSON.stringify({
        VpcFlowLogs: { match: { bucket: 'logs-bucket', glob: 'AWSLogs/**' }, format: 'xml', adx: true },
        Nowhere: { match: { bucket: 'logs-bucket', prefix: 'n/' } },
      }),
    );
    const env = { AWS_REGION: 'us-east-1', HEALTH_PORT: '0', ROUTES_FILE: file, SERVICEBUS_CONNECTION_STRING: SB };
    const poller = await exitOf('sqs-poller', { ...env, SQS_QUEUE_URL: 'http://127.0.0.1:1/000000000000/q' });
    const fetcher = await exitOf('s3-fetcher', { ...env, STORAGE_CONNECTION_STRING: STORAGE });
    for (const [name, r] of [
      ['sqs-poller', poller],
      ['s3-fetcher', fetcher],
    ] as const) {
      assert.equal(r.code, 78, `${name}: ${r.output}`);
      assert.match(r.output, /routes error: entry "VpcFlowLogs": format: /, name);
      assert.match(r.output, /routes error: entry "Nowhere": the route sends its records nowhere/, name);
    }
  });

  it('a Logs Ingestion endpoint with credentials in its URL stops la-uploader with exit 78, the password unprinted', async () => {
    const password = 'planted-p4ssw0rd-in-url';
    const r = await exitOf('la-uploader', {
      HEALTH_PORT: '0',
      SERVICEBUS_CONNECTION_STRING: SB,
      STORAGE_CONNECTION_STRING: STORAGE,
      LOGS_INGESTION_ENDPOINT: `https://user:${password}@dce.example.ingest.monitor.azure.com`,
      DCR_IMMUTABLE_ID: 'dcr-00000000000000000000000000000000',
      DCR_STREAM: 'Custom-Test_CL',
    });
    assert.equal(r.code, 78, r.output);
    assert.match(r.output, /LOGS_INGESTION_ENDPOINT is invalid: must not carry credentials/);
    assert.ok(!r.output.includes(password), r.output);
  });
});
