import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  loadMappings,
  MappingsError,
  mappingForSource,
  parseMappings,
  resolveMapping,
  routeBlob,
} from '../../src/mappings/index.ts';

const repoMappings = new URL('../../../mappings.json', import.meta.url).pathname;

describe('mappings.json', () => {
  it('the repository file validates and routes the seeds by prefix', () => {
    const mappings = loadMappings(repoMappings);
    const flows = resolveMapping(mappings, 'TrafficFlows-2024-05-01 a+b#c.csv');
    assert.equal(flows?.table, 'TrafficFlows');
    assert.equal(flows?.format, 'csv');
    assert.equal(flows?.mappingKind, 'Csv');
    assert.equal(flows?.ignoreFirstRecord, true);
    const auth = resolveMapping(mappings, 'AuthEvents-1.json');
    assert.equal(auth?.ignoreFirstRecord, false, 'JSON never skips a first record');
    assert.equal(auth?.mappingKind, 'Json');
    assert.equal(resolveMapping(mappings, 'DnsQueries-x.json.gz')?.compression, 'gzip');
    assert.equal(resolveMapping(mappings, 'DnsQueries/batch-00001.json.gz')?.table, 'DnsQueries');
    assert.equal(resolveMapping(mappings, 'incoming/TrafficFlows-1.csv')?.table, 'TrafficFlows');
    assert.equal(resolveMapping(mappings, 'Unknown-1.csv'), undefined);
    assert.equal(resolveMapping(mappings, 'TrafficFlows.csv'), undefined, 'the prefix needs its - or /');
    assert.equal(resolveMapping(mappings, 'trafficflows-1.csv'), undefined, 'case-sensitive');
    assert.equal(mappingForSource(mappings, 'AuthEvents')?.table, 'AuthEvents');
  });

  it('names what a blob was routed by: the entry, else its base name prefix, else the whole name', () => {
    const mappings = loadMappings(repoMappings);
    assert.deepEqual(
      [
        'TrafficFlows-1.csv',
        'incoming/TrafficFlows-1.csv',
        'DnsQueries/batch-1.json.gz',
        'incoming/Unknown-1.csv',
        'Unmapped-1.csv',
        'plain.csv',
      ].map((name) => {
        const routed = routeBlob(mappings, name);
        return [routed.key, routed.mapping?.table];
      }),
      [
        ['TrafficFlows', 'TrafficFlows'],
        ['TrafficFlows', 'TrafficFlows'],
        ['DnsQueries', 'DnsQueries'],
        ['Unknown', undefined],
        ['Unmapped', undefined],
        ['plain.csv', undefined],
      ],
    );
  });

  it('every KQL file the mappings reference declares the mapping', () => {
    const mappings = loadMappings(repoMappings);
    for (const m of mappings.values()) {
      const kql = readFileSync(new URL(`../../../deploy/adx/${m.table}.kql`, import.meta.url), 'utf8');
      assert.match(kql, new RegExp(`\\.create-merge table ${m.table} \\(`));
      assert.ok(kql.includes(`ingestion ${m.mappingKind.toLowerCase()} mapping '${m.mappingReference}'`), m.name);
    }
  });

  it('errors name the entry and the field', () => {
    const bad = {
      $schema: 'ignored',
      Good: { table: 'T', format: 'csv' },
      BadJson: { table: 'T', format: 'json', ignoreFirstRecord: true },
      'Bad-Key': { table: 'T', format: 'csv' },
      WrongKind: { table: 'T', format: 'multijson', mappingKind: 'Csv', mappingReference: 'm' },
      Typo: { table: 'T', fromat: 'csv' },
      BadTable: { table: '1 drop', format: 'csv' },
    };
    assert.throws(
      () => parseMappings(bad, 'm.json'),
      (error: unknown) => {
        assert.ok(error instanceof MappingsError);
        const text = error.message;
        assert.match(text, /^m\.json: invalid mappings/);
        assert.match(text, /entry "BadJson": ignoreFirstRecord: only delimited formats/);
        assert.match(text, /entry "Bad-Key": the key must be/);
        assert.match(text, /entry "WrongKind": mappingKind: format multijson takes a Json mapping/);
        assert.match(text, /entry "Typo": .*fromat/);
        assert.match(text, /entry "Typo": format:/);
        assert.match(text, /entry "BadTable": table:/);
        assert.doesNotMatch(text, /"Good"/);
        return true;
      },
    );
    assert.throws(() => parseMappings([], 'x'), /expected a JSON object/);
    assert.throws(() => loadMappings('/nonexistent/mappings.json'), /cannot read the file/);
  });
});
