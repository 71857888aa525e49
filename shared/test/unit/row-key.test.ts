import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRowKey, encodeRowKey } from '../../src/stores/row-key.ts';

describe('encodeRowKey', () => {
  it('produces keys Azure Tables accepts, reversibly', () => {
    for (const name of ['TrafficFlows-2024/01/a b+c#d?.csv', 'back\\slash', 'ünïcødé 日本.json', 'tab\there']) {
      const key = encodeRowKey(name);
      assert.ok(
        ![...key].some(
          (ch) =>
            '/\\#?'.includes(ch) || ch.charCodeAt(0) < 0x20 || (ch.charCodeAt(0) >= 0x7f && ch.charCodeAt(0) <= 0x9f),
        ),
        key,
      );
      assert.equal(decodeRowKey(key), name);
    }
  });
  it('hashes names too long to key, keeping distinct names distinct', () => {
    const a = encodeRowKey('x'.repeat(1000));
    const b = encodeRowKey(`${'x'.repeat(999)}y`);
    assert.match(a, /^sha256~[0-9a-f]{64}$/);
    assert.notEqual(a, b);
    assert.equal(decodeRowKey(a), undefined);
  });
});
