import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseMappings } from '../../src/mappings/index.ts';
import {
  checkRoutesAgainstMappings,
  createRouteTable,
  parseRoutes,
  RoutesError,
  routeTableFor,
} from '../../src/routes/index.ts';

const problemsOf = (data: unknown): readonly string[] => {
  try {
    parseRoutes(data);
  } catch (e) {
    if (e instanceof RoutesError) return e.problems;
    throw e;
  }
  assert.fail('expected a RoutesError');
};

const ROUTES = {
  $comment: 'ignored',
  Code42FileEvents: {
    match: { bucket: 'code42-logs', prefix: 'code42/file-events/' },
    format: 'ndjson',
    logsIngestion: { stream: 'Custom-Code42FileEvents_CL' },
  },
  Code42: { match: { bucket: 'code42-logs', prefix: 'code42/' }, logsIngestion: { stream: 'Custom-Code42_CL' } },
  VpcFlowLogs: {
    match: [
      { bucket: 'flow-logs', glob: 'AWSLogs/*/vpcflowlogs/**/*.log.gz' },
      { bucket: 'code42-logs', glob: 'code42/vpc/*.log' },
    ],
    format: 'space-delimited',
    timeField: 'start',
    timeFormat: 'epoch-seconds',
    logsIngestion: { stream: 'Custom-VpcFlowLogs_CL', dcr: 'dcr-0123456789abcdef0123456789abcdef' },
  },
  TrafficFlows: { match: { bucket: 'flow-logs', prefix: 'csv/' }, format: 'csv', adx: true },
};

describe('routes file', () => {
  it('reads entries keyed by source name, with defaults', () => {
    const routes = parseRoutes(ROUTES);
    assert.deepEqual(
      routes.map((r) => r.name),
      ['Code42FileEvents', 'Code42', 'VpcFlowLogs', 'TrafficFlows'],
    );
    const code42 = routes[1]!;
    assert.equal(code42.format, 'auto');
    assert.equal(code42.timeFormat, 'auto');
    assert.equal(code42.timeField, undefined);
    assert.equal(code42.adx, false);
    assert.deepEqual(code42.sourceOf('code42/x.json'), { ok: true, source: 'Code42' });
    assert.deepEqual(routes[3]!.logsIngestion, undefined);
  });

  it('names the entry and the field of every problem', () => {
    const problems = problemsOf({
      'bad-name': { match: { bucket: 'b-1' }, adx: true },
      NoBucket: { match: { prefix: 'x/' }, adx: true },
      BadFormat: { match: { bucket: 'b-1' }, format: 'xml', adx: true },
      Nowhere: { match: { bucket: 'b-1', prefix: 'n/' } },
      BadStream: { match: { bucket: 'b-1', prefix: 's/' }, logsIngestion: { stream: 'Code42_CL' } },
      Both: { match: { bucket: 'b-1', prefix: 'a/', glob: 'a/*' }, adx: true },
      Extra: { match: { bucket: 'b-1', prefix: 'e/' }, adx: true, table: 'X' },
    });
    const expected = [
      /^entry "bad-name": the key is the source name/,
      /^entry "NoBucket": match/,
      /^entry "BadFormat": format: /,
      /^entry "Nowhere": the route sends its records nowhere/,
      /^entry "BadStream": logsIngestion\.stream: expected a DCR stream name/,
      /^entry "Both": match.*prefix or glob, not both/,
      /^entry "Extra": .*table/,
    ];
    for (const re of expected)
      assert.ok(
        problems.some((p) => re.test(p)),
        `${re} in ${problems.join(' | ')}`,
      );
  });

  it('refuses two entries claiming the same place, an empty file and a non-object', () => {
    const dup = problemsOf({
      A: { match: { bucket: 'b-1', prefix: 'x/' }, adx: true },
      B: { match: { bucket: 'b-1', prefix: 'x/' }, adx: true },
    });
    assert.deepEqual(dup, ['entry "B": match s3://b-1/x/ is already entry "A"\'s']);
    assert.match(problemsOf({ $comment: 'only' })[0]!, /no route/);
    assert.match(problemsOf([])[0]!, /JSON object of routes/);
  });

  it('reads a file and names it in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'routes-'));
    const good = join(dir, 'routes.json');
    writeFileSync(good, JSON.stringify(ROUTES));
    const table = routeTableFor({ ROUTES_FILE: good, S3_ALLOWED_BUCKETS: [], S3_ALLOWED_PREFIXES: [] });
    assert.equal(table.routes.length, 4);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    assert.throws(
      () => routeTableFor({ ROUTES_FILE: bad, S3_ALLOWED_BUCKETS: [], S3_ALLOWED_PREFIXES: [] }),
      (e: RoutesError) => e.message.startsWith(`${bad}: invalid routes`) && /not valid JSON/.test(e.problems[0]!),
    );
  });

  it('checks the adx flags against mappings.json, both ways', () => {
    const routes = parseRoutes(ROUTES);
    const mappings = parseMappings({ TrafficFlows: { table: 'TrafficFlows', format: 'csv' } });
    checkRoutesAgainstMappings(routes, mappings, 'routes.json');
    const extra = parseMappings({
      TrafficFlows: { table: 'TrafficFlows', format: 'csv' },
      Code42: { table: 'Code42', format: 'json' },
    });
    assert.throws(
      () => checkRoutesAgainstMappings(routes, extra, 'routes.json'),
      (e: RoutesError) => /entry "Code42": mappings.json has an entry "Code42".*set adx: true/.test(e.problems[0]!),
    );
    assert.throws(
      () => checkRoutesAgainstMappings(routes, parseMappings({}), 'routes.json'),
      (e: RoutesError) => /entry "TrafficFlows": adx is true but mappings.json has no entry/.test(e.problems[0]!),
    );
  });
});

describe('route table', () => {
  const table = createRouteTable(parseRoutes(ROUTES));
  const routeOf = (bucket: string, key: string) => {
    const v = table.resolve(bucket, key);
    return v.allowed ? v.route.name : v.reason;
  };

  it('picks the most specific route: the longest prefix, then a prefix over a glob', () => {
    assert.equal(routeOf('code42-logs', 'code42/file-events/2026/01/a.json.gz'), 'Code42FileEvents');
    assert.equal(routeOf('code42-logs', 'code42/audit/a.json'), 'Code42');
    assert.equal(routeOf('code42-logs', 'code42/vpc/a.log'), 'VpcFlowLogs');
    assert.equal(routeOf('code42-logs', 'code42/vpc/deeper/a.log'), 'Code42', '* does not cross /');
    assert.equal(routeOf('flow-logs', 'AWSLogs/1234/vpcflowlogs/us-east-1/2026/01/01/x.log.gz'), 'VpcFlowLogs');
    assert.equal(routeOf('flow-logs', 'csv/2026/x.csv'), 'TrafficFlows');
  });

  it('refuses what no route claims, and other buckets, and is the allow-list', () => {
    assert.equal(routeOf('code42-logs', 'other/a.json'), 'no-route');
    assert.equal(routeOf('flow-logs', 'AWSLogs/1234/cloudtrail/x.json.gz'), 'no-route');
    assert.equal(routeOf('someone-elses-bucket', 'code42/a.json'), 'bucket-not-allowed');
    assert.deepEqual(table.check('code42-logs', 'other/a.json'), { allowed: false, reason: 'no-route' });
    assert.deepEqual(table.check('code42-logs', 'code42/a.json'), { allowed: true });
  });

  it('refuses a key two routes claim equally, rather than guessing', () => {
    const t = createRouteTable(
      parseRoutes({
        A: { match: { bucket: 'b-1', glob: 'logs/*.json' }, adx: true },
        B: { match: { bucket: 'b-1', glob: 'logs/?.json' }, adx: true },
      }),
    );
    assert.deepEqual(t.check('b-1', 'logs/a.json'), { allowed: false, reason: 'ambiguous-route' });
    assert.equal(t.resolve('b-1', 'logs/bb.json').allowed, true);
  });

  it('keeps the single-source variables as the one-route case, and lets S3_ALLOWED_* narrow a routes file', () => {
    const single = routeTableFor(
      {
        S3_ALLOWED_BUCKETS: ['code42-logs'],
        S3_ALLOWED_PREFIXES: ['incydr/'],
        SOURCE_NAME: 'Incydr',
        TIME_FIELD: 'ts',
      },
      { sourceOf: (key) => ({ ok: true, source: key.split('/')[0] ?? 'x' }) },
    );
    const v = single.resolve('code42-logs', 'incydr/2026/a.json');
    assert.ok(v.allowed);
    assert.equal(v.route.name, 'Incydr');
    assert.deepEqual(v.route.sourceOf('incydr/2026/a.json'), { ok: true, source: 'incydr' });
    assert.equal(v.route.timeField, 'ts');
    assert.equal(v.route.logsIngestion, undefined, "la-uploader's own DCR_STREAM");
    assert.deepEqual(single.check('code42-logs', 'audit/a.json'), { allowed: false, reason: 'prefix-not-allowed' });
    assert.deepEqual(single.check('other-bucket', 'incydr/a.json'), { allowed: false, reason: 'bucket-not-allowed' });

    const dir = mkdtempSync(join(tmpdir(), 'routes-'));
    const file = join(dir, 'routes.json');
    writeFileSync(file, JSON.stringify(ROUTES));
    const narrowed = routeTableFor({ ROUTES_FILE: file, S3_ALLOWED_BUCKETS: ['code42-logs'], S3_ALLOWED_PREFIXES: [] });
    assert.deepEqual(narrowed.check('flow-logs', 'csv/x.csv'), { allowed: false, reason: 'bucket-not-allowed' });
    assert.deepEqual(narrowed.check('code42-logs', 'code42/x.json'), { allowed: true });
  });
});
