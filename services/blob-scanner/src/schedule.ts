import type { Logger } from '@logferry/shared/logging/logger';
import type { Scanner } from './scanner.ts';

export interface ScheduleHandle {
  stop(): void;
}

/**
 * Starts a full scan every `intervalMs` on the replica that holds the leadership; the others stay idle.
 * A tick while this replica already runs a scan (manual, or a slow previous one) does nothing.
 */
export function startSchedule(options: {
  readonly intervalMs: number;
  readonly scanner: Pick<Scanner, 'start'>;
  readonly isLeader: () => boolean;
  readonly logger: Logger;
}): ScheduleHandle {
  if (options.intervalMs <= 0) return { stop() {} };
  const timer = setInterval(() => {
    if (!options.isLeader()) return;
    const result = options.scanner.start({ trigger: 'schedule' });
    if (result.kind === 'started') options.logger.info({ scanId: result.scan.scanId }, 'scheduled scan started');
    else options.logger.info({ scanId: result.scan.scanId }, 'scheduled scan skipped: a scan is already running');
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
