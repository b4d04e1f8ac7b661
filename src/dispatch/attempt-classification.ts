// Error classification: what one attempt's result (sender.ts) means for its delivery. Pure
// functions; when the next attempt runs is the retry schedule's business
// (deliveries/retry-schedule.ts).
import { type AttemptRecord, truncateError } from '../deliveries/delivery-state';
import type { AttemptOutcome } from '../deliveries/retry-schedule';
import type { SendResult } from './sender';

/** Statuses retried besides every 5xx: request timeout and rate limiting. */
export const RETRYABLE_STATUS_CODES: ReadonlySet<number> = new Set([408, 429]);
/** Any status in [500, 600) is retried. */
export const RETRYABLE_STATUS_MIN = 500;
export const RETRYABLE_STATUS_MAX_EXCLUSIVE = 600;

export function isRetryableStatus(statusCode: number): boolean {
  return (
    RETRYABLE_STATUS_CODES.has(statusCode) ||
    (statusCode >= RETRYABLE_STATUS_MIN && statusCode < RETRYABLE_STATUS_MAX_EXCLUSIVE)
  );
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

/** The attempt row for a sender's result. */
export function attemptFromResult(number: number, result: SendResult): AttemptRecord {
  return {
    number,
    startedAt: result.startedAt,
    statusCode: result.statusCode,
    latencyMs: Math.max(0, Math.round(result.latencyMs)),
    error: truncateError(result.error),
    responseSnippet: result.responseSnippet,
  };
}
