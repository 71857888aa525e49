import { createRandom } from './random.ts';

const USERS = ['ana.silva', 'ben.okafor', 'chen.wei', 'dana.levi', 'eric.novak', 'fatima.zahra', 'gus.meyer'];
const DOMAIN = 'contoso.example';
const EVENT_TYPES = ['file-created', 'file-modified', 'file-downloaded'] as const;
const EXPOSURES = [
  [],
  ['RemovableMedia'],
  ['CloudStorage'],
  ['ApplicationRead'],
  ['IsPublic'],
  ['SharedViaLink'],
  ['OutsideTrustedDomains'],
] as const;
const FILES = [
  ['Q3-forecast.xlsx', 'Documents/Finance/', 'Spreadsheet'],
  ['customer-list.csv', 'Downloads/', 'Spreadsheet'],
  ['roadmap-2025.pptx', 'Documents/Strategy/', 'Presentation'],
  ['source.zip', 'Projects/backend/', 'Archive'],
  ['contract-signed.pdf', 'Documents/Legal/', 'Pdf'],
  ['design.fig', 'Projects/ui/', 'Other'],
  ['passwords.txt', 'Desktop/', 'Text'],
] as const;
const DESTINATIONS = ['Dropbox', 'Google Drive', 'USB (SanDisk Ultra)', 'Gmail', 'Slack', undefined];

export type FileEvent = Record<string, unknown> & { '@timestamp': string; eventId: string; eventType: string };

/**
 * File events shaped like Code42 Incydr's file-event export (flattened v1 names): when, who, which file
 * on which device, how it was exposed, and the risk Incydr scored. Timestamps spread over the minutes
 * before `now`, so TimeGenerated in the sink differs from ingestion time as it does in production.
 */
export function code42FileEvents(count: number, options: { seed?: number; now?: Date } = {}): FileEvent[] {
  const rnd = createRandom(options.seed ?? Date.now());
  const now = options.now ?? new Date();
  const events: FileEvent[] = [];
  for (let i = 0; i < count; i++) {
    const user = rnd.pick(USERS);
    const [fileName, folder, category] = rnd.pick(FILES);
    const eventType = rnd.pick(EVENT_TYPES);
    const exposure = eventType === 'file-downloaded' ? ['ApplicationRead'] : [...rnd.pick(EXPOSURES)];
    const riskScore = Math.min(10, exposure.length * 3 + (category === 'Archive' ? 2 : 0) + rnd.int(0, 3));
    const timestamp = new Date(now.getTime() - rnd.int(0, 15 * 60_000));
    const host = `${user.split('.')[0]}-laptop`;
    const destination = exposure.length > 0 ? rnd.pick(DESTINATIONS) : undefined;
    events.push({
      '@timestamp': timestamp.toISOString(),
      eventId: `0_${rnd.uuid()}_${rnd.int(10 ** 14, 10 ** 15 - 1)}_${rnd.int(10 ** 17, 10 ** 18 - 1)}_${i}`,
      eventType,
      eventTimestamp: timestamp.toISOString(),
      insertionTimestamp: new Date(timestamp.getTime() + rnd.int(5_000, 90_000)).toISOString(),
      fileName,
      filePath: `C:/Users/${user}/${folder}`,
      fileSize: rnd.int(512, 50_000_000),
      fileCategory: category,
      fileOwner: user,
      md5Checksum: rnd.hex(32),
      sha256Checksum: rnd.hex(64),
      deviceUserName: `${user}@${DOMAIN}`,
      osHostName: host,
      deviceUid: String(rnd.int(10 ** 17, 10 ** 18 - 1)),
      publicIpAddress: `203.0.113.${rnd.int(1, 254)}`,
      privateIpAddresses: [`10.20.${rnd.int(0, 255)}.${rnd.int(1, 254)}`],
      source: 'Endpoint',
      exposure,
      ...(destination ? { destinationName: destination } : {}),
      processName: eventType === 'file-downloaded' ? 'chrome.exe' : rnd.pick(['explorer.exe', 'EXCEL.EXE', 'Code.exe']),
      riskScore,
      riskSeverity: riskScore >= 9 ? 'CRITICAL' : riskScore >= 7 ? 'HIGH' : riskScore >= 4 ? 'MODERATE' : 'LOW',
      trusted: exposure.length === 0,
    });
  }
  return events;
}
