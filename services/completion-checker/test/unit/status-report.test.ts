import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeReport, failureStatusOf } from '../../src/status-report.ts';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');

describe('completion-checker: ADX status reports', () => {
  it('decodes base64 JSON success and failure reports', () => {
    const ok = decodeReport('success', b64({ IngestionSourceId: 'id', Table: 'T', SucceededOn: 'now' }));
    assert.equal(ok?.IngestionSourceId, 'id');
    const failed = decodeReport(
      'failure',
      b64({ IngestionSourceId: 'id', ErrorCode: 'X', FailureStatus: 'Transient', ShouldRetry: true }),
    );
    assert.ok(failed?.kind === 'failure');
    assert.equal(failureStatusOf(failed), 'Transient');
    assert.equal(failureStatusOf({ ...failed, FailureStatus: 'RetryAttemptsExceeded' }), 'Exhausted');
    assert.equal(failureStatusOf({ ...failed, FailureStatus: undefined }), 'Permanent');
  });

  it('returns undefined for what is not a report', () => {
    assert.equal(decodeReport('success', 'not base64 json'), undefined);
    assert.equal(decodeReport('success', b64({ nope: 1 })), undefined);
  });
});
