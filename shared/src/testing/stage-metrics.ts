import type { StageMetrics } from '../telemetry/metrics.ts';
import type { FailureCode } from '../transport/failure-codes.ts';

/** What a handler reported through a {@link recordingStageMetrics}; failures by code, in order. */
export interface RecordedStageMetrics {
  records: number;
  bytes: number;
  duplicates: number;
  failures: FailureCode[];
}

/** A StageMetrics that records in memory what a handler reports, for tests to assert on. */
export function recordingStageMetrics(): { seen: RecordedStageMetrics; metrics: StageMetrics } {
  const seen: RecordedStageMetrics = { records: 0, bytes: 0, duplicates: 0, failures: [] };
  const metrics: StageMetrics = {
    records: (n) => {
      seen.records += n;
    },
    bytes: (n) => {
      seen.bytes += n;
    },
    failure: (code) => {
      seen.failures.push(code);
    },
    duplicate: (n = 1) => {
      seen.duplicates += n;
    },
  };
  return { seen, metrics };
}
