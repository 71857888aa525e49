// Source formats of the end-to-end corpus and the rows their ADX mappings make of them (written from
// mappings.json and deploy/adx/*.kql by hand, not by the stand-in's parser).
import { gzipSync } from 'node:zlib';

export type Row = Record<string, unknown>;

// ---- TrafficFlows: CSV with a header line (mapping by ordinal, ignoreFirstRecord) -------------------

export type Flow = readonly [
  time: string,
  src: string,
  dst: string,
  sport: number,
  dport: number,
  proto: string,
  bytes: number,
  packets: number,
  action: string,
];

export const FLOWS_HEADER = 'TimeGenerated,SrcIp,DstIp,SrcPort,DstPort,Protocol,Bytes,Packets,Action';

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function flowsCsv(flows: readonly Flow[]): Buffer {
  return Buffer.from(`${[FLOWS_HEADER, ...flows.map((f) => f.map(csvField).join(','))].join('\n')}\n`);
}

export function flowRows(flows: readonly Flow[]): Row[] {
  return flows.map(([time, src, dst, sport, dport, proto, bytes, packets, action]) => ({
    TimeGenerated: new Date(time).toISOString(),
    SrcIp: src,
    DstIp: dst,
    SrcPort: sport,
    DstPort: dport,
    Protocol: proto,
    Bytes: bytes,
    Packets: packets,
    Action: action,
  }));
}

// ---- AuthEvents: one JSON object per line (json mapping by path) ----------------------------------

export interface AuthEvent {
  time: string;
  user: { upn: string };
  result: string;
  client: { ip: string };
  app: string;
  details?: Record<string, unknown>;
  extra?: unknown;
}

export function authJson(events: readonly AuthEvent[]): Buffer {
  return Buffer.from(`${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
}

export function authRows(events: readonly AuthEvent[]): Row[] {
  return events.map((e) => ({
    TimeGenerated: new Date(e.time).toISOString(),
    UserPrincipalName: e.user.upn,
    Result: e.result,
    SrcIp: e.client.ip,
    Application: e.app,
    Details: e.details ?? null,
  }));
}

export function authEvent(i: number): AuthEvent {
  return {
    time: new Date(Date.UTC(2024, 4, 1, 9, 0, i)).toISOString(),
    user: { upn: `user${i}@contoso.example` },
    result: i % 3 === 0 ? 'failure' : 'success',
    client: { ip: `203.0.113.${(i % 250) + 1}` },
    app: 'VPN',
    details: { method: 'fido2', n: i },
  };
}

// ---- DnsQueries: gzip, pretty-printed concatenated JSON (multijson) -------------------------------

export interface DnsQuery {
  ts: string;
  client: string;
  query: { name: string; type: string };
  rcode: string;
  answers: string[];
}

export function dnsGzip(queries: readonly DnsQuery[]): Buffer {
  return gzipSync(queries.map((q) => JSON.stringify(q, null, 2)).join('\n'));
}

export function dnsRows(queries: readonly DnsQuery[]): Row[] {
  return queries.map((q) => ({
    TimeGenerated: new Date(q.ts).toISOString(),
    ClientIp: q.client,
    QueryName: q.query.name,
    QueryType: q.query.type,
    ResponseCode: q.rcode,
    Answers: q.answers,
  }));
}
