// How many requests a worker keeps out to one callback at once, learnt from that callback's
// answer times (TCP Vegas's rule, as Netflix's concurrency-limits library applies it to RPC
// clients). Pure: the dispatcher feeds in each answer's time and asks before each send.
//
// Why a limit per callback and not only DISPATCH_CONCURRENCY: every request out is one the
// receiver may have got whose result is not recorded yet, so a worker killed at that moment
// sends all of them again. A fixed 64 out to a receiver that answers in a millisecond buys
// nothing (a drain ran as fast with 4 out as with 64, BENCHMARKS.md) but 64 duplicates on a
// crash. A slow receiver, on the other hand, needs many out to keep up. The limit grows while
// answers come back as fast as the quickest seen (no queue is building, here or at the
// receiver) and shrinks when they slow down, or time out, as more are sent.
import type { SendErrorKind } from './sender';

export interface AdaptiveLimitSettings {
  /** Where a callback's limit starts. */
  initialLimit: number;
  /** The limit never falls below this. */
  minLimit: number;
  /** Nor grows past this (DISPATCH_CONCURRENCY: the worker's cap across all callbacks). */
  maxLimit: number;
}

/** A new callback's limit: enough for a receiver answering in 10 ms to take 800 a second before it grows. */
export const INITIAL_CALLBACK_LIMIT = 8;
/** The floor: a receiver that slows down or times out still gets this many at once. */
export const MIN_CALLBACK_LIMIT = 2;

/**
 * The dispatcher's per-callback limits from DISPATCH_CALLBACK_CONCURRENCY: learnt between
 * MIN_CALLBACK_LIMIT and DISPATCH_CONCURRENCY ('adaptive'), or one fixed number (never above
 * DISPATCH_CONCURRENCY, the cap across all callbacks).
 *
 * Unset, it depends on the process. A worker's answer times are its own sending's: when they
 * slow down as it sends more, sending less brings them back. In the API process they also
 * carry the wait of every recordEvent on the same event loop, which sending less does not
 * shorten: the limit would fall to its floor while the ingest kept the loop busy, and the
 * postbacks queue (BENCHMARKS.md, "Duplicates across a crash, brought down"). So the API's
 * inline dispatcher keeps DISPATCH_CONCURRENCY per callback.
 */
export function callbackConcurrency(
  config: { dispatchConcurrency: number; dispatchCallbackConcurrency: 'adaptive' | number | null },
  where: 'api' | 'worker',
): AdaptiveLimitSettings {
  const max = config.dispatchConcurrency;
  const chosen = config.dispatchCallbackConcurrency ?? (where === 'worker' ? 'adaptive' : max);
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

/** Callbacks remembered at most; idle ones are forgotten first (a new limit starts at initialLimit). */
export const MAX_TRACKED_CALLBACKS = 10_000;

interface CallbackState {
  limit: VegasLimit;
  out: number;
}

/**
 * Requests out per callback against each callback's VegasLimit. The dispatcher calls
 * `started` when it sends and `answered` (or `abandoned`, when nothing was sent) once per start.
 */
export class CallbackConcurrency {
  private readonly callbacks = new Map<string, CallbackState>();

  constructor(
    private readonly settings: AdaptiveLimitSettings,
    private readonly random: () => number = Math.random,
  ) {}

  /** Whether one more request to this callback fits its limit. */
  hasRoom(callbackId: string): boolean {
    return this.outTo(callbackId) < this.limitOf(callbackId);
  }

  limitOf(callbackId: string): number {
    return this.callbacks.get(callbackId)?.limit.limit ?? clamp(this.settings.initialLimit, this.settings.minLimit, this.settings.maxLimit);
  }

  outTo(callbackId: string): number {
    return this.callbacks.get(callbackId)?.out ?? 0;
  }

  /** A request to this callback is sent now; returns how many are out to it, this one included. */
  started(callbackId: string): number {
    let state = this.callbacks.get(callbackId);
    if (!state) {
      if (this.callbacks.size >= MAX_TRACKED_CALLBACKS) this.forgetIdle();
      state = { limit: new VegasLimit(this.settings, this.random), out: 0 };
      this.callbacks.set(callbackId, state);
    } else {
      // Most recently used last, so forgetIdle drops the longest unused first.
      this.callbacks.delete(callbackId);
      this.callbacks.set(callbackId, state);
    }
    return ++state.out;
  }

  /** The request started with `started` got its answer (or timed out) after `answerMs`. */
  answered(callbackId: string, answerMs: number, outWhenSent: number, dropped: boolean): void {
    const state = this.callbacks.get(callbackId);
    if (!state) return;
    state.out = Math.max(0, state.out - 1);
    state.limit.sample(answerMs, outWhenSent, dropped);
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
