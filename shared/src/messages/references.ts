import type { Logger } from 'pino';
import { stagedBatchPrefix } from '../stores/staging.ts';
import type { DeadLetterCode, Delivery, Handler, Outcome } from '../transport/port.ts';
import type { IngestRequestMessage, MessageOf, StagedBatchMessage, TopicName } from './index.ts';

/**
 * A message is a claim check: it names a blob, and whoever can send to the topic chooses that name. So
 * before anything is read, written or deleted, the name is checked against the service's own configuration
 * (the container it may touch, the prefix its blobs live under) and against the forms that resolve
 * somewhere else once a URL is built from them (`..`, absolute paths, control characters).
 * A message that fails is dead-lettered with this reason: redelivery cannot make it allowed.
 */
export const FORBIDDEN_REFERENCE = 'ForbiddenReference' satisfies DeadLetterCode;

export type ReferenceVerdict = { readonly ok: true } | { readonly ok: false; readonly problem: string };

const OK: ReferenceVerdict = { ok: true };
const refuse = (problem: string): ReferenceVerdict => ({ ok: false, problem });

// C0 controls, DEL and C1 controls: invisible in logs and the page, and some proxies and SDKs rewrite them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why a blob name may not be used as given, or undefined when it is a plain relative name. */
export function blobNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 1024) return 'blob name must be 1–1024 characters';
  if (CONTROL.test(name)) return 'blob name contains a control character';
  if (name.startsWith('/') || name.startsWith('\\')) return 'blob name is absolute';
  if (/^[a-z][a-z0-9+.-]*:/i.test(name)) return 'blob name looks like a URL or a drive path';
  // The Blob SDK builds a URL from the name (keeping `%XX` as given), and URL resolution removes `.` and `..`
  // segments, percent-encoded ones too, with `\` taken for `/`: `../victim/x` would name another container.
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    // Not valid percent-encoding: the name is used as it stands.
  }
  for (const form of new Set([name, decoded])) {
    if (form.split(/[/\\]/).some((segment) => segment === '.' || segment === '..')) {
      return 'blob name has a `.` or `..` path segment';
    }
  }
  return undefined;
}

export interface BlobReferenceRules {
  /** The containers this message type may name (the configured staging or data container). */
  readonly containers: readonly string[];
  /** When set, the name must start with it (e.g. `<source>/` for a staged batch). */
  readonly prefix?: string;
}

/** Checks a (container, blob name) pair a message carries against what the service's configuration allows. */
export function checkBlobReference(container: string, name: string, rules: BlobReferenceRules): ReferenceVerdict {
  if (!rules.containers.includes(container)) {
    return refuse(`container ${JSON.stringify(container)} is not the configured one (${rules.containers.join(', ')})`);
  }
  const problem = blobNameProblem(name);
  if (problem !== undefined) return refuse(problem);
  if (rules.prefix !== undefined && !name.startsWith(rules.prefix)) {
    return refuse(`blob name is not under ${JSON.stringify(rules.prefix)}`);
  }
  return OK;
}

/** A staged batch: in the staging container, under its own source's folder. */
export function checkStagedBatchReference(m: StagedBatchMessage, stagingContainer: string): ReferenceVerdict {
  return checkBlobReference(m.blobContainer, m.blobName, {
    containers: [stagingContainer],
    prefix: stagedBatchPrefix(m.source),
  });
}

/** An ingest request: a blob of the data container. */
export function checkIngestRequestReference(m: IngestRequestMessage, dataContainer: string): ReferenceVerdict {
  return checkBlobReference(m.container, m.blobName, { containers: [dataContainer] });
}

export interface ReferenceGuardOptions<T extends TopicName> {
  readonly check: (body: MessageOf<T>) => ReferenceVerdict;
  /** Names the reference in the dead-letter description, e.g. `staging/x.ndjson.gz`. */
  readonly describe: (body: MessageOf<T>) => string;
  readonly logger: Logger;
  /** Counts each refusal (a stage's failure counter, by reason). */
  readonly onForbidden?: (reason: typeof FORBIDDEN_REFERENCE) => void;
}

/**
 * Wraps a handler so a message whose reference fails `check` is dead-lettered ForbiddenReference before the
 * handler runs: nothing is read, written or deleted on its behalf.
 */
export function guardReferences<T extends TopicName>(
  handler: Handler<T>,
  options: ReferenceGuardOptions<T>,
): Handler<T> {
  return async (delivery: Delivery<MessageOf<T>>): Promise<Outcome> => {
    const verdict = options.check(delivery.body);
    if (verdict.ok) return handler(delivery);
    // JSON.stringify escapes control characters, so a forged name cannot forge log lines or the description.
    const what = JSON.stringify(options.describe(delivery.body)).slice(0, 600);
    options.logger.warn(
      { messageId: delivery.messageId, reference: what, problem: verdict.problem },
      'message names a blob outside what this service may touch; dead-lettering',
    );
    options.onForbidden?.(FORBIDDEN_REFERENCE);
    return { kind: 'deadLetter', reason: FORBIDDEN_REFERENCE, description: `${what}: ${verdict.problem}` };
  };
}
