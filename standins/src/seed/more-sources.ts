import { createRandom } from './random.ts';

const ACTORS = ['ana.silva@contoso.example', 'ben.okafor@contoso.example', 'admin@contoso.example'];
const AUDIT_TYPES = [
  'audit_log::logged_in/1',
  'audit_log::user_role_added/1',
  'audit_log::alert_rule_updated/1',
  'audit_log::watchlist_member_added/1',
] as const;

export type AuditEvent = Record<string, unknown> & { timestamp: string; id: string; type$: string };

/**
 * Audit events shaped like Code42 Incydr's audit-log export: one JSON array per file, `timestamp` ISO 8601,
 * `type$` naming the action. Spread over the minutes before `now`.
 */
export function code42AuditEvents(count: number, options: { seed?: number; now?: Date } = {}): AuditEvent[] {
  const rnd = createRandom(options.seed ?? Date.now());
  const now = options.now ?? new Date();
  return Array.from({ length: count }, (_, i) => ({
    type$: rnd.pick(AUDIT_TYPES),
    id: rnd.uuid(),
    actorId: String(rnd.int(10 ** 17, 10 ** 18 - 1)),
    actorName: rnd.pick(ACTORS),
    actorIpAddress: `203.0.113.${rnd.int(1, 254)}`,
    timestamp: new Date(now.getTime() - rnd.int(0, 15 * 60_000) - i).toISOString(),
    success: rnd.int(0, 9) > 0,
  }));
}

/** The default VPC flow log format (version 2), in its field order. */
export const VPC_FLOW_LOG_FIELDS = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
] as const;

export type FlowLogRecord = Record<(typeof VPC_FLOW_LOG_FIELDS)[number], string | null>;

/**
 * VPC flow log records as S3 delivery writes them (default format): `start`/`end` in epoch seconds, `-` for
 * "no data" on NODATA records (here every tenth), which a reader gets as null.
 */
export function vpcFlowLogRecords(count: number, options: { seed?: number; now?: Date } = {}): FlowLogRecord[] {
  const rnd = createRandom(options.seed ?? Date.now());
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return Array.from({ length: count }, (_, i) => {
    const start = now - rnd.int(60, 900) - i;
    const base = { version: '2', 'account-id': '123456789012', 'interface-id': `eni-0${rnd.hex(16)}` };
    const times = { start: String(start), end: String(start + 60) };
    if (i % 10 === 9) {
      const none = { srcaddr: null, dstaddr: null, srcport: null, dstport: null, protocol: null, packets: null };
      return { ...base, ...none, bytes: null, ...times, action: null, 'log-status': 'NODATA' };
    }
    return {
      ...base,
      srcaddr: `10.0.${rnd.int(0, 3)}.${rnd.int(1, 254)}`,
      dstaddr: `198.51.100.${rnd.int(1, 254)}`,
      srcport: String(rnd.int(1024, 65535)),
      dstport: String(rnd.pick([443, 80, 22, 53])),
      protocol: String(rnd.pick([6, 17])),
      packets: String(rnd.int(1, 500)),
      bytes: String(rnd.int(40, 900_000)),
      ...times,
      action: rnd.pick(['ACCEPT', 'REJECT']),
      'log-status': 'OK',
    };
  });
}

/** The records as a flow log file: header line, then one space-separated line per record. */
export function vpcFlowLogText(records: readonly FlowLogRecord[]): string {
  const lines = records.map((r) => VPC_FLOW_LOG_FIELDS.map((f) => r[f] ?? '-').join(' '));
  return `${VPC_FLOW_LOG_FIELDS.join(' ')}\n${lines.join('\n')}\n`;
}
