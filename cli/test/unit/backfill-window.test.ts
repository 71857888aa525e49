import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inTimeWindow } from '../../src/ops/backfill.ts';

const at = (iso: string) => new Date(iso);

describe('inTimeWindow (backfill --since/--until on S3 LastModified)', () => {
  const since = at('2024-05-01T00:00:00Z');
  const until = at('2024-06-01T00:00:00Z');

  it('keeps everything, even an object without LastModified, when no bound is set', () => {
    assert.equal(inTimeWindow(at('1999-01-01T00:00:00Z')), true);
    assert.equal(inTimeWindow(undefined), true);
  });

  it('is [since, until): since included, until excluded', () => {
    assert.equal(inTimeWindow(since, since, until), true, 'at --since');
    assert.equal(inTimeWindow(at('2024-05-31T23:59:59.999Z'), since, until), true, 'just before --until');
    assert.equal(inTimeWindow(until, since, until), false, 'at --until');
    assert.equal(inTimeWindow(at('2024-04-30T23:59:59.999Z'), since, until), false, 'just before --since');
  });

  it('honours one bound alone', () => {
    assert.equal(inTimeWindow(at('2030-01-01T00:00:00Z'), since), true);
    assert.equal(inTimeWindow(at('2024-04-01T00:00:00Z'), since), false);
    assert.equal(inTimeWindow(at('2000-01-01T00:00:00Z'), undefined, until), true);
    assert.equal(inTimeWindow(at('2024-07-01T00:00:00Z'), undefined, until), false);
  });

  it('splits two objects at the later one’s LastModified, millisecond apart', () => {
    const a = at('2024-05-10T12:00:00.000Z');
    const b = at('2024-05-10T12:00:00.001Z');
    assert.deepEqual(
      [a, b].map((m) => inTimeWindow(m, undefined, b)),
      [true, false],
    );
    assert.deepEqual(
      [a, b].map((m) => inTimeWindow(m, b)),
      [false, true],
    );
  });

  it('leaves out an object without LastModified once a bound is set (its age is unknown)', () => {
    assert.equal(inTimeWindow(undefined, since), false);
    assert.equal(inTimeWindow(undefined, undefined, until), false);
    assert.equal(inTimeWindow(undefined, since, until), false);
  });
});
