import { QueueClient } from '@azure/storage-queue';
import { describeError, type Probe } from './probe.ts';

// Probes of ADX as adx-ingester and completion-checker use it: its data-management endpoint and status queues.

export interface IngestionResource {
  readonly type: string;
  /** Queue or container URL with ADX's SAS: never printed whole (see withoutQuery). */
  readonly url: string;
}

/** `.get ingestion resources` on the data-management endpoint, asked once however many probes read it. */
export function ingestionResources(
  ingestUri: string,
  token: (() => Promise<string>) | undefined,
): () => Promise<readonly IngestionResource[]> {
  let answer: Promise<readonly IngestionResource[]> | undefined;
  return () => {
    answer ??= (async () => {
      const headers: Record<string, string> = {
        'content-type': 'application/json; charset=utf-8',
        accept: 'application/json',
      };
      if (token) headers.authorization = `Bearer ${await token()}`;
      const res = await fetch(new URL('/v1/rest/mgmt', ingestUri), {
        method: 'POST',
        headers,
        body: JSON.stringify({ db: 'NetDefaultDB', csl: '.get ingestion resources' }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status} from ${ingestUri}: ${text.slice(0, 200)}`);
      const table = (JSON.parse(text) as { Tables?: { Columns?: { ColumnName?: string }[]; Rows?: unknown[][] }[] })
        .Tables?.[0];
      const column = (name: string) => table?.Columns?.findIndex((c) => c.ColumnName === name) ?? -1;
      const [typeAt, urlAt] = [column('ResourceTypeName'), column('StorageRoot')];
      return (table?.Rows ?? []).map((row) => ({ type: String(row[typeAt] ?? ''), url: String(row[urlAt] ?? '') }));
    })();
    return answer;
  };
}

/** `.get ingestion resources` on the data-management endpoint: what adx-ingester asks first. */
export function kustoProbe(ingestUri: string, resources: () => Promise<readonly IngestionResource[]>): Probe {
  return {
    name: 'ADX data management',
    async run() {
      const rows = (await resources()).length;
      if (rows === 0)
        throw new Error(`${ingestUri} answered without ingestion resources (is this the ingest- endpoint?)`);
      return `${ingestUri}: ${rows} ingestion resources`;
    },
  };
}

/** Peeks each of ADX's status queues of one kind through the SAS URLs ADX hands out, as completion-checker reads them. */
export function statusQueueProbe(
  type: 'SuccessfulIngestionsQueue' | 'FailedIngestionsQueue',
  resources: () => Promise<readonly IngestionResource[]>,
): Probe {
  return {
    name: `ADX status queue ${type}`,
    async run() {
      let all: readonly IngestionResource[];
      try {
        all = await resources();
      } catch (err) {
        throw new Error(`not checked: .get ingestion resources failed (${describeError(err)})`);
      }
      const urls = all.filter((r) => r.type === type).map((r) => r.url);
      if (urls.length === 0) throw new Error(`.get ingestion resources lists no ${type}`);
      const peeked: string[] = [];
      for (const url of urls) {
        const queue = new QueueClient(url, undefined, { retryOptions: { maxTries: 1 } });
        try {
          const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 1 });
          peeked.push(`${withoutQuery(url)} (${peekedMessageItems.length > 0 ? 'messages waiting' : 'empty'})`);
        } catch (err) {
          throw new Error(`${withoutQuery(url)}: ${describeError(err)}`);
        }
      }
      return `peeked ${peeked.join(', ')}`;
    },
  };
}

/** A URL without its query string, where a SAS lives. */
function withoutQuery(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}
