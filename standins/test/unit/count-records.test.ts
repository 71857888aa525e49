import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countArrayObjects } from '../../src/logs-ingestion/count-records.ts';

const count = (text: string) => countArrayObjects(Buffer.from(text));

describe('Logs Ingestion stand-in count-only mode: countArrayObjects', () => {
  it('counts the objects of an array whatever their strings and nesting hold', () => {
    const records = [
      { a: 1 },
      { s: 'commas, ] brackets [ } { and "quotes" \\ ", "' },
      { nested: { list: [1, { x: '],[' }], empty: {} }, 'k,"': [] },
      { u: 'ü✓\u0000\n' },
    ];
    assert.equal(count(JSON.stringify(records)), 4);
    assert.equal(count(JSON.stringify(records, null, 2)), 4);
    assert.equal(count('[]'), 0);
    assert.equal(count(' [ {"a":1} ] \n'), 1);
  });

  it('refuses what is not an array of objects, as the parsing mode does', () => {
    for (const bad of [
      '{"a":1}',
      '[1,2]',
      '[1]',
      '[{"a":1} 2]',
      '[{"a":1},]',
      '[{"a":1}',
      '[{"a":"open]',
      '[{"a":1}]x',
      '',
      '[,{"a":1}]',
    ]) {
      assert.equal(count(bad), undefined, bad);
    }
  });
});
