/** Extra time past lockedUntil before calling a lock lost, so a renewal in flight can land. */
const SLACK_MS = 500;

/**
 * Watches one delivery's lock. The SDK renews it in the background and moves `lockedUntil`
 * forward; when the lock runs out without having moved (renewal failed, or past
 * maxAutoLockRenewalDuration), the broker has already made the message available again, so the
 * handler's work on it should stop. Returns a stop function.
 */
export function watchLock(lockedUntil: () => Date | undefined, onLost: () => void, slackMs = SLACK_MS): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = () => {
    const until = lockedUntil()?.getTime();
    if (until === undefined || Number.isNaN(until) || stopped) return;
    const wait = Math.max(0, until - Date.now()) + slackMs;
    timer = setTimeout(check, wait);
    timer.unref();
  };
  const check = () => {
    if (stopped) return;
    const until = lockedUntil()?.getTime() ?? 0;
    // Renewed since we armed: the lock now ends in the future.
    if (until > Date.now()) return arm();
    stopped = true;
    onLost();
  };
  arm();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
