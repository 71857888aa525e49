import { createHttpHeaders, createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import type { ContainerClient } from '@azure/storage-blob';
import { BlobListFormatError, type ListedBlob, parseBlobListPage } from './blob-list-xml.ts';

export type { ListedBlob } from './blob-list-xml.ts';

export interface ListBlobPagesOptions {
  readonly prefix?: string | undefined;
  /** maxresults: the service caps a page at 5,000 blobs. */
  readonly pageSize: number;
  readonly abortSignal?: AbortSignal;
  /** A larger answer fails the listing (BlobListFormatError); MAX_LIST_PAGE_BYTES unless given. */
  readonly maxPageBytes?: number;
}

/** What a ContainerClient holds of the SDK's request layer (a protected member, typed in its .d.ts). */
interface StorageContext {
  readonly version: string;
  sendRequest(request: ReturnType<typeof createPipelineRequest>): Promise<{
    readonly status: number;
    readonly headers: { get(name: string): string | undefined };
    readonly bodyAsText?: string | null;
    readonly readableStreamBody?: NodeJS.ReadableStream;
  }>;
}

/**
 * A page of 5,000 blobs with long names is a few MiB; an answer far past that is not a listing, and
 * reading it whole would put the scanner's memory at the mercy of whatever answers on the account URL.
 */
export const MAX_LIST_PAGE_BYTES = 32 * 1024 * 1024;

/**
 * Lists a container page by page (List Blobs, flat), as `ContainerClient.listBlobsFlat().byPage()` does,
 * through the same client's pipeline: the same credential, retries, API version and tracing. Only the
 * answer is read differently: streamed, capped, and scanned by `parseBlobListPage`, which costs a small
 * part of the SDK's XML deserialization (on a rescan of unchanged blobs that was most of the scan's CPU).
 */
export async function* listBlobPages(
  container: ContainerClient,
  options: ListBlobPagesOptions,
): AsyncGenerator<ListedBlob[], void, undefined> {
  const context = storageContextOf(container);
  let marker: string | undefined;
  do {
    const query = [`restype=container`, `comp=list`, `maxresults=${options.pageSize}`];
    if (options.prefix !== undefined) query.push(`prefix=${encodeURIComponent(options.prefix)}`);
    if (marker !== undefined) query.push(`marker=${encodeURIComponent(marker)}`);
    const request = createPipelineRequest({
      url: withQuery(container.url, query),
      method: 'GET',
      // As the storage SDK's own requests: the scheme is the configured account URL's (http for Azurite).
      allowInsecureConnection: true,
      headers: createHttpHeaders({ 'x-ms-version': context.version, accept: 'application/xml' }),
      // A streamed answer skips core-client's deserialization policy, which otherwise runs its own XML
      // parser over every XML body (operation spec or not): that parse was most of a rescan's CPU.
      streamResponseStatusCodes: new Set([200]),
      ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal }),
    });
    const response = await context.sendRequest(request);
    if (response.status !== 200) {
      discard(response.readableStreamBody);
      // The code and status only: the service's error body is not ours to echo.
      const code = response.headers.get('x-ms-error-code') ?? 'UnknownError';
      throw new RestError(`List Blobs failed: ${response.status} ${code}`, { statusCode: response.status, code });
    }
    const body = response.readableStreamBody
      ? await readCapped(response.readableStreamBody, options.maxPageBytes ?? MAX_LIST_PAGE_BYTES)
      : (response.bodyAsText ?? '');
    const page = parseBlobListPage(body);
    marker = page.nextMarker;
    yield page.blobs;
  } while (marker !== undefined);
}

async function readCapped(stream: NodeJS.ReadableStream, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > maxBytes) {
      discard(stream);
      throw new BlobListFormatError(`List Blobs answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function discard(stream: NodeJS.ReadableStream | undefined): void {
  if (stream && 'destroy' in stream && typeof stream.destroy === 'function') stream.destroy();
}

function storageContextOf(container: ContainerClient): StorageContext {
  const context = (container as unknown as { storageClientContext?: Partial<StorageContext> }).storageClientContext;
  if (typeof context?.sendRequest !== 'function' || typeof context.version !== 'string') {
    throw new Error('this @azure/storage-blob has no request context on ContainerClient; listBlobPages needs one');
  }
  return context as StorageContext;
}

/** The container URL may carry a SAS: the listing's parameters go after it. */
function withQuery(url: string, query: readonly string[]): string {
  const [base, existing] = url.split('?', 2) as [string, string | undefined];
  return `${base}?${existing ? `${existing}&` : ''}${query.join('&')}`;
}
