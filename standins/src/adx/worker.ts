import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlobClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import { z } from 'zod';
import type { Catalog } from './catalog.ts';
import { decompress, IngestError, isSupportedFormat, parseRows } from './formats.ts';

/** What the worker does to blobs whose name matches (the name without container, decoded). */
export interface AdxFaults {
  /** Fail permanently with this error code (default BadRequest_InvalidBlob). */
  readonly permanent?: { readonly match: RegExp; readonly errorCode?: string; readonly details?: string };
  /** Fail with a Transient report `times` times per blob (default 1), then ingest normally. */
  readonly transient?: { readonly match: RegExp; readonly times?: number; readonly errorCode?: string };
  /** Consume the ingestion and never report: a report that never arrives. */
  readonly silent?: { readonly match: RegExp };
  /** Answer every management command with this HTTP status (e.g. 503, 401). */
  readonly mgmtStatus?: number;
}

export interface IngestionRecord {
  readonly sourceId: string;
  readonly blobName: string;
  readonly database: string;
  readonly table: string;
  readonly outcome: 'succeeded' | 'failed' | 'silent';
  readonly rows: number;
  readonly errorCode?: string;
  readonly failureStatus?: 'Permanent' | 'Transient';
  readonly details?: string;
}

const QueueMessage = z.looseObject({
  Id: z.string().min(1),
  BlobPath: z.string().min(1),
  RawDataSize: z.number().nullish(),
  DatabaseName: z.string().min(1),
  TableName: z.string().min(1),
  ReportLevel: z.number().nullish(),
  ReportMethod: z.number().nullish(),
  AdditionalProperties: z
    .looseObject({
      format: z.string().optional(),
      ingestionMappingReference: z.string().optional(),
      ingestionMappingType: z.string().optional(),
      ignoreFirstRecord: z.boolean().optional(),
    })
    .nullish(),
});
type QueueMessage = z.infer<typeof QueueMessage>;

// ReportLevel as the SDK serialises it: 0 FailuresOnly, 1 DoNotReport, 2 FailuresAndSuccesses.
const DO_NOT_REPORT = 1;
const FAILURES_AND_SUCCESSES = 2;

export interface WorkerOptions {
  readonly ingestionQueue: QueueClient;
  readonly successQueue: QueueClient;
  readonly failureQueue: QueueClient;
  readonly catalog: Catalog;
  readonly sharedKey: { account: string; key: string };
  readonly pollIntervalMs: number;
  readonly maxBlobBytes: number;
  readonly faults: () => AdxFaults;
}

/** Consumes the ingestion queue like ADX's data management: download, parse with the mapping, store, report. */
export class IngestionWorker extends EventEmitter<{ ingestion: [IngestionRecord]; loopError: [unknown] }> {
  readonly records: IngestionRecord[] = [];
  readonly #options: WorkerOptions;
  readonly #transientSeen = new Map<string, number>();
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: WorkerOptions) {
    super();
    this.#options = options;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      let received = 0;
      try {
        const batch = await this.#options.ingestionQueue.receiveMessages({
          numberOfMessages: 32,
          visibilityTimeout: 60,
        });
        received = batch.receivedMessageItems.length;
        for (const item of batch.receivedMessageItems) {
          await this.#handle(item.messageText);
          await this.#options.ingestionQueue.deleteMessage(item.messageId, item.popReceipt);
        }
      } catch (error) {
        if (signal.aborted) return;
        this.emit('loopError', error);
      }
      if (received === 0) await sleep(this.#options.pollIntervalMs, undefined, { signal }).catch(() => undefined);
    }
  }

  async #handle(text: string): Promise<void> {
    let message: QueueMessage;
    try {
      message = QueueMessage.parse(JSON.parse(Buffer.from(text, 'base64').toString('utf8')));
    } catch {
      return; // ADX drops what it cannot read; so does the stand-in.
    }
    const blobName = blobNameOf(message.BlobPath);
    const base = { sourceId: message.Id, blobName, database: message.DatabaseName, table: message.TableName };
    const faults = this.#options.faults();
    if (faults.silent?.match.test(blobName)) return this.#record({ ...base, outcome: 'silent', rows: 0 });
    try {
      this.#injectFaults(faults, blobName);
      const rows = await this.#ingest(message);
      const record: IngestionRecord = { ...base, outcome: 'succeeded', rows };
      if (message.ReportLevel === FAILURES_AND_SUCCESSES)
        await this.#report(this.#options.successQueue, message, record);
      this.#record(record);
    } catch (error) {
      const e = error instanceof IngestError ? error : new IngestError('General_RetryableError', String(error), false);
      const record: IngestionRecord = {
        ...base,
        outcome: 'failed',
        rows: 0,
        errorCode: e.code,
        failureStatus: e.permanent ? 'Permanent' : 'Transient',
        details: e.message,
      };
      if (message.ReportLevel !== DO_NOT_REPORT) await this.#report(this.#options.failureQueue, message, record);
      this.#record(record);
    }
  }

  #injectFaults(faults: AdxFaults, blobName: string): void {
    if (faults.permanent?.match.test(blobName)) {
      throw new IngestError(
        faults.permanent.errorCode ?? 'BadRequest_InvalidBlob',
        faults.permanent.details ?? 'injected permanent failure',
      );
    }
    if (faults.transient?.match.test(blobName)) {
      const seen = this.#transientSeen.get(blobName) ?? 0;
      if (seen < (faults.transient.times ?? 1)) {
        this.#transientSeen.set(blobName, seen + 1);
        throw new IngestError(
          faults.transient.errorCode ?? 'General_RetryableError',
          'injected transient failure',
          false,
        );
      }
    }
  }

  async #ingest(message: QueueMessage): Promise<number> {
    const props = message.AdditionalProperties ?? {};
    const format = (props.format ?? 'csv').toLowerCase();
    if (!isSupportedFormat(format))
      throw new IngestError('BadRequest_FormatNotSupported', `format ${format} is not supported`);
    const columns = this.#options.catalog.columns(message.TableName);
    if (!columns) throw new IngestError('BadRequest_EntityNotFound', `table ${message.TableName} does not exist`);
    const kind = ['json', 'multijson', 'singlejson'].includes(format) ? 'json' : 'csv';
    let mapping: ReturnType<Catalog['mapping']>;
    if (props.ingestionMappingReference) {
      mapping = this.#options.catalog.mapping(message.TableName, kind, props.ingestionMappingReference);
      if (!mapping) {
        throw new IngestError(
          'BadRequest_MappingReferenceWasNotFound',
          `${kind} mapping '${props.ingestionMappingReference}' of table ${message.TableName} does not exist`,
        );
      }
    }
    const data = decompress(
      await this.#download(message.BlobPath),
      pathOnly(message.BlobPath),
      this.#options.maxBlobBytes,
    );
    const rows = parseRows(data.toString('utf8'), {
      format,
      columns,
      mapping,
      ignoreFirstRecord: props.ignoreFirstRecord === true,
    });
    this.#options.catalog.append(message.TableName, rows);
    return rows.length;
  }

  async #download(blobPath: string): Promise<Buffer> {
    // `;managed_identity=system` asks ADX to read with its own identity; the stand-in uses the account key.
    const [url = '', ...options] = blobPath.split(';');
    const managed = options.some((o) => /^managed_identity=/i.test(o));
    const { account, key } = this.#options.sharedKey;
    const client = managed ? new BlobClient(url, new StorageSharedKeyCredential(account, key)) : new BlobClient(url);
    try {
      const props = await client.getProperties();
      if ((props.contentLength ?? 0) > this.#options.maxBlobBytes) {
        throw new IngestError('Stream_InputStreamTooLarge', `blob exceeds ${this.#options.maxBlobBytes} bytes`);
      }
      return await client.downloadToBuffer();
    } catch (error) {
      if (error instanceof IngestError) throw error;
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404) throw new IngestError('Download_SourceNotFound', 'the blob does not exist');
      if (status === 403 || status === 401)
        throw new IngestError('Download_AccountNotAccessible', 'access to the blob was denied');
      throw new IngestError('Download_UnknownError', `download failed: ${(error as Error).message}`, false);
    }
  }

  async #report(queue: QueueClient, message: QueueMessage, record: IngestionRecord): Promise<void> {
    const now = new Date().toISOString();
    const report: Record<string, unknown> = {
      OperationId: randomUUID(),
      Database: message.DatabaseName,
      Table: message.TableName,
      IngestionSourceId: message.Id,
      IngestionSourcePath: pathOnly(message.BlobPath),
      RootActivityId: randomUUID(),
    };
    if (record.outcome === 'succeeded') report.SucceededOn = now;
    else {
      Object.assign(report, {
        FailedOn: now,
        Details: record.details ?? '',
        ErrorCode: record.errorCode ?? 'Unknown',
        FailureStatus: record.failureStatus ?? 'Permanent',
        OriginatesFromUpdatePolicy: false,
        ShouldRetry: record.failureStatus === 'Transient',
      });
    }
    await queue.sendMessage(Buffer.from(JSON.stringify(report)).toString('base64'));
  }

  #record(record: IngestionRecord): void {
    this.records.push(record);
    this.emit('ingestion', record);
  }
}

function pathOnly(blobPath: string): string {
  return blobPath.split(/[?;]/)[0] ?? blobPath;
}

/** The blob name inside its container, decoded (path-style for IP/localhost hosts such as Azurite). */
export function blobNameOf(blobPath: string): string {
  try {
    const url = new URL(pathOnly(blobPath));
    const segments = url.pathname.split('/').slice(1);
    const pathStyle = /^(\d+\.\d+\.\d+\.\d+|localhost|\[.*\])$/.test(url.hostname);
    return segments
      .slice(pathStyle ? 2 : 1)
      .map((s) => decodeURIComponent(s))
      .join('/');
  } catch {
    return blobPath;
  }
}
