// When a failed delivery is tried again. Pure functions only (no clock, no I/O): the caller
// passes `now` and, for tests, `random`. What counts as a failure worth retrying is decided
// from the sender's result in dispatch/attempt-classification.ts.
import type { Config } from '../config/config';

/** Each retry waits this many times longer than the previous one (before the cap). */
export const BACKOFF_FACTOR = 4;
/** ±20 % uniform jitter on the computed delay. */
export const JITTER = 0.2;

export interface RetrySettings {
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export function retrySettings(config: Pick<Config, 'dispatchBackoffBaseMs' | 'dispatchBackoffMaxMs'>): RetrySettings {
  return { backoffBaseMs: config.dispatchBackoffBaseMs, backoffMaxMs: config.dispatchBackoffMaxMs };
}

/** What one attempt's result means for the delivery (dispatch/attempt-classification.ts). */
export type AttemptOutcome =
  | { kind: 'delivered' }
  | { kind: 'retryable'; retryAfterMs: number | null }
  | { kind: 'permanent' };

export type NextStep =
  | { status: 'DELIVERED' }
  | { status: 'FAILED' }
  | { status: 'RETRYING'; nextAttemptAt: Date };

/**
 * Delay before the attempt that follows failed attempt `failedAttemptNumber` (1-based):
 * `min(BASE × 4^(n−1), MAX)`, then ±20 % uniform jitter, never above MAX.
 *
 * The jitter is applied to the capped value, as the contract's formula reads, and the result
 * is held to MAX, which the contract also calls "the longest delay between two attempts". So
 * once the cap is reached delays spread over MAX × [0.8, 1.0] instead of piling up on exactly
 * MAX (which would re-synchronise every long-failing delivery of a dead receiver).
 */
export function retryDelayMs(
  failedAttemptNumber: number,
  s: RetrySettings,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(failedAttemptNumber));
  const base = Math.max(0, s.backoffBaseMs);
  const max = Math.max(0, s.backoffMaxMs);
  // 4^(n−1) overflows to Infinity for large n; min() with MAX keeps it finite.
  const capped = Math.min(base * BACKOFF_FACTOR ** (n - 1), max);
  const r = Math.min(1, Math.max(0, random()));
  const factor = 1 + JITTER * (2 * r - 1);
  return Math.min(max, Math.max(0, Math.round(capped * factor)));
}

/**
 * The delivery's status after attempt `attemptNumber` (1-based, counted over the delivery's
 * whole run). Every attempt, 429 included, counts against maxAttempts. A `Retry-After`
 * replaces the computed delay, capped by MAX.
 */
export function decideNextStep(input: {
  attemptNumber: number;
  maxAttempts: number;
  outcome: AttemptOutcome;
  now: Date;
  settings: RetrySettings;
  random?: () => number;
}): NextStep {
  const { outcome } = input;
  if (outcome.kind === 'delivered') return { status: 'DELIVERED' };
  if (outcome.kind === 'permanent') return { status: 'FAILED' };
  if (input.attemptNumber >= input.maxAttempts) return { status: 'FAILED' };
  const delayMs =
    outcome.retryAfterMs !== null
      ? Math.min(Math.max(0, outcome.retryAfterMs), Math.max(0, input.settings.backoffMaxMs))
      : retryDelayMs(input.attemptNumber, input.settings, input.random);
  return { status: 'RETRYING', nextAttemptAt: new Date(input.now.getTime() + delayMs) };
}
