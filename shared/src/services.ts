/** The six services, in the order a local run starts them (consumers before producers). */
export const SERVICES = [
  'blob-scanner',
  'adx-ingester',
  'completion-checker',
  'la-uploader',
  's3-fetcher',
  'sqs-poller',
] as const;
export type Service = (typeof SERVICES)[number];

export function isService(name: string): name is Service {
  return (SERVICES as readonly string[]).includes(name);
}
