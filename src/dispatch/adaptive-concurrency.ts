// How many requests a dispatcher keeps out to one callback at once, learnt from that callback's
// answer times (TCP Vegas's rule, as Netflix's concurrency-limits library applies it to RPC
// clients). Pure: the dispatcher feeds in each answer's time and asks before each send.
//
// Why a limit per callback and not only DISPATCH_CONCURRENCY: every request out is one the
// receiver may have got whose result is not recorded yet, so a process killed at that moment
// sends all of them again (test/integration/crash-duplicates.test.ts). A fixed 64 out to a
// receiver that answers in a millisecond buys nothing (a drain ran as fast with 4 out as with
// 64, BENCHMARKS.md) but 64 duplicates on a crash. A slow receiver, on the other hand, needs
// many out to keep up. The limit grows while answers come back as fast as the quickest seen
// (no queue is building, here or at the receiver) and shrinks when they slow down, or time
// out, as more are sent.
//
// Answer times also carry the wait for this process's event loop. In a worker that wait is
// its own sending's, and sending less shortens it. In the API process it is mostly the
// ingest's (every recordEvent on the same loop), which sending less does not shorten: Vegas
// alone would shrink the limit while recordEvent keeps queuing postbacks, and they would fall
// behind (BENCHMARKS.md: +83 a second at 900 events/s). So the limit never falls below what
// keeps up with the postbacks this process keeps queuing for that callback: their rate × the
// answer time (Little's law), twice over, and at least as many as keep arriving at once (one
// group commit's worth). A worker queues nothing, and one batch to drain is not a stream: both
// are left to Vegas.
import type { SendErrorKind } from './sender';

export interface AdaptiveLimitSettings {
  /** Where a callback's limit starts. */
  initialLimit: number;
  /** The limit never falls below this. */
  minLimit: number;
  /** Nor grows past this (DISPATCH_CONCURRENCY: the process's cap across all callbacks). */
  maxLimit: number;
}

/** A new callback's limit: enough for a receiver answering in 10 ms to take 800 a second before it grows. */
export const INITIAL_CALLBACK_LIMIT = 8;
/** The floor: a receiver that slows down or times out still gets this many at once. */
export const MIN_CALLBACK_LIMIT = 2;

/**
 * The dispatcher's per-callback limits from DISPATCH_CALLBACK_CONCURRENCY: learnt between
 * MIN_CALLBACK_LIMIT and DISPATCH_CONCURRENCY ('adaptive', also when unset), or one fixed
 * number (never above DISPATCH_CONCURRENCY, the cap across all callbacks).
 */
export function callbackConcurrency(config: { dispatchConcurrency: number; dispatchCallbackConcurrency: 'adaptive' | number | null }): AdaptiveLimitSettings {
  const max = config.dispatchConcurrency;
  const chosen = config.dispatchCallbackConcurrency ?? 'adaptive';
  if (chosen === 'adaptive') {
    return { initialLimit: Math.min(INITIAL_CALLBACK_LIMIT, max), minLimit: Math.min(MIN_CALLBACK_LIMIT, max), maxLimit: max };
  }
  return fixedCallbackConcurrency(Math.min(chosen, max));
}

/** One limit for every callback, never learnt. */
export function fixedCallbackConcurrency(limit: number): AdaptiveLimitSettings {
  return { initialLimit: limit, minLimit: limit, maxLimit: limit };
}

/**
 * What an attempt tells its callback's concurrency limit: nothing when no request went out (a
 * refused address, a URL or request that could not be sent); `dropped` when the callback is
 * taking more than it can (a timeout, a refused or reset connection, 429 or 503).
 */
export function answerOf(result: { statusCode: number | null; errorKind: SendErrorKind | null }): { dropped: boolean } | undefined {
  if (result.errorKind === 'blocked' || result.errorKind === 'invalid-url' || result.errorKind === 'invalid-request') return undefined;
  return { dropped: result.errorKind === 'timeout' || result.errorKind === 'connection' || result.statusCode === 429 || result.statusCode === 503 };
}

/** Beyond the limit, this many samples times the limit (times a random 0.5–1) start a new measure of the unloaded answer time. */
export const PROBE_EVERY_LIMITS = 30;

/** ⌊log10(limit)⌋, at least 1: the step Vegas grows and shrinks by, larger for large limits. */
export function vegasStep(limit: number): number {
  return Math.max(1, Math.floor(Math.log10(Math.max(1, limit))));
}

/**
 * Vegas: the answers queued somewhere are estimated as limit × (1 − fastest / this answer's
 * time). Up to `step` of them (nothing is queued): one step more per answer, so the limit
 * doubles every round trip, as TCP's slow start; under 3 × step: one step more per round trip;
 * over 6 × step: at once down to what would have left 3 steps queued. (Netflix's Vegas grows
 * by 6 steps per answer and shrinks by one: it overshoots, and every request out is one a
 * crash sends twice.) A timeout shrinks it by a step. Answers sent while less than half the
 * limit was out say nothing about the limit (the callback had too little to send).
 */
export class VegasLimit {
  private estimate: number;
  private fastestMs = 0;
  private samplesToProbe: number;

  constructor(
    private readonly settings: AdaptiveLimitSettings,
    private readonly random: () => number = Math.random,
  ) {
    this.estimate = clamp(settings.initialLimit, settings.minLimit, settings.maxLimit);
    this.samplesToProbe = this.nextProbe();
  }

  get limit(): number {
    return Math.floor(this.estimate);
  }

  /** The quickest answer time seen since the last probe (ms), 0 before any. */
  get unloadedMs(): number {
    return this.fastestMs;
  }

  /**
   * One answer: `answerMs` from sending to the answer, `outWhenSent` requests out to the same
   * callback when it was sent (itself included), `dropped` when it timed out or the receiver
   * said it was overloaded.
   */
  sample(answerMs: number, outWhenSent: number, dropped: boolean): void {
    if (!(answerMs > 0) || !Number.isFinite(answerMs)) return;
    const { minLimit, maxLimit } = this.settings;
    // Now and then forget the quickest time: the route or the receiver may have become slower for good.
    if (--this.samplesToProbe <= 0) {
      this.samplesToProbe = this.nextProbe();
      this.fastestMs = answerMs;
      return;
    }
    if (this.fastestMs === 0 || answerMs < this.fastestMs) {
      this.fastestMs = answerMs;
      return;
    }
    const limit = this.estimate;
    const step = vegasStep(limit);
    let next: number;
    if (dropped) {
      next = limit - step;
    } else {
      if (outWhenSent * 2 < limit) return;
      const queued = Math.ceil(limit * (1 - this.fastestMs / answerMs));
      if (queued <= step) next = limit + step;
      else if (queued < 3 * step) next = limit + step / limit;
      // Straight to what would have left 3 steps queued when this one was sent (what was out
      // × fastest / this answer's time is what the route carried without queueing).
      else if (queued > 6 * step) next = Math.min(limit - step, (outWhenSent * this.fastestMs) / answerMs + 3 * step);
      else return;
    }
    this.estimate = clamp(next, minLimit, maxLimit);
  }

  private nextProbe(): number {
    return Math.max(1, Math.round(PROBE_EVERY_LIMITS * this.limit * (0.5 + 0.5 * this.random())));
  }
}

/** How many times what the queuing rate × the answer time calls for a callback's limit keeps room for (bursts, a slower stretch). */
export const INFLOW_HEADROOM = 2;
/** The queuing rate is counted over windows this long. */
export const INFLOW_WINDOW_MS = 100;
/** After a timeout, 429 or 503 the callback is left to Vegas (no floor) for this long: it is taking more than it can. */
export const DROP_QUIET_MS = 2000;
/**
 * The answer time the floor uses jumps to any slower answer at once and decays towards faster
 * ones with this time constant (a peak EWMA, as Finagle's load balancer keeps): one stall of
 * the event loop slows every answer out, and the floor must not forget it with the next fast one.
 */
export const ANSWER_PEAK_DECAY_MS = 1000;

/** The answer time after one more answer (peak EWMA): `previousMs` decays towards `answerMs` by the time since the last. */
export function nextAnswerPeak(previousMs: number, answerMs: number, sinceLastMs: number): number {
  if (previousMs === 0 || answerMs >= previousMs) return answerMs;
  const keep = Math.exp(-Math.max(0, sinceLastMs) / ANSWER_PEAK_DECAY_MS);
  return previousMs * keep + answerMs * (1 - keep);
}

/**
 * Requests out needed to keep up with postbacks queued at `perSecond` that are answered in
 * `answerMs` (Little's law), INFLOW_HEADROOM times over.
 */
export function inflowFloor(perSecond: number, answerMs: number): number {
  if (!(perSecond > 0) || !(answerMs > 0)) return 0;
  return Math.ceil(((perSecond * answerMs) / 1000) * INFLOW_HEADROOM);
}

/** Postbacks queued less than this far apart arrived together (one group commit's calls are announced in one turn). */
export const BURST_GAP_MS = 2;

interface InflowWindow {
  count: number;
  /** The most queued together (BURST_GAP_MS) in this window. */
  largestBurst: number;
}

/**
 * How long what keeps being queued is remembered once the windows stop showing it: a stall of
 * the event loop (GC, a large batch) empties a window of a stream that has not stopped, and
 * the floor must not fall to Vegas's limit for a second just then, when a backlog is forming.
 */
export const INFLOW_MEMORY_MS = 2000;

/**
 * What keeps being queued for one callback, from the last two whole windows: the smaller of
 * their counts (per second), and the smaller of their largest bursts. A steady stream counts
 * from its second window on; one batch (a backlog to drain, which Vegas alone paces) lands in
 * one window and counts for nothing. Once seen, both decay with INFLOW_MEMORY_MS rather than
 * drop with the next empty window.
 */
export class InflowRate {
  private windowStart = Number.NEGATIVE_INFINITY;
  private current: InflowWindow = { count: 0, largestBurst: 0 };
  private last: InflowWindow = { count: 0, largestBurst: 0 };
  private beforeLast: InflowWindow = { count: 0, largestBurst: 0 };
  private burst = 0;
  private lastAddMs = Number.NEGATIVE_INFINITY;
  private heldPerSecond = 0;
  private heldBurst = 0;
  private heldAtMs = 0;

  add(count: number, nowMs: number): void {
    this.roll(nowMs);
    this.burst = nowMs - this.lastAddMs < BURST_GAP_MS ? this.burst + count : count;
    this.lastAddMs = nowMs;
    this.current.count += count;
    this.current.largestBurst = Math.max(this.current.largestBurst, this.burst);
  }

  perSecond(nowMs: number): number {
    this.roll(nowMs);
    return this.heldPerSecond * this.decay(nowMs);
  }

  /** The most that keep arriving together. */
  burstSize(nowMs: number): number {
    this.roll(nowMs);
    return Math.floor(this.heldBurst * this.decay(nowMs));
  }

  private decay(nowMs: number): number {
    return Math.exp(-Math.max(0, nowMs - this.heldAtMs) / INFLOW_MEMORY_MS);
  }

  private roll(nowMs: number): void {
    const windows = Math.floor((nowMs - this.windowStart) / INFLOW_WINDOW_MS);
    if (windows < 1) return;
    const empty = (): InflowWindow => ({ count: 0, largestBurst: 0 });
    if (windows === 1) [this.beforeLast, this.last] = [this.last, this.current];
    else if (windows === 2) [this.beforeLast, this.last] = [this.current, empty()];
    else [this.beforeLast, this.last] = [empty(), empty()];
    this.current = empty();
    this.windowStart = Number.isFinite(this.windowStart) ? this.windowStart + windows * INFLOW_WINDOW_MS : nowMs;
    // What the two whole windows show, or what was shown before, decayed, if that is more.
    const decay = this.decay(nowMs);
    this.heldPerSecond = Math.max((Math.min(this.last.count, this.beforeLast.count) * 1000) / INFLOW_WINDOW_MS, this.heldPerSecond * decay);
    this.heldBurst = Math.max(Math.min(this.last.largestBurst, this.beforeLast.largestBurst), this.heldBurst * decay);
    this.heldAtMs = nowMs;
  }
}

/** Callbacks remembered at most; idle ones are forgotten first (a new limit starts at initialLimit). */
export const MAX_TRACKED_CALLBACKS = 10_000;

interface CallbackState {
  limit: VegasLimit;
  out: number;
  /** Postbacks this process queued for the callback (not those it claimed from others). */
  inflow: InflowRate;
  /** Its answer time (ms) as the floor sees it (nextAnswerPeak), 0 before the first answer. */
  answerPeakMs: number;
  answeredAtMs: number;
  droppedAtMs: number;
}

/**
 * Requests out per callback against each callback's limit: its VegasLimit, or what keeps up
 * with the postbacks this process is queuing for it (inflowFloor), whichever is larger. The
 * dispatcher calls `queued` for postbacks this process has just queued, `started` when it
 * sends, and `answered` (or `abandoned`, when nothing was sent) once per start.
 */
export class CallbackConcurrency {
  private readonly callbacks = new Map<string, CallbackState>();
  private readonly learns: boolean;

  constructor(
    private readonly settings: AdaptiveLimitSettings,
    private readonly random: () => number = Math.random,
    private readonly monotonicMs: () => number = () => performance.now(),
  ) {
    this.learns = settings.minLimit < settings.maxLimit;
  }

  /** Whether one more request to this callback fits its limit. */
  hasRoom(callbackId: string): boolean {
    return this.outTo(callbackId) < this.limitOf(callbackId);
  }

  limitOf(callbackId: string): number {
    const state = this.callbacks.get(callbackId);
    if (!state) return clamp(this.settings.initialLimit, this.settings.minLimit, this.settings.maxLimit);
    const learnt = state.limit.limit;
    if (!this.learns || state.answerPeakMs === 0) return learnt;
    const now = this.monotonicMs();
    if (now - state.droppedAtMs < DROP_QUIET_MS) return learnt;
    const floor = Math.max(inflowFloor(state.inflow.perSecond(now), state.answerPeakMs), state.inflow.burstSize(now));
    return Math.min(this.settings.maxLimit, Math.max(learnt, floor));
  }

  /** This process has just queued `count` postbacks for this callback, due now. */
  queued(callbackId: string, count = 1): void {
    if (!this.learns) return;
    this.stateOf(callbackId).inflow.add(count, this.monotonicMs());
  }

  outTo(callbackId: string): number {
    return this.callbacks.get(callbackId)?.out ?? 0;
  }

  /** A request to this callback is sent now; returns how many are out to it, this one included. */
  started(callbackId: string): number {
    return ++this.stateOf(callbackId).out;
  }

  /** The request started with `started` got its answer (or timed out) after `answerMs`. */
  answered(callbackId: string, answerMs: number, outWhenSent: number, dropped: boolean): void {
    const state = this.callbacks.get(callbackId);
    if (!state) return;
    state.out = Math.max(0, state.out - 1);
    state.limit.sample(answerMs, outWhenSent, dropped);
    if (!this.learns) return;
    const now = this.monotonicMs();
    if (dropped) state.droppedAtMs = now;
    if (answerMs > 0 && Number.isFinite(answerMs)) {
      state.answerPeakMs = nextAnswerPeak(state.answerPeakMs, answerMs, now - state.answeredAtMs);
      state.answeredAtMs = now;
    }
  }

  /** The request started with `started` was never sent; no sample. */
  abandoned(callbackId: string): void {
    const state = this.callbacks.get(callbackId);
    if (state) state.out = Math.max(0, state.out - 1);
  }

  /** Callbacks with a learnt limit (for metrics). */
  get size(): number {
    return this.callbacks.size;
  }

  private stateOf(callbackId: string): CallbackState {
    let state = this.callbacks.get(callbackId);
    if (!state) {
      if (this.callbacks.size >= MAX_TRACKED_CALLBACKS) this.forgetIdle();
      state = { limit: new VegasLimit(this.settings, this.random), out: 0, inflow: new InflowRate(), answerPeakMs: 0, answeredAtMs: 0, droppedAtMs: Number.NEGATIVE_INFINITY };
      this.callbacks.set(callbackId, state);
    } else {
      // Most recently used last, so forgetIdle drops the longest unused first.
      this.callbacks.delete(callbackId);
      this.callbacks.set(callbackId, state);
    }
    return state;
  }

  private forgetIdle(): void {
    for (const [id, state] of this.callbacks) {
      if (this.callbacks.size < MAX_TRACKED_CALLBACKS * 0.9) return;
      if (state.out === 0) this.callbacks.delete(id);
    }
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
