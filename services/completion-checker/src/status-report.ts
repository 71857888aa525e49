import { z } from 'zod';

/** ADX's success report (base64 JSON on the SuccessfulIngestionsQueue). Extra fields are kept, unused. */
const SuccessReport = z.looseObject({
  IngestionSourceId: z.string().min(1).max(64),
  Database: z.string().max(256).optional(),
  Table: z.string().max(256).optional(),
  OperationId: z.string().max(64).optional(),
  IngestionSourcePath: z.string().max(4096).optional(),
  SucceededOn: z.string().max(64).optional(),
});

/** ADX's failure report (FailedIngestionsQueue). */
const FailureReport = SuccessReport.extend({
  FailedOn: z.string().max(64).optional(),
  Details: z.string().optional(),
  ErrorCode: z.string().max(256).optional(),
  FailureStatus: z.string().max(64).optional(),
  ShouldRetry: z.boolean().optional(),
  OriginatesFromUpdatePolicy: z.boolean().optional(),
});

export type StatusReport =
  | ({ kind: 'success' } & z.infer<typeof SuccessReport>)
  | ({ kind: 'failure' } & z.infer<typeof FailureReport>);

/** Decodes one queue message; undefined for text that is not a report (left to its owner, like a foreign one). */
export function decodeReport(kind: 'success' | 'failure', messageText: string): StatusReport | undefined {
  let data: unknown;
  try {
    const text = /^\s*\{/.test(messageText) ? messageText : Buffer.from(messageText, 'base64').toString('utf8');
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = (kind === 'success' ? SuccessReport : FailureReport).safeParse(data);
  return parsed.success ? ({ kind, ...parsed.data } as StatusReport) : undefined;
}

/** Transient failures are retried by us while attempts remain; Permanent and Exhausted are final. */
export function failureStatusOf(report: StatusReport & { kind: 'failure' }): 'Permanent' | 'Transient' | 'Exhausted' {
  const s = report.FailureStatus?.toLowerCase();
  if (s === 'transient') return 'Transient';
  if (s === 'exhausted' || s === 'retryattemptsexceeded') return 'Exhausted';
  return 'Permanent';
}
