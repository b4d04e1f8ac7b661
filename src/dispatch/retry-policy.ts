// Outbound retry policy: which attempt results are retried, and when the next attempt runs.
// Pure functions only (no clock, no I/O): the caller passes `now` and, for tests, `random`.
import type { SendResult } from './http-sender';
import { RENDERED_LIMITS } from '../macros/render-postback';

/** Statuses retried besides every 5xx: request timeout and rate limiting. */
export const RETRYABLE_STATUS_CODES: ReadonlySet<number> = new Set([408, 429]);
/** Any status in [500, 600) is retried. */
export const RETRYABLE_STATUS_MIN = 500;
export const RETRYABLE_STATUS_MAX_EXCLUSIVE = 600;
/** Each retry waits this many times longer than the previous one (before the cap). */
export const BACKOFF_FACTOR = 4;
/** A rendered URL longer than this fails the delivery without a request. */
export const MAX_RENDERED_URL_LENGTH = RENDERED_LIMITS.url;
/** How much of a receiver's response body is kept on the attempt. */
export const RESPONSE_SNIPPET_BYTES = 1024;
/** ±20 % uniform jitter on the computed delay. */
export const JITTER = 0.2;

export interface RetrySettings {
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export type AttemptOutcome =
  | { kind: 'delivered' }
  | { kind: 'retryable'; retryAfterMs: number | null }
  | { kind: 'permanent' };

export type NextStep =
  | { status: 'DELIVERED' }
  | { status: 'FAILED' }
  | { status: 'RETRYING'; nextAttemptAt: Date };

export function isRetryableStatus(statusCode: number): boolean {
  return (
    RETRYABLE_STATUS_CODES.has(statusCode) ||
    (statusCode >= RETRYABLE_STATUS_MIN && statusCode < RETRYABLE_STATUS_MAX_EXCLUSIVE)
  );
}

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

const DELTA_SECONDS = /^\d+$/;
// IMF-fixdate and RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") start with a day name and a
// comma; asctime ("Sun Nov  6 08:49:37 1994") with a day and a month name. Date.parse alone
// accepts too much (e.g. "1" is the year 2001), so the shape is checked first.
const HTTP_DATE_SHAPES = [/^[A-Za-z]{3,9}, \d{1,2}[ -][A-Za-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} GMT$/, /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/];

/**
 * A `Retry-After` header value in milliseconds from `now`: delta-seconds or an HTTP date.
 * Invalid values give null (the computed backoff applies); a date in the past gives 0.
 */
export function parseRetryAfterMs(header: string | undefined | null, now: Date): number | null {
  if (header === undefined || header === null) return null;
  const value = header.trim();
  if (value === '') return null;
  if (DELTA_SECONDS.test(value)) {
    const seconds = Number(value);
    return Number.isFinite(seconds) ? seconds * 1000 : null;
  }
  if (!HTTP_DATE_SHAPES.some((shape) => shape.test(value))) return null;
  const at = Date.parse(value);
  if (!Number.isFinite(at)) return null;
  return Math.max(0, at - now.getTime());
}

/** What one attempt's result means for the delivery. */
export function classifyAttempt(result: SendResult): AttemptOutcome {
  switch (result.errorKind) {
    case 'blocked':
    case 'invalid-url':
    case 'invalid-request':
      return { kind: 'permanent' };
    case 'timeout':
    case 'connection':
      return { kind: 'retryable', retryAfterMs: null };
    case null:
      break;
  }
  const status = result.statusCode;
  // No status and no error kind should not happen; treat it like a dropped connection.
  if (status === null) return { kind: 'retryable', retryAfterMs: null };
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (isRetryableStatus(status)) {
    // Retry-After is relative to when the response arrived, not when the request started.
    const answeredAt = new Date(result.startedAt.getTime() + result.latencyMs);
    return { kind: 'retryable', retryAfterMs: parseRetryAfterMs(result.retryAfter, answeredAt) };
  }
  // 1xx leftovers, 3xx (redirects are not followed) and other 4xx: the receiver will not
  // change its mind on a retry.
  return { kind: 'permanent' };
}

/**
 * The delivery's status after attempt `attemptNumber` (1-based, counted over the delivery's
 * whole run). Every attempt, 429 included, counts against maxAttempts.
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
