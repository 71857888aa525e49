import type { TokenCredential } from '@azure/core-auth';
import { scrubExternalText } from '@logferry/shared/logging/redact';
import type { Mapping } from '@logferry/shared/mappings/index';
import { KustoConnectionStringBuilder } from 'azure-kusto-data';
import {
  BlobDescriptor,
  type DataFormat,
  IngestClient,
  type IngestionMappingKind,
  IngestionProperties,
  ReportLevel,
  ReportMethod,
} from 'azure-kusto-ingest';

export interface IngestBlobRequest {
  readonly blobUrl: string;
  /** Uncompressed size where known (staged batches), else the blob size. */
  readonly rawSize: number;
  /** v4 UUID; ADX's status reports carry it as IngestionSourceId. */
  readonly sourceId: string;
  readonly mapping: Mapping;
}

/** Queued ingestion into ADX; the port the handlers use (a fake in unit tests). */
export interface AdxIngestor {
  /** Resolves once ADX's ingestion queue holds the request (durable); throws AdxIngestError. */
  ingest(request: IngestBlobRequest): Promise<void>;
  close(): void;
}

export class AdxIngestError extends Error {
  readonly transient: boolean;
  constructor(message: string, transient: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AdxIngestError';
    this.transient = transient;
  }
}

export interface KustoIngestorOptions {
  readonly ingestUri: string;
  readonly database: string;
  readonly auth: { kind: 'none' } | { kind: 'azure'; credential: TokenCredential };
  readonly reportLevel: 'FailuresAndSuccesses' | 'FailuresOnly';
}

export function kustoConnection(uri: string, auth: KustoIngestorOptions['auth']): KustoConnectionStringBuilder {
  // A plain builder on loopback sends no Authorization header: the local stand-in's contract.
  return auth.kind === 'none'
    ? new KustoConnectionStringBuilder(uri)
    : KustoConnectionStringBuilder.withTokenCredential(uri, auth.credential);
}

export function createKustoIngestor(options: KustoIngestorOptions): AdxIngestor {
  const client = new IngestClient(kustoConnection(options.ingestUri, options.auth));
  const reportLevel =
    options.reportLevel === 'FailuresOnly' ? ReportLevel.FailuresOnly : ReportLevel.FailuresAndSuccesses;
  return {
    async ingest(request) {
      const { mapping } = request;
      const props = new IngestionProperties({
        database: options.database,
        table: mapping.table,
        format: mapping.format as DataFormat,
        ingestionMappingReference: mapping.mappingReference,
        ingestionMappingKind: mapping.mappingReference ? (mapping.mappingKind as IngestionMappingKind) : undefined,
        // Only a delimited file with a header line skips its first record (the original forced it for all).
        ignoreFirstRecord: mapping.ignoreFirstRecord,
        reportLevel,
        reportMethod: ReportMethod.Queue,
        // The client writes authorizationContext and more into this object: never share one between calls.
        additionalProperties: {},
      });
      try {
        await client.ingestFromBlob(new BlobDescriptor(request.blobUrl, request.rawSize, request.sourceId), props);
      } catch (error) {
        throw classify(error);
      }
    },
    close: () => client.close(),
  };
}

/** 401/403/400/404 from the cluster and invalid properties are permanent; the rest (5xx, 429, network, queue) is not. */
export function classify(error: unknown): AdxIngestError {
  // SAS signatures and bearer tokens in the SDK's or the cluster's text must not reach a log line or a status row.
  const message = scrubExternalText(error instanceof Error ? error.message : String(error));
  const name = error instanceof Error ? error.name : '';
  if (name === 'IngestionPropertiesValidationError' || /not a valid uuid/i.test(message)) {
    return new AdxIngestError(`invalid ingestion request: ${message}`, false, { cause: error });
  }
  const status = Number(
    /status code (\d{3})/.exec(message)?.[1] ?? (error as { response?: { status?: number } }).response?.status,
  );
  if ([400, 401, 403, 404].includes(status)) {
    return new AdxIngestError(`ADX refused the request (HTTP ${status}): ${firstLine(message)}`, false, {
      cause: error,
    });
  }
  return new AdxIngestError(`ADX ingestion request failed: ${firstLine(message)}`, true, { cause: error });
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? text).slice(0, 500);
}
