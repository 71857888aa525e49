// blob-scanner's status API, called the way its page calls it (same origin, JSON, no credentials: local
// mode on loopback needs none).
import type { BlobStatus, BlobStatusRow } from '@logferry/shared/stores/blob-status';
import { waitUntil } from '@logferry/shared/testing/wait';

export interface ScanCounts {
  readonly listed: number;
  readonly queued: number;
  readonly unchanged: number;
  readonly skipped: number;
  readonly lostRace: number;
  readonly failed: number;
}

export interface ScanView {
  readonly scanId: string;
  readonly state: 'running' | 'completed' | 'failed';
  readonly replica: string;
  readonly error?: string;
  readonly counts: ScanCounts;
}

export interface ScanStarted {
  readonly status: number;
  readonly scanId: string;
  readonly alreadyRunning: boolean;
}

/** Statuses a blob keeps until something changes it (a new upload, a scan, a timeout). */
export const SETTLED: readonly BlobStatus[] = ['succeeded', 'failed', 'skipped'];

export class BlobApi {
  readonly base: URL;

  constructor(baseUrl: string) {
    this.base = new URL(baseUrl);
  }

  /** The page's scan button: POST /scans with a JSON body, from its own origin. */
  async postScan(body: { prefix?: string } = {}): Promise<ScanStarted> {
    const res = await fetch(new URL('/scans', this.base), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: this.base.origin },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { scanId?: string; alreadyRunning?: boolean; details?: { scanId?: string } };
    if (res.status !== 202 && res.status !== 409) {
      throw new Error(`POST /scans answered ${res.status}: ${JSON.stringify(json)}`);
    }
    const scanId = json.scanId ?? json.details?.scanId;
    if (!scanId) throw new Error(`POST /scans gave no scan id: ${JSON.stringify(json)}`);
    return { status: res.status, scanId, alreadyRunning: json.alreadyRunning === true || res.status === 409 };
  }

  async getScan(scanId: string): Promise<ScanView> {
    return this.#get<ScanView>(`/scans/${encodeURIComponent(scanId)}`);
  }

  /** Polls GET /scans/{id} until the scan ends; throws if it failed. */
  async waitForScan(scanId: string, timeoutMs = 20_000): Promise<ScanView> {
    let state = 'unread';
    return waitUntil(
      `scan ${scanId} to complete`,
      async () => {
        const scan = await this.getScan(scanId);
        if (scan.state === 'failed') throw new Error(`scan ${scanId} failed: ${scan.error ?? 'no reason'}`);
        state = scan.state;
        return scan.state === 'completed' && scan;
      },
      { timeoutMs, intervalMs: 100, diagnostics: () => `it is still ${state}` },
    );
  }

  /** GET /blobs/{name}: the row with its history, or undefined on 404. */
  async getBlob(name: string): Promise<BlobStatusRow | undefined> {
    const res = await fetch(new URL(`/blobs/${encodeURIComponent(name)}`, this.base));
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`GET /blobs/${name} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as BlobStatusRow;
  }

  /** Every row GET /blobs lists (following continuation tokens), keyed by blob name. */
  async listBlobs(filter: { status?: BlobStatus; prefix?: string } = {}): Promise<Map<string, BlobStatusRow>> {
    const rows = new Map<string, BlobStatusRow>();
    let token: string | null = null;
    do {
      const params = new URLSearchParams({ pageSize: '200', ...filter });
      if (token) params.set('continuationToken', token);
      const page: { items: BlobStatusRow[]; continuationToken: string | null } = await this.#get(`/blobs?${params}`);
      for (const row of page.items) rows.set(row.blobName, row);
      token = page.continuationToken;
    } while (token);
    return rows;
  }

  async counts(): Promise<Record<BlobStatus, number>> {
    return (await this.#get<{ counts: Record<BlobStatus, number> }>('/counts')).counts;
  }

  /**
   * Polls GET /blobs until every named blob's row satisfies `done` (default: a settled status);
   * the error names the blobs still waiting and what they show.
   */
  async waitForBlobs(
    names: readonly string[],
    options: { timeoutMs?: number; done?: (row: BlobStatusRow) => boolean; diagnostics?: () => string } = {},
  ): Promise<Map<string, BlobStatusRow>> {
    const done = options.done ?? ((row: BlobStatusRow) => SETTLED.includes(row.status));
    let rows = new Map<string, BlobStatusRow>();
    let waiting: readonly string[] = names;
    const stillWaiting = () => {
      const shown = waiting
        .slice(0, 10)
        .map((n) => `  ${JSON.stringify(n)}: ${rows.get(n)?.status ?? 'no row'} ${rows.get(n)?.lastError ?? ''}`);
      return `${waiting.length} of ${names.length} blobs not done:\n${shown.join('\n')}\n${options.diagnostics?.() ?? ''}`;
    };
    return waitUntil(
      'the blobs to be done',
      async () => {
        rows = await this.listBlobs();
        waiting = names.filter((n) => {
          const row = rows.get(n);
          return !row || !done(row);
        });
        return waiting.length === 0 && rows;
      },
      { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 250, diagnostics: stillWaiting },
    );
  }

  async #get<T>(path: string): Promise<T> {
    const res = await fetch(new URL(path, this.base));
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  }
}
