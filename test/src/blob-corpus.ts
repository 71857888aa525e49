// The blobs the end-to-end tests drop into the data container, and what each must become: its status
// and reason, and the exact rows ADX must hold. Column names and paths follow mappings.json and
// deploy/adx/*.kql; the expected rows are written from the source records by hand (not by the stand-in's
// parser), as a user would read the mapping.
import {
  type AuthEvent,
  authEvent,
  authJson,
  authRows,
  type DnsQuery,
  dnsGzip,
  dnsRows,
  FLOWS_HEADER,
  type Flow,
  flowRows,
  flowsCsv,
  type Row,
} from './blob-formats.ts';

export type { Row };
export { flowRows, flowsCsv };

export type Expectation =
  | { readonly status: 'succeeded'; readonly table: string; readonly rows: readonly Row[] }
  | { readonly status: 'skipped'; readonly reason: RegExp }
  | {
      readonly status: 'failed';
      readonly errorCode: string;
      readonly failureStatus: 'Permanent' | 'Transient' | 'Exhausted';
      readonly details: RegExp;
    };

export interface CorpusBlob {
  readonly name: string;
  readonly body: Buffer;
  readonly expect: Expectation;
}

const FLOWS_SAMPLE: readonly Flow[] = [
  ['2024-05-01T10:00:00Z', '10.0.1.15', '198.51.100.7', 51514, 443, 'TCP', 18432, 24, 'Allow'],
  ['2024-05-01T10:00:02Z', '10.0.1.15', '198.51.100.53', 53111, 53, 'UDP', 312, 2, 'Allow'],
  ['2024-05-01T10:00:05Z', '10.0.4.201', '203.0.113.9', 49822, 3389, 'TCP', 0, 1, 'Deny'],
  ['2024-05-01T10:00:09Z', '10.0.2.33', '198.51.100.80', 60001, 80, 'TCP', 5120, 7, 'Allow'],
  ['2024-05-01T10:00:13Z', '10.0.7.4', '198.51.100.22', 40404, 22, 'TCP', 2_147_483_648, 1_500_000, 'Allow'],
];

// Quoted fields (a comma inside Action) in a blob whose name needs encoding in URLs and table keys.
const FLOWS_ODD_NAME: readonly Flow[] = [
  ['2024-05-01T11:30:00.250Z', '10.9.0.1', '192.0.2.10', 50000, 8443, 'TCP', 900, 3, 'Deny, logged'],
  ['2024-05-01T11:30:01Z', '10.9.0.2', '192.0.2.11', 50001, 443, 'TCP', 1200, 4, 'Allow'],
];

const FLOWS_IN_FOLDER: readonly Flow[] = [
  ['2024-05-02T00:00:00Z', '10.3.3.3', '192.0.2.99', 41000, 123, 'UDP', 76, 1, 'Allow'],
];

/** The malformed CSV: its second record lost two fields. */
export const MALFORMED_NAME = 'TrafficFlows-malformed-2024-05-01.csv';
const MALFORMED_BODY = Buffer.from(
  `${FLOWS_HEADER}\n2024-05-01T12:00:00Z,10.0.0.1,192.0.2.1,50000,443,TCP,100,1,Allow\n2024-05-01T12:00:01Z,10.0.0.2,192.0.2.2,50001,443,TCP,200\n`,
);
/** The same file fixed by its owner and uploaded again. */
export const MALFORMED_FIXED: readonly Flow[] = [
  ['2024-05-01T12:00:00Z', '10.0.0.1', '192.0.2.1', 50000, 443, 'TCP', 100, 1, 'Allow'],
  ['2024-05-01T12:00:01Z', '10.0.0.2', '192.0.2.2', 50001, 443, 'TCP', 200, 2, 'Deny'],
];

const AUTH_SAMPLE: readonly AuthEvent[] = [
  {
    time: '2024-05-01T08:15:00Z',
    user: { upn: 'ana.silva@contoso.example' },
    result: 'success',
    client: { ip: '203.0.113.5' },
    app: 'Outlook',
    details: { method: 'fido2' },
  },
  {
    time: '2024-05-01T08:16:30.5Z',
    user: { upn: 'ben.okafor@contoso.example' },
    result: 'failure',
    client: { ip: '203.0.113.77' },
    app: 'Azure Portal',
    details: { method: 'password', code: 50126, tags: ['risky', 'new-device'] },
    extra: 'not mapped: ignored',
  },
  // No details: the Details column stays empty.
  {
    time: '2024-05-01T08:20:00Z',
    user: { upn: 'chen.wei@contoso.example' },
    result: 'mfa-required',
    client: { ip: '203.0.113.8' },
    app: 'Teams',
  },
];

const DNS_SAMPLE: readonly DnsQuery[] = [
  {
    ts: '2024-05-01T07:00:00Z',
    client: '10.0.5.5',
    query: { name: 'login.microsoftonline.com', type: 'A' },
    rcode: 'NOERROR',
    answers: ['198.51.100.10', '198.51.100.11'],
  },
  {
    ts: '2024-05-01T07:00:01Z',
    client: '10.0.5.6',
    query: { name: 'c2.bad.example', type: 'TXT' },
    rcode: 'NXDOMAIN',
    answers: [],
  },
  {
    ts: '2024-05-01T07:00:02Z',
    client: '10.0.5.7',
    query: { name: 'text "quoted" {braces}.example', type: 'AAAA' },
    rcode: 'NOERROR',
    answers: ['2001:db8::1'],
  },
];

// ---- The corpus -------------------------------------------------------------------------------------

export const ODD_NAME = 'TrafficFlows-branch office+vpn #2 2024-05-01.csv';

export function corpus(): CorpusBlob[] {
  return [
    {
      name: 'TrafficFlows-2024-05-01.csv',
      body: flowsCsv(FLOWS_SAMPLE),
      expect: { status: 'succeeded', table: 'TrafficFlows', rows: flowRows(FLOWS_SAMPLE) },
    },
    {
      name: ODD_NAME,
      body: flowsCsv(FLOWS_ODD_NAME),
      expect: { status: 'succeeded', table: 'TrafficFlows', rows: flowRows(FLOWS_ODD_NAME) },
    },
    {
      name: 'incoming/2024/TrafficFlows-folder.csv',
      body: flowsCsv(FLOWS_IN_FOLDER),
      expect: { status: 'succeeded', table: 'TrafficFlows', rows: flowRows(FLOWS_IN_FOLDER) },
    },
    {
      name: 'AuthEvents-2024-05-01.json',
      body: authJson(AUTH_SAMPLE),
      expect: { status: 'succeeded', table: 'AuthEvents', rows: authRows(AUTH_SAMPLE) },
    },
    {
      name: 'DnsQueries-2024-05-01.json.gz',
      body: dnsGzip(DNS_SAMPLE),
      expect: { status: 'succeeded', table: 'DnsQueries', rows: dnsRows(DNS_SAMPLE) },
    },
    {
      name: 'Firewall-2024-05-01.log',
      body: Buffer.from('May  1 10:00:00 fw01 DROP IN=eth0 SRC=203.0.113.1\n'),
      expect: { status: 'skipped', reason: /^NoMapping: no entry in mappings\.json for "Firewall"/ },
    },
    {
      name: 'AuthEvents-empty.json',
      body: Buffer.alloc(0),
      expect: { status: 'skipped', reason: /^empty blob \(0 bytes\)/ },
    },
    {
      name: MALFORMED_NAME,
      body: MALFORMED_BODY,
      expect: {
        status: 'failed',
        errorCode: 'Stream_WrongNumberOfFields',
        failureStatus: 'Permanent',
        details: /^Stream_WrongNumberOfFields \(Permanent\): record 2 has 7 fields; expected 9$/,
      },
    },
  ];
}

/** Rows each table must hold once the given blobs are ingested (tables without rows left out). */
export function expectedTables(blobs: readonly CorpusBlob[]): Record<string, Row[]> {
  const tables: Record<string, Row[]> = {};
  for (const b of blobs) {
    if (b.expect.status !== 'succeeded') continue;
    tables[b.expect.table] = [...(tables[b.expect.table] ?? []), ...b.expect.rows];
  }
  return tables;
}

/** `count` small AuthEvents blobs under `prefix`, one row each (for concurrency and crash tests). */
export function authBatch(prefix: string, count: number, firstIndex = 0): CorpusBlob[] {
  return Array.from({ length: count }, (_, k) => {
    const i = firstIndex + k;
    const events = [authEvent(i)];
    return {
      name: `AuthEvents-${prefix}-${String(i).padStart(4, '0')}.json`,
      body: authJson(events),
      expect: { status: 'succeeded', table: 'AuthEvents', rows: authRows(events) } as const,
    };
  });
}

/** Mixed small blobs of the three tables (for crash tests: every format goes through the restart). */
export function mixedBatch(prefix: string, count: number): CorpusBlob[] {
  return Array.from({ length: count }, (_, i) => {
    const n = String(i).padStart(4, '0');
    const minute = String(i % 60).padStart(2, '0');
    switch (i % 3) {
      case 0: {
        const flows: Flow[] = [
          [`2024-06-01T10:${minute}:00Z`, `10.1.0.${i % 250}`, '192.0.2.1', 40000 + i, 443, 'TCP', 100 + i, 1, 'Allow'],
        ];
        return {
          name: `TrafficFlows-${prefix}-${n}.csv`,
          body: flowsCsv(flows),
          expect: { status: 'succeeded', table: 'TrafficFlows', rows: flowRows(flows) } as const,
        };
      }
      case 1: {
        const events = [authEvent(10_000 + i)];
        return {
          name: `AuthEvents-${prefix}-${n}.json`,
          body: authJson(events),
          expect: { status: 'succeeded', table: 'AuthEvents', rows: authRows(events) } as const,
        };
      }
      default: {
        const queries: DnsQuery[] = [
          {
            ts: `2024-06-01T11:${minute}:00Z`,
            client: `10.2.0.${i % 250}`,
            query: { name: `host${i}.example`, type: 'A' },
            rcode: 'NOERROR',
            answers: [`198.51.100.${i % 250}`],
          },
        ];
        return {
          name: `DnsQueries-${prefix}-${n}.json.gz`,
          body: dnsGzip(queries),
          expect: { status: 'succeeded', table: 'DnsQueries', rows: dnsRows(queries) } as const,
        };
      }
    }
  });
}
