// The pace of a redeliverMany replay. Pure: the caller passes `now`.
//
// A replay re-queues its deliveries with due times spread at REDELIVER_MAX_PER_SECOND, so the
// dispatchers drain it at a bounded rate beside the live traffic instead of all at once (which
// took the two cores and MariaDB's commits from ingest: BENCHMARKS.md, "redeliverMany beside
// the pipeline"). Due times come in coarse steps, one per slice of at least SLICE_MS, so the
// dispatcher's due scans (one per distinct due time at most) stay few.

/** The shortest step between two due times of a replay. */
export const REDELIVER_SLICE_MS = 100;

export interface ReplayPace {
  /** Deliveries per second, at most. */
  perSecond: number;
  sliceMs?: number;
}

/** A step of the replay: `size` deliveries due together, one step every `intervalMs`. */
export interface ReplayStep {
  size: number;
  intervalMs: number;
}

/**
 * Where the replay's next delivery goes: the step due at `at` (ms since the epoch), of which
 * `used` places are taken.
 */
export interface ReplaySlot {
  at: number;
  used: number;
}

/** Whole deliveries per step, and the step's length so that the rate holds exactly. */
export function replayStep(pace: ReplayPace): ReplayStep {
  if (!(pace.perSecond > 0)) throw new Error(`a replay needs a positive rate, got ${pace.perSecond}`);
  const sliceMs = pace.sliceMs ?? REDELIVER_SLICE_MS;
  const size = Math.max(1, Math.ceil((pace.perSecond * sliceMs) / 1000));
  return { size, intervalMs: (size * 1000) / pace.perSecond };
}

/**
 * The slot the next batch starts from. A step whose time has passed is still used while it
 * is the current one (its places left are due at once, within the rate); once its interval
 * is over too, the replay starts again at `now` rather than queueing deliveries in the past,
 * which would make them due all at once.
 */
export function startSlot(previous: ReplaySlot | null, now: number, pace: ReplayPace): ReplaySlot {
  if (previous === null) return { at: now, used: 0 };
  const step = replayStep(pace);
  if (previous.used >= step.size) return startSlot({ at: previous.at + step.intervalMs, used: 0 }, now, pace);
  if (previous.at + step.intervalMs > now) return previous;
  return { at: now, used: 0 };
}

/** Due times (ms since the epoch, whole milliseconds) for the next `count` deliveries from `slot`, in order. */
export function dueTimes(slot: ReplaySlot, count: number, pace: ReplayPace): number[] {
  const step = replayStep(pace);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const position = slot.used + i;
    times.push(Math.floor(slot.at + Math.floor(position / step.size) * step.intervalMs));
  }
  return times;
}

/** The slot after `count` more deliveries were placed from `slot`. */
export function advanceSlot(slot: ReplaySlot, count: number, pace: ReplayPace): ReplaySlot {
  const step = replayStep(pace);
  const position = slot.used + count;
  const steps = Math.floor(position / step.size);
  return { at: slot.at + steps * step.intervalMs, used: position - steps * step.size };
}

/**
 * The pause after a batch that took `batchMs`: at least as long again, so the replay's write
 * transactions take at most about half of the database's time between ingest's commits.
 */
export function pauseAfterBatch(batchMs: number, minimumMs: number): number {
  return Math.max(minimumMs, Math.ceil(batchMs));
}
