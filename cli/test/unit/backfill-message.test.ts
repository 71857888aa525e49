import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { S3ObjectMessage } from '@logferry/shared/messages/index';
import { formatLogLine } from '@logferry/standins';
import { backfillMessage } from '../../src/ops/backfill.ts';

describe('backfillMessage', () => {
  it('is a valid s3-objects message with origin backfill, the bare etag and a stable id per object version', () => {
    const now = new Date('2024-06-01T00:00:00Z');
    const lm = new Date('2024-05-01T12:00:00Z');
    const m = backfillMessage('code42-logs', 'a b/c+d.json.gz', 42, '"abc123"', lm, now);
    assert.deepEqual(S3ObjectMessage.parse(m), m);
    assert.equal(m.origin, 'backfill');
    assert.equal(m.producer, 'cli');
    assert.equal(m.etag, 'abc123');
    assert.equal(m.eventTime, lm.toISOString());
    assert.equal(m.key, 'a b/c+d.json.gz', 'keys are used as listed, not form-decoded');
    const again = backfillMessage('code42-logs', 'a b/c+d.json.gz', 42, 'abc123', lm, new Date());
    assert.equal(again.id, m.id, 'the same object version yields the same id on every backfill');
    assert.notEqual(backfillMessage('code42-logs', 'a b/c+d.json.gz', 42, '"other"', lm, now).id, m.id);
  });
});

describe('formatLogLine', () => {
  it('condenses a JSON log line to a prefixed, colourless one and passes other text through', () => {
    const line = JSON.stringify({
      level: 'info',
      time: 't',
      service: 's3-fetcher',
      msg: 'staged',
      key: 'k',
      records: 5,
    });
    assert.equal(formatLogLine('s3-fetcher', line), 's3-fetcher         | info  staged key=k records=5');
    assert.equal(formatLogLine('la-uploader', 'TypeError: x'), 'la-uploader        | TypeError: x');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting the absence of ANSI escapes.
    assert.doesNotMatch(formatLogLine('x', line), /\u001b\[/);
  });
});
