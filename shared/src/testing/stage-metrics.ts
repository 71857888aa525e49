import type { StageMetrics } from '../telemetry/metrics.ts';

/** What a handler reported through a {@link recordingStageMetrics}; failures keep their raw reasons, in order. */
export interface RecordedStageMetrics {
  records: number;
  bytes: number;
  duplicates: number;
  failures: string[];
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
    failure: (reason) => {
      seen.failures.push(reason);
    },
    duplicate: (n = 1) => {
      seen.duplicates += n;
    },
  };
  return { seen, metrics };
}
