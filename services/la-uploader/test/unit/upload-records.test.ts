import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '@logferry/shared/logging/logger';
import type { RecordRange } from '@logferry/shared/stores/batch-status';
import type { UploadAnswer } from '../../src/logs-ingestion-client.ts';
import { type UploadPolicy, uploadRecords } from '../../src/upload-records.ts';

const lines = Array.from({ length: 8 }, (_, i) => Buffer.from(`{"i":${i}}`));
const logger = createLogger('test', { level: 'silent' });
const policy: UploadPolicy = { maxRequestBytes: 1_000, inlineRetryMs: 0, backoff: { baseMs: 1, maxMs: 2 } };

function run(answers: UploadAnswer[], options: { signal?: AbortSignal; policy?: UploadPolicy } = {}) {
  const accepted: RecordRange[] = [];
  let sent = 0;
  const result = uploadRecords({
    lineBytes: lines.map((l) => l.length),
    bodyFor: async () => Buffer.from('gzip body'),
    pending: [{ start: 0, end: lines.length }],
    client: {
      upload: async () => {
        sent += 1;
        return answers.shift() ?? { kind: 'accepted', status: 204 };
      },
    },
    policy: options.policy ?? policy,
    signal: options.signal ?? new AbortController().signal,
    logger,
    onAccepted: async (range) => {
      accepted.push(range);
    },
  });
  return { result, accepted, sent: () => sent };
}

describe('uploadRecords', () => {
  it('keeps a batch whose sink refuses our identity for later instead of dead-lettering it', async () => {
    const { result, accepted } = run([
      { kind: 'misconfigured', status: 403, detail: '403 AuthorizationFailed: no role' },
    ]);
    const r = await result;
    assert.equal(r.kind, 'retryLater');
    assert.equal(r.kind === 'retryLater' && r.code, 'LogsIngestionMisconfigured');
    assert.match(r.kind === 'retryLater' ? r.detail : '', /AuthorizationFailed/);
    assert.deepEqual(accepted, []);
  });

  it('hands a 5xx back at once when there is no inline retry budget', async () => {
    const r = await run([{ kind: 'transient', status: 502, detail: '502 Bad Gateway' }]).result;
    assert.deepEqual(r, { kind: 'retryLater', code: 'LogsIngestionUnavailable', detail: '502 Bad Gateway' });
  });

  it('retries in place within the budget', async () => {
    const { result, sent, accepted } = run(
      [
        { kind: 'transient', status: 500, detail: '500' },
        { kind: 'throttled', status: 429, retryAfterMs: 5, detail: '429' },
      ],
      { policy: { ...policy, inlineRetryMs: 5_000 } },
    );
    assert.deepEqual(await result, { kind: 'done' });
    assert.equal(sent(), 3);
    assert.deepEqual(accepted, [{ start: 0, end: 8 }]);
  });

  it('dead-letters a single record the API still calls too large', async () => {
    const tooLarge: UploadAnswer = { kind: 'tooLarge', status: 413, detail: '413 ContentLengthLimitExceeded' };
    const { result, accepted } = run([tooLarge, tooLarge, tooLarge, tooLarge]);
    const r = await result;
    assert.equal(r.kind, 'deadLetter');
    assert.equal(r.kind === 'deadLetter' && r.reason, 'RecordTooLarge');
    assert.deepEqual(accepted, [], 'nothing accepted before the first record was refused');
  });

  it('stops sending once the delivery is aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const { result, sent } = run([], { signal: ac.signal });
    assert.equal((await result).kind, 'retryLater');
    assert.equal(sent(), 0);
  });
});
