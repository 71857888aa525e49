/**
 * What asks a supervising CLI (`run all`) to stop: SIGINT, SIGTERM, or its parent going away.
 *
 * - A terminal's Ctrl-C reaches the whole foreground group, so under `npm start` this process gets SIGINT twice
 *   (from the terminal, and forwarded by npm) within a millisecond: signals within SAME_REQUEST_MS of the first
 *   are that one request. A later one means "now": `repeated` is true.
 * - A supervisor may kill npm (or the shell) without a signal reaching this process: the parent's death shows as
 *   a changed ppid (re-parented to init or a subreaper), polled every PARENT_POLL_MS. Without it the CLI, and the
 *   stand-ins and services it started, would run on as orphans.
 */
export type StopReason = 'SIGINT' | 'SIGTERM' | 'parent exited';

const SAME_REQUEST_MS = 1_000;
const PARENT_POLL_MS = 250;

export interface StopRequests {
  /** Stop listening (the signals' default actions do not come back: the process is on its way out). */
  dispose(): void;
}

export function onStopRequest(handler: (reason: StopReason, repeated: boolean) => void): StopRequests {
  let firstAt: number | undefined;
  const request = (reason: StopReason) => {
    const now = Date.now();
    if (firstAt === undefined) {
      firstAt = now;
      handler(reason, false);
    } else if (now - firstAt >= SAME_REQUEST_MS) handler(reason, true);
  };
  const onSigint = () => request('SIGINT');
  const onSigterm = () => request('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const parent = process.ppid;
  const poll = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(poll);
    request('parent exited');
  }, PARENT_POLL_MS);
  poll.unref();
  return {
    dispose() {
      clearInterval(poll);
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    },
  };
}
