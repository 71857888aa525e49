import { gzipSync } from 'node:zlib';
import { createRandom } from './random.ts';

const PROTOCOLS = ['TCP', 'UDP'] as const;
const ACTIONS = ['Allow', 'Allow', 'Allow', 'Deny'] as const;

/**
 * `TrafficFlows` CSV with its header line (mappings.json: csv, ignoreFirstRecord), columns in the order
 * of deploy/adx/TrafficFlows.kql's ordinal mapping.
 */
export function trafficFlowsCsv(rows: number, options: { seed?: number; now?: Date } = {}): string {
  const rnd = createRandom(options.seed ?? Date.now());
  const now = (options.now ?? new Date()).getTime();
  const lines = ['TimeGenerated,SrcIp,DstIp,SrcPort,DstPort,Protocol,Bytes,Packets,Action'];
  for (let i = 0; i < rows; i++) {
    const packets = rnd.int(1, 400);
    lines.push(
      [
        new Date(now - rnd.int(0, 3_600_000)).toISOString(),
        `10.0.${rnd.int(0, 20)}.${rnd.int(1, 254)}`,
        `198.51.100.${rnd.int(1, 254)}`,
        rnd.int(1024, 65535),
        rnd.pick([443, 80, 53, 22, 3389, 8443]),
        rnd.pick(PROTOCOLS),
        packets * rnd.int(60, 1500),
        packets,
        rnd.pick(ACTIONS),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `AuthEvents` as one JSON object per line (mappings.json: json), the paths AuthEvents.kql maps. */
export function authEventsJson(rows: number, options: { seed?: number; now?: Date } = {}): string {
  const rnd = createRandom(options.seed ?? Date.now());
  const now = (options.now ?? new Date()).getTime();
  const out: string[] = [];
  for (let i = 0; i < rows; i++) {
    const result = rnd.pick(['success', 'success', 'success', 'failure', 'mfa-required']);
    out.push(
      JSON.stringify({
        time: new Date(now - rnd.int(0, 3_600_000)).toISOString(),
        user: { upn: `${rnd.pick(['ana.silva', 'ben.okafor', 'chen.wei', 'dana.levi'])}@contoso.example` },
        result,
        client: { ip: `203.0.113.${rnd.int(1, 254)}` },
        app: rnd.pick(['Outlook', 'Teams', 'Azure Portal', 'VPN']),
        details: {
          method: rnd.pick(['password', 'fido2', 'authenticator']),
          ...(result === 'failure' ? { code: 50126 } : {}),
        },
      }),
    );
  }
  return `${out.join('\n')}\n`;
}

/** `DnsQueries`: pretty-printed concatenated JSON objects, gzip-compressed (mappings.json: multijson, gzip). */
export function dnsQueriesGzip(rows: number, options: { seed?: number; now?: Date } = {}): Buffer {
  const rnd = createRandom(options.seed ?? Date.now());
  const now = (options.now ?? new Date()).getTime();
  const docs: string[] = [];
  for (let i = 0; i < rows; i++) {
    const name = rnd.pick(['login.microsoftonline.com', 'example.org', 'updates.contoso.example', 'c2.bad.example']);
    docs.push(
      JSON.stringify(
        {
          ts: new Date(now - rnd.int(0, 3_600_000)).toISOString(),
          client: `10.0.${rnd.int(0, 20)}.${rnd.int(1, 254)}`,
          query: { name, type: rnd.pick(['A', 'AAAA', 'TXT']) },
          rcode: name.includes('bad') ? 'NXDOMAIN' : 'NOERROR',
          answers: name.includes('bad') ? [] : [`198.51.100.${rnd.int(1, 254)}`],
        },
        null,
        2,
      ),
    );
  }
  return gzipSync(`${docs.join('\n')}\n`);
}
