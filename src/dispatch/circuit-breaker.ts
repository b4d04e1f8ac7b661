// The circuit breaker of one callback: pure state transitions (no clock, no I/O). The
// dispatcher asks `sendDecision` before it sends a callback's delivery and feeds every
// attempt's result to `recordBreakerSignal`; the store keeps the returned health.
//
// Why these rules: a dead destination must not be hammered for hours (retries of every queued
// delivery multiply the load on a receiver that is already down), but nothing may be lost, so
// a paused callback's deliveries wait unsent and uncounted, and one real delivery probes the
// destination when the pause ends. Permanent answers (4xx) come from a destination that is up:
// they say the request is wrong, not that the receiver is down.

export enum CallbackState {
  HEALTHY = 'HEALTHY',
  PAUSED = 'PAUSED',
  DISABLED = 'DISABLED',
}

/** Consecutive retryable failures that open the circuit. */
export const FAILURES_TO_PAUSE = 20;
/** Consecutive refused connections that open the circuit (nothing listens: no use waiting for 20). */
export const REFUSALS_TO_PAUSE = 5;

export interface BreakerSettings {
  /** The first pause; doubles after each failed probe. */
  pauseMs: number;
  maxPauseMs: number;
}

export interface CallbackHealth {
  state: CallbackState;
  consecutiveFailures: number;
  /** How many of the consecutive failures in a row, counted back from the latest, were refused connections. */
  consecutiveRefusals: number;
  /** The first failure after the last success: start of a failures-only stretch; null while succeeding. */
  failingSince: Date | null;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  pausedUntil: Date | null;
  /** The length of the current pause, doubled by each failed probe; null when not paused. */
  pauseMs: number | null;
  disabledReason: string | null;
  changedAt: Date;
}

/**
 * What one attempt says about the destination:
 * - `success`: it answered 2xx;
 * - `failure`: a retryable failure (5xx, 408, 429, timeout, dropped connection);
 * - `refused`: a retryable failure where nothing accepted the connection;
 * - `reachable`: it answered, with a permanent refusal (4xx, 3xx): up, but the request is wrong;
 * - `neutral`: nothing was learnt about the destination (blocked by the address guard, a URL or
 *   header that cannot be sent).
 */
export type BreakerSignal = 'success' | 'failure' | 'refused' | 'reachable' | 'neutral';

/** The fields of a send result the breaker reads (structurally a dispatch SendResult). */
export interface AttemptResultForBreaker {
  statusCode: number | null;
  errorKind: string | null;
  error: string | null;
}

const REFUSED_CONNECTION = /ECONNREFUSED|connection refused/i;

export function breakerSignalOf(result: AttemptResultForBreaker): BreakerSignal {
  switch (result.errorKind) {
    case 'timeout':
      return 'failure';
    case 'connection':
      return REFUSED_CONNECTION.test(result.error ?? '') ? 'refused' : 'failure';
    case null:
      break;
    default:
      return 'neutral';
  }
  const status = result.statusCode;
  if (status === null) return 'failure';
  if (status >= 200 && status < 300) return 'success';
  if (status >= 500 || status === 408 || status === 429) return 'failure';
  return 'reachable';
}

export function healthyState(now: Date): CallbackHealth {
  return {
    state: CallbackState.HEALTHY,
    consecutiveFailures: 0,
    consecutiveRefusals: 0,
    failingSince: null,
    lastSuccessAt: null,
    lastFailureAt: null,
    pausedUntil: null,
    pauseMs: null,
    disabledReason: null,
    changedAt: now,
  };
}

/**
 * - `send`: send as usual;
 * - `probe`: the pause is over: send one delivery as the probe, hold the rest until it answers;
 * - `hold`: leave the callback's deliveries queued, unsent and unattempted.
 */
export type SendDecision = 'send' | 'probe' | 'hold';

export function sendDecision(health: CallbackHealth, now: Date): SendDecision {
  switch (health.state) {
    case CallbackState.HEALTHY:
      return 'send';
    case CallbackState.DISABLED:
      return 'hold';
    case CallbackState.PAUSED:
      return health.pausedUntil !== null && now.getTime() >= health.pausedUntil.getTime() ? 'probe' : 'hold';
  }
}

export interface BreakerInput {
  signal: BreakerSignal;
  now: Date;
  settings: BreakerSettings;
  /** Disable after this many hours of failures only; null: never. */
  autoDisableAfterHours: number | null;
}

export interface BreakerTransition {
  health: CallbackHealth;
  /** The state (HEALTHY/PAUSED/DISABLED) changed: publish callbackHealthChanged. */
  stateChanged: boolean;
}

const HOUR_MS = 3_600_000;

/** The callback's health after one attempt's result. A PAUSED callback's result is its probe's. */
export function recordBreakerSignal(health: CallbackHealth, input: BreakerInput): BreakerTransition {
  const { signal, now, settings } = input;
  if (health.state === CallbackState.DISABLED || signal === 'neutral') return { health, stateChanged: false };

  if (signal === 'success' || signal === 'reachable') {
    const next: CallbackHealth = {
      ...health,
      consecutiveFailures: 0,
      consecutiveRefusals: 0,
      failingSince: null,
      lastSuccessAt: signal === 'success' ? now : health.lastSuccessAt,
      pausedUntil: null,
      pauseMs: null,
    };
    return settle(health, next, CallbackState.HEALTHY, now);
  }

  const failures = health.consecutiveFailures + 1;
  const refusals = signal === 'refused' ? health.consecutiveRefusals + 1 : 0;
  const failingSince = health.failingSince ?? now;
  const failed: CallbackHealth = {
    ...health,
    consecutiveFailures: failures,
    consecutiveRefusals: refusals,
    failingSince,
    lastFailureAt: now,
  };

  if (
    input.autoDisableAfterHours !== null &&
    now.getTime() - failingSince.getTime() >= input.autoDisableAfterHours * HOUR_MS
  ) {
    const reason = `failures only for ${input.autoDisableAfterHours} h (since ${failingSince.toISOString()}, ${failures} in a row)`;
    return settle(health, { ...failed, pausedUntil: null, pauseMs: null, disabledReason: reason }, CallbackState.DISABLED, now);
  }

  if (health.state === CallbackState.PAUSED) {
    // A failed probe: pause again, twice as long, up to the maximum.
    const pauseMs = Math.min(settings.maxPauseMs, Math.max(settings.pauseMs, (health.pauseMs ?? settings.pauseMs) * 2));
    const paused = { ...failed, pauseMs, pausedUntil: new Date(now.getTime() + pauseMs) };
    return { health: paused, stateChanged: false };
  }

  if (failures >= FAILURES_TO_PAUSE || refusals >= REFUSALS_TO_PAUSE) {
    const pauseMs = Math.min(settings.pauseMs, settings.maxPauseMs);
    return settle(health, { ...failed, pauseMs, pausedUntil: new Date(now.getTime() + pauseMs) }, CallbackState.PAUSED, now);
  }
  return { health: failed, stateChanged: false };
}

/** resumeCallback: back to HEALTHY at once, streaks forgotten. */
export function resumeHealth(health: CallbackHealth, now: Date): BreakerTransition {
  const next: CallbackHealth = {
    ...health,
    consecutiveFailures: 0,
    consecutiveRefusals: 0,
    failingSince: null,
    pausedUntil: null,
    pauseMs: null,
    disabledReason: null,
  };
  return settle(health, next, CallbackState.HEALTHY, now);
}

/** An admin switches the callback off (`enabled: false`). */
export function disableHealth(health: CallbackHealth, reason: string, now: Date): BreakerTransition {
  return settle(health, { ...health, pausedUntil: null, pauseMs: null, disabledReason: reason }, CallbackState.DISABLED, now);
}

function settle(before: CallbackHealth, next: CallbackHealth, state: CallbackState, now: Date): BreakerTransition {
  const stateChanged = before.state !== state;
  return {
    health: { ...next, state, disabledReason: state === CallbackState.DISABLED ? next.disabledReason : null, changedAt: stateChanged ? now : before.changedAt },
    stateChanged,
  };
}
