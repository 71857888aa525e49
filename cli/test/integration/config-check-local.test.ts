// config check against the whole local stack, in-process: every service's environment as the local run
// builds it checks out ok, the probes added for issue 5 (lease blobs, ADX status queues, the DCR stream,
// Entra keys) run, and the failures they exist for are named precisely.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import { createLogger } from '@logferry/shared/logging/logger';
import { listenSubscriptions, sendTopics } from '@logferry/shared/manifest';
import {
  freePort,
  type LocalStack,
  type ServiceBusStandIn,
  STACK_SERVICES,
  serviceEnvFor,
  startLocalStack,
  startServiceBusStandIn,
} from '@logferry/standins';
import { checkService } from '../../src/config-check/check-service.ts';
import type { ProbeResult } from '../../src/config-check/probe.ts';
import type { Service } from '../../src/services.ts';

const TIMEOUT_MS = 10_000;

function result(results: readonly ProbeResult[], name: string): ProbeResult {
  const r = results.find((x) => x.name === name);
  assert.ok(r, `no probe named "${name}" among: ${results.map((x) => x.name).join(' | ')}`);
  return r;
}

const lines = (results: readonly ProbeResult[]) =>
  results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'}  ${r.name}: ${r.detail}`).join('\n');

describe('config check against the local stack (in-process)', () => {
  let stack: LocalStack;
  let envFor: (service: Service, overrides?: Record<string, string>) => Record<string, string>;
  let check: (service: Service, overrides?: Record<string, string>) => Promise<readonly ProbeResult[]>;

  before(async () => {
    stack = await startLocalStack();
    // The environment the local run gives each service.
    envFor = (service, overrides = {}) => ({
      ...serviceEnvFor(service, stack.endpoints, stack.ports),
      ...overrides,
    });
    check = async (service, overrides = {}) =>
      (await checkService(service, envFor(service, overrides), TIMEOUT_MS)).results;
    // A running completion-checker's lease (ours last 15–60 s): the probe reports it held, not as a problem.
    const locks = BlobServiceClient.fromConnectionString(stack.endpoints.storageConnectionString).getContainerClient(
      'logferry-locks',
    );
    await locks.createIfNotExists();
    const blob = locks.getBlockBlobClient('completion-checker.lock');
    await blob.upload('', 0);
    await blob.getBlobLeaseClient().acquireLease(15);
  });
  after(async () => {
    await stack?.stop();
  });

  it('reports every endpoint of all six services as ok, with the new probes among them', async () => {
    const reports = new Map<Service, readonly ProbeResult[]>();
    for (const service of STACK_SERVICES) reports.set(service, await check(service));
    for (const [service, results] of reports) {
      assert.ok(results.length > 1, `${service}: only ${lines(results)}`);
      assert.ok(
        results.every((r) => r.ok),
        `${service}:\n${lines(results)}`,
      );
    }
    const { dcrImmutableId: dcr, dcrStream: stream } = stack.endpoints;

    const scanner = reports.get('blob-scanner') ?? [];
    assert.match(
      result(scanner, 'Lease blob logferry-locks/blob-scanner-schedule-data').detail,
      /^container exists at .*; the blob will be created at start$/,
    );

    const checker = reports.get('completion-checker') ?? [];
    assert.match(result(checker, 'Lease blob logferry-locks/completion-checker.lock').detail, /^exists, leased/);
    for (const kind of ['FailedIngestionsQueue', 'SuccessfulIngestionsQueue']) {
      const detail = result(checker, `ADX status queue ${kind}`).detail;
      assert.match(detail, /^peeked http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/\S+ \((empty|messages waiting)\)$/);
      assert.doesNotMatch(detail, /sig=|\?/, 'the SAS never appears');
    }

    const uploader = reports.get('la-uploader') ?? [];
    assert.equal(
      result(uploader, `DCR ${dcr} stream ${stream}`).detail,
      'accepted an empty upload (HTTP 204, nothing ingested)',
    );
    const stats = stack.logsIngestion.stats(stream);
    assert.equal(stats.accepted, 1, 'the stand-in took the empty upload');
    assert.equal(stats.recordCount, 0, 'and ingested nothing');

    // Probes that belong to other services are not run where they do not apply.
    assert.ok(!(reports.get('adx-ingester') ?? []).some((r) => r.name.startsWith('ADX status queue')));
    assert.ok(!scanner.some((r) => r.name.startsWith('Entra')), 'no AUTH_TENANT_ID, no key-set probe');
  });

  it('a stream the DCR does not declare: FAIL naming the stream and the DCR', async () => {
    // The stand-in knows the local DCR's streams and answers an undeclared one as the service does (404
    // NotFound, naming stream and rule); the probe's reading of a 400 InvalidStream is unit-tested.
    const wrong = 'Custom-NoSuchStream_CL';
    const dcr = stack.endpoints.dcrImmutableId;
    const results = await check('la-uploader', { DCR_STREAM: wrong });
    const r = result(results, `DCR ${dcr} stream ${wrong}`);
    assert.equal(r.ok, false, lines(results));
    assert.equal(
      r.detail,
      `HTTP 404 NotFound: Stream '${wrong}' is not declared in the data collection rule with immutable Id '${dcr}'; ` +
        `no DCR ${dcr} with stream ${wrong} here (check DCR_IMMUTABLE_ID and DCR_STREAM)`,
    );
    assert.equal(stack.logsIngestion.stats(wrong).recordCount, 0);
    assert.ok(
      results.filter((x) => x !== r).every((x) => x.ok),
      lines(results),
    );
  });

  it('a missing lease container is ok (the service creates it); an infinite lease is not', async () => {
    const checker = await check('completion-checker', { LEASE_CONTAINER: 'no-such-locks' });
    const r = result(checker, 'Lease blob no-such-locks/completion-checker.lock');
    assert.equal(r.ok, true, lines(checker));
    assert.match(
      r.detail,
      /^container no-such-locks does not exist at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1: will be created at start$/,
    );

    const scanner = await check('blob-scanner', { SCAN_LEASE_CONTAINER: 'no-such-scan-locks' });
    const s = result(scanner, 'Lease blob no-such-scan-locks/blob-scanner-schedule-data');
    assert.equal(s.ok, true, lines(scanner));
    assert.match(s.detail, /will be created at start$/);

    // A lease without expiry is no replica's (theirs last 15–60 s): every replica would idle behind it.
    const stuck = BlobServiceClient.fromConnectionString(stack.endpoints.storageConnectionString).getContainerClient(
      'stuck-locks',
    );
    await stuck.createIfNotExists();
    await stuck.getBlockBlobClient('completion-checker.lock').upload('', 0);
    await stuck.getBlobClient('completion-checker.lock').getBlobLeaseClient().acquireLease(-1);
    const held = result(
      await check('completion-checker', { LEASE_CONTAINER: 'stuck-locks' }),
      'Lease blob stuck-locks/completion-checker.lock',
    );
    assert.equal(held.ok, false);
    assert.match(
      held.detail,
      /^stuck-locks\/completion-checker\.lock holds an infinite lease no replica can take over/,
    );

    const off = await check('blob-scanner', { SCAN_SCHEDULE: 'off' });
    assert.ok(!off.some((x) => x.name.startsWith('Lease blob')), 'no schedule, no lease');
  });

  it('an unreachable ADX endpoint: FAIL naming it, and the status queues as not checked', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const results = await check('completion-checker', { KUSTO_URI: dead, KUSTO_INGEST_URI: dead });
    const port = dead.split(':').pop();
    const mgmt = result(results, 'ADX data management');
    assert.equal(mgmt.ok, false);
    assert.match(mgmt.detail, new RegExp(`ECONNREFUSED.*127\\.0\\.0\\.1:${port}`));
    for (const kind of ['FailedIngestionsQueue', 'SuccessfulIngestionsQueue']) {
      const q = result(results, `ADX status queue ${kind}`);
      assert.equal(q.ok, false);
      assert.match(q.detail, new RegExp(`^not checked: \\.get ingestion resources failed \\(.*ECONNREFUSED.*:${port}`));
    }
    // Storage and Service Bus are still checked, and pass.
    assert.ok(result(results, 'Lease blob logferry-locks/completion-checker.lock').ok);

    const reportsFailuresOnly = await check('completion-checker', { REPORT_LEVEL: 'FailuresOnly' });
    assert.ok(result(reportsFailuresOnly, 'ADX status queue FailedIngestionsQueue').ok);
    assert.ok(
      !reportsFailuresOnly.some((r) => r.name === 'ADX status queue SuccessfulIngestionsQueue'),
      'FailuresOnly: success reports are not read',
    );
  });

  it('AUTH_TENANT_ID adds the Entra key-set probe for the URL the auth module uses', async () => {
    const tenant = '00000000-0000-0000-0000-000000000000';
    const results = await checkService(
      'blob-scanner',
      envFor('blob-scanner', { AUTH_TENANT_ID: tenant, AUTH_AUDIENCE: 'api://logferry-status' }),
      3_000,
    );
    const r = result(results.results, 'Entra token signing keys (AUTH_TENANT_ID)');
    // Online it counts the tenant's keys; offline (CI without DNS) it names the host it could not reach.
    if (r.ok) assert.match(r.detail, new RegExp(`^\\d+ keys at https://login\\.microsoftonline\\.com/${tenant}/`));
    else
      assert.match(
        r.detail,
        new RegExp(
          `^https://login\\.microsoftonline\\.com/${tenant}/discovery/v2\\.0/keys: |^no answer within 3000 ms$|^HTTP \\d{3} from `,
        ),
      );
  });

  describe('Service Bus rights, one SAS key per service granted exactly what the manifest says', () => {
    let bus: ServiceBusStandIn;
    const rights: Record<string, { send: string[]; listen: string[] }> = {};
    const grant = () => {
      for (const service of STACK_SERVICES) {
        rights[service] = { send: sendTopics(service), listen: listenSubscriptions(service) };
      }
    };
    const checkWithKey = (service: Service) =>
      check(service, { SERVICEBUS_CONNECTION_STRING: bus.connectionStringFor(service) });
    const serviceBusProbes = (results: readonly ProbeResult[]) =>
      results.filter((r) => r.name.startsWith('Service Bus: ')).map((r) => r.name);

    before(async () => {
      grant();
      bus = await startServiceBusStandIn({ rights, logger: createLogger('sb', { level: 'silent' }) });
    });
    after(async () => {
      await bus?.close();
    });

    it('each service is checked for Send and Listen as the manifest lists them, and has them', async () => {
      for (const service of STACK_SERVICES) {
        const results = await checkWithKey(service);
        assert.deepEqual(
          serviceBusProbes(results).sort(),
          [
            ...listenSubscriptions(service).map((pair) => `Service Bus: receive from ${pair}`),
            ...sendTopics(service).map((topic) => `Service Bus: send to ${topic}`),
          ].sort(),
          service,
        );
        assert.ok(
          results.every((r) => r.ok),
          `${service}:\n${lines(results)}`,
        );
      }
      // What the review found config check missing: completion-checker queues blobs again.
      assert.ok(sendTopics('completion-checker').includes('ingest-requests'));
      assert.ok(sendTopics('adx-ingester').includes('ingestion-results'));
      // The status page's dead-letter replay sends a copy back to the topic the message came from.
      assert.ok(
        sendTopics('blob-scanner').includes('s3-objects') && sendTopics('blob-scanner').includes('staged-batches'),
      );
    });

    it('a right taken away fails exactly the probe that needs it', async () => {
      try {
        rights['completion-checker'] = { send: ['ingestion-results'], listen: [] };
        const checker = await checkWithKey('completion-checker');
        const send = result(checker, 'Service Bus: send to ingest-requests');
        assert.equal(send.ok, false, lines(checker));
        assert.match(send.detail, /Send/);
        assert.ok(result(checker, 'Service Bus: send to ingestion-results').ok, lines(checker));

        rights['la-uploader'] = { send: ['staged-batches'], listen: [] };
        const uploader = await checkWithKey('la-uploader');
        const listen = result(uploader, 'Service Bus: receive from staged-batches/la-uploader');
        assert.equal(listen.ok, false, lines(uploader));
        assert.match(listen.detail, /Listen/);

        // Without Send on staged-batches the page could not replay la-uploader's dead letters.
        rights['blob-scanner'] = {
          send: sendTopics('blob-scanner').filter((topic) => topic !== 'staged-batches'),
          listen: listenSubscriptions('blob-scanner'),
        };
        const scanner = await checkWithKey('blob-scanner');
        const replay = result(scanner, 'Service Bus: send to staged-batches');
        assert.equal(replay.ok, false, lines(scanner));
        assert.match(replay.detail, /Send/);
        assert.ok(result(scanner, 'Service Bus: send to s3-objects').ok, lines(scanner));
      } finally {
        grant();
      }
    });
  });
});
