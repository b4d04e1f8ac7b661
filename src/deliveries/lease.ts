// How long a worker holds a claimed delivery, and when it may still start sending it.
// Pure functions: the caller passes `now`.
//
// The lease is what keeps two live workers from sending the same attempt: another worker
// takes a SENDING delivery only once its lease has ended, so the holder must be done (sent
// AND recorded) before then. A send is bounded by the delivery's own timeoutMs (got's
// `timeout.request` and undici's abort signal cover lookup, connect, headers and body), so a
// lease of timeout + margin is enough whatever DISPATCH_LEASE_MS says. The configured value is
// a floor (default 60 s, twice the longest timeout the API accepts): each claim gets
// max(DISPATCH_LEASE_MS, longest timeout in the batch + LEASE_SAFETY_MARGIN_MS).

/** Lease time beyond a delivery's timeout: the claim-to-start gap plus recording the result. */
export const LEASE_SAFETY_MARGIN_MS = 5_000;
/**
 * What must be left of the lease after the timeout when an attempt starts: the result still
 * has to be written. Smaller than the margin, which also pays for the gap between claim and start.
 */
export const RECORDING_ALLOWANCE_MS = 2_000;

/** The lease a claim of deliveries with these timeouts gets. */
export function leaseDurationMs(configuredLeaseMs: number, timeoutsMs: readonly number[]): number {
  const longest = timeoutsMs.reduce((max, t) => Math.max(max, t), 0);
  return Math.max(configuredLeaseMs, longest + LEASE_SAFETY_MARGIN_MS);
}

export function leaseEnd(now: Date, configuredLeaseMs: number, timeoutsMs: readonly number[]): Date {
  return new Date(now.getTime() + leaseDurationMs(configuredLeaseMs, timeoutsMs));
}

/**
 * Whether an attempt started now still ends, recorded, inside the lease. False after a stall
 * between claim and start (a long GC pause, a frozen VM): sending then could overlap with the
 * worker that takes the delivery over, so the claim is released instead.
 */
export function canStartBeforeLeaseEnds(now: Date, leaseEndsAt: Date, timeoutMs: number): boolean {
  return now.getTime() + timeoutMs + RECORDING_ALLOWANCE_MS <= leaseEndsAt.getTime();
}
