/**
 * Why a document cannot be read at all. Each is permanent: fetching the same bytes again cannot fix it,
 * so the handler dead-letters with the reason as the dead-letter reason.
 */
export type DocumentFailure = 'CorruptCompression' | 'TruncatedDocument' | 'InvalidDocument' | 'DecompressionLimit';

export class DocumentError extends Error {
  readonly reason: DocumentFailure;
  constructor(reason: DocumentFailure, message: string) {
    super(message);
    this.name = 'DocumentError';
    this.reason = reason;
  }
}

export function isDocumentError(err: unknown): err is DocumentError {
  return err instanceof DocumentError;
}
