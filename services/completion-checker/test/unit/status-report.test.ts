import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeReport, failureStatusOf } from '../../src/status-report.ts';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');
const ID = '6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b';

describe('completion-checker: ADX status reports', () => {
  it('decodes base64 JSON success and failure reports', () => {
    const ok = decodeReport('success', b64({ IngestionSourceId: ID, Table: 'T', SucceededOn: 'now' }));
    assert.deepEqual(ok, { kind: 'success', IngestionSourceId: ID, Table: 'T' });
    const failed = decodeReport(
      'failure',
      b64({ IngestionSourceId: ID, ErrorCode: 'X', FailureStatus: 'Transient', ShouldRetry: true }),
    );
    assert.ok(failed.kind === 'failure');
    assert.equal(failureStatusOf(failed), 'Transient');
    assert.equal(failureStatusOf({ ...failed, FailureStatus: 'RetryAttemptsExceeded' }), 'Exhausted');
    assert.equal(failureStatusOf({ ...failed, FailureStatus: undefined }), 'Permanent');
  });

  it('accepts every shape the official SDKs write, ignoring fields it does not use', () => {
    // Shapes seen from the .NET, Java and Python clients and the service: epoch or ISO times, object Details,
    // booleans as strings (even ""), FailureStatus as its enum number, upper-case or braced GUIDs, nulls.
    const shapes = [
      { SucceededOn: 1_767_225_600_000, FailedOn: 1_767_225_600 },
      { SucceededOn: '2026-01-01T00:00:00.0000000Z', FailedOn: '/Date(1767225600000)/' },
      { Details: { message: 'Stream_WrongNumberOfFields', line: 3 }, OriginatesFromUpdatePolicy: '' },
      { Details: null, ShouldRetry: 'False', OriginatesFromUpdatePolicy: 'false' },
      { ShouldRetry: '', OriginatesFromUpdatePolicy: 0, OperationId: 42, RootActivityId: null },
      { FailureStatus: 2, ErrorCode: 7, Database: null, Table: 42, Extra: { nested: [1, 2] } },
    ];
    for (const extra of shapes) {
      const text = b64({ IngestionSourceId: ID.toUpperCase(), FailureStatus: 'Permanent', ...extra });
      const failure = decodeReport('failure', text);
      assert.equal(failure.kind, 'failure', JSON.stringify(extra));
      assert.equal(failure.kind === 'failure' && failure.IngestionSourceId, ID, 'source id normalised');
      assert.equal(decodeReport('success', text).kind, 'success', JSON.stringify(extra));
    }
    const objectDetails = decodeReport('failure', b64({ IngestionSourceId: ID, Details: { message: 'bad', line: 3 } }));
    assert.equal(objectDetails.kind === 'failure' && objectDetails.Details, '{"message":"bad","line":3}');
    const numbered = decodeReport('failure', b64({ IngestionSourceId: ID, FailureStatus: 2, ErrorCode: 7 }));
    assert.ok(numbered.kind === 'failure');
    assert.equal(failureStatusOf(numbered), 'Transient');
    assert.equal(numbered.ErrorCode, '7');
    assert.equal(decodeReport('success', b64({ IngestionSourceId: `{${ID}}` })).kind === 'success', true);
    const braced = decodeReport('success', b64({ IngestionSourceId: `{${ID}}` }));
    assert.equal(braced.kind === 'success' && braced.IngestionSourceId, ID);
    // Raw JSON (not base64) is read too.
    assert.equal(decodeReport('success', JSON.stringify({ IngestionSourceId: ID })).kind, 'success');
  });

  it('says why what is not a report cannot be read', () => {
    assert.deepEqual(decodeReport('success', 'not base64 json'), { kind: 'unreadable', reason: 'not base64 JSON' });
    assert.deepEqual(decodeReport('success', b64({ nope: 1 })), { kind: 'unreadable', reason: 'no IngestionSourceId' });
    assert.deepEqual(decodeReport('success', b64([1])), { kind: 'unreadable', reason: 'not a JSON object' });
    assert.equal(decodeReport('success', b64({ IngestionSourceId: 'x'.repeat(65) })).kind, 'unreadable');
  });
});
