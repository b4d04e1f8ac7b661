// When the dispatcher next scans for due deliveries. Pure: the caller passes `now`.
//
// New deliveries of this process are claimed the moment they are queued (DeliveryHub), so
// the scan is for everything else: retries falling due, deliveries queued by other processes
// (an API node with DISPATCHER=off, another API node, a redeliver), leases of dead workers.
// The dispatcher sleeps until the earliest due time it knows of, but never longer than
// MAX_SCAN_INTERVAL_MS: other processes schedule rows this one has not seen, and the
// contract starts a due retry within 250 ms of its time.

export const MAX_SCAN_INTERVAL_MS = 250;
/**
 * The shortest sleep. A due row that the last scan did not return is being claimed by another
 * worker right now (SKIP LOCKED passed over it); looking again at once would spin.
 */
export const MIN_SCAN_INTERVAL_MS = 10;

export function msUntilNextScan(now: Date, nextDueAt: Date | null, maxMs = MAX_SCAN_INTERVAL_MS, minMs = MIN_SCAN_INTERVAL_MS): number {
  if (nextDueAt === null) return maxMs;
  const until = nextDueAt.getTime() - now.getTime();
  return Math.min(maxMs, Math.max(minMs, until));
}

/** The earlier of two due times, either possibly unknown (null). */
export function earliest(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.getTime() <= b.getTime() ? a : b;
}
