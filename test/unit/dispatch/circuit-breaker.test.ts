import {
  breakerSignalOf,
  CallbackHealth,
  CallbackState,
  disableHealth,
  FAILURES_TO_PAUSE,
  healthyState,
  recordBreakerSignal,
  REFUSALS_TO_PAUSE,
  resumeHealth,
  sendDecision,
  BreakerSignal,
} from '../../../src/dispatch/circuit-breaker';

const settings = { pauseMs: 60_000, maxPauseMs: 3_600_000 };
const t0 = new Date('2026-11-29T00:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

function feed(health: CallbackHealth, signals: BreakerSignal[], options: { startMs?: number; stepMs?: number; autoDisableAfterHours?: number | null } = {}) {
  let h = health;
  const changes: CallbackState[] = [];
  signals.forEach((signal, i) => {
    const now = at((options.startMs ?? 0) + i * (options.stepMs ?? 1000));
    const t = recordBreakerSignal(h, { signal, now, settings, autoDisableAfterHours: options.autoDisableAfterHours ?? null });
    h = t.health;
    if (t.stateChanged) changes.push(h.state);
  });
  return { health: h, changes };
}

describe('breakerSignalOf', () => {
  it.each([
    [{ statusCode: 200, errorKind: null, error: null }, 'success'],
    [{ statusCode: 204, errorKind: null, error: null }, 'success'],
    [{ statusCode: 500, errorKind: null, error: null }, 'failure'],
    [{ statusCode: 503, errorKind: null, error: null }, 'failure'],
    [{ statusCode: 429, errorKind: null, error: null }, 'failure'],
    [{ statusCode: 408, errorKind: null, error: null }, 'failure'],
    [{ statusCode: 400, errorKind: null, error: null }, 'reachable'],
    [{ statusCode: 404, errorKind: null, error: null }, 'reachable'],
    [{ statusCode: 301, errorKind: null, error: null }, 'reachable'],
    [{ statusCode: null, errorKind: 'timeout', error: 'timed out after 5000 ms' }, 'failure'],
    [{ statusCode: null, errorKind: 'connection', error: 'ECONNRESET: socket hang up' }, 'failure'],
    [{ statusCode: null, errorKind: 'connection', error: 'connect ECONNREFUSED 127.0.0.1:9' }, 'refused'],
    [{ statusCode: null, errorKind: 'blocked', error: 'destination not allowed' }, 'neutral'],
    [{ statusCode: null, errorKind: 'invalid-url', error: 'bad url' }, 'neutral'],
    [{ statusCode: null, errorKind: 'invalid-request', error: 'bad header' }, 'neutral'],
  ] as const)('%j is %s', (result, signal) => {
    expect(breakerSignalOf(result)).toBe(signal);
  });
});

describe('the circuit breaker', () => {
  it(`pauses after ${FAILURES_TO_PAUSE} consecutive retryable failures, not before`, () => {
    const before = feed(healthyState(t0), Array(FAILURES_TO_PAUSE - 1).fill('failure'));
    expect(before.health.state).toBe(CallbackState.HEALTHY);
    expect(before.health.consecutiveFailures).toBe(FAILURES_TO_PAUSE - 1);
    const after = feed(before.health, ['failure'], { startMs: 100_000 });
    expect(after.changes).toEqual([CallbackState.PAUSED]);
    expect(after.health.pausedUntil).toEqual(at(100_000 + settings.pauseMs));
    expect(after.health.changedAt).toEqual(at(100_000));
  });

  it(`pauses after ${REFUSALS_TO_PAUSE} refused connections in a row`, () => {
    const { health, changes } = feed(healthyState(t0), Array(REFUSALS_TO_PAUSE).fill('refused'));
    expect(changes).toEqual([CallbackState.PAUSED]);
    expect(health.consecutiveFailures).toBe(REFUSALS_TO_PAUSE);
  });

  it('counts refusals only in an unbroken run', () => {
    const { health } = feed(healthyState(t0), ['refused', 'refused', 'refused', 'refused', 'failure', 'refused']);
    expect(health.state).toBe(CallbackState.HEALTHY);
    expect(health.consecutiveRefusals).toBe(1);
    expect(health.consecutiveFailures).toBe(6);
  });

  it('a success resets the streak', () => {
    const { health } = feed(healthyState(t0), [...Array(FAILURES_TO_PAUSE - 1).fill('failure'), 'success', ...Array(FAILURES_TO_PAUSE - 1).fill('failure')]);
    expect(health.state).toBe(CallbackState.HEALTHY);
    expect(health.consecutiveFailures).toBe(FAILURES_TO_PAUSE - 1);
    expect(health.lastSuccessAt).toEqual(at((FAILURES_TO_PAUSE - 1) * 1000));
  });

  it('a storm of 4xx answers never trips it, and resets the failure streak', () => {
    const { health, changes } = feed(healthyState(t0), [...Array(10).fill('failure'), ...Array(100).fill('reachable')]);
    expect(changes).toEqual([]);
    expect(health.state).toBe(CallbackState.HEALTHY);
    expect(health.consecutiveFailures).toBe(0);
    expect(health.lastSuccessAt).toBeNull();
  });

  it('neutral results (blocked, invalid) change nothing', () => {
    const start = feed(healthyState(t0), Array(3).fill('failure')).health;
    const { health } = feed(start, Array(50).fill('neutral'));
    expect(health).toEqual(start);
  });

  it('holds while paused, probes once the pause is over', () => {
    const paused = feed(healthyState(t0), Array(FAILURES_TO_PAUSE).fill('failure')).health;
    const until = paused.pausedUntil!.getTime();
    expect(sendDecision(paused, new Date(until - 1))).toBe('hold');
    expect(sendDecision(paused, new Date(until))).toBe('probe');
    expect(sendDecision(healthyState(t0), t0)).toBe('send');
  });

  it('a failed probe pauses again for twice as long, up to the maximum', () => {
    let health = feed(healthyState(t0), Array(FAILURES_TO_PAUSE).fill('failure')).health;
    const pauses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const now = health.pausedUntil!;
      const t = recordBreakerSignal(health, { signal: 'failure', now, settings, autoDisableAfterHours: null });
      expect(t.stateChanged).toBe(false);
      health = t.health;
      expect(health.state).toBe(CallbackState.PAUSED);
      pauses.push(health.pausedUntil!.getTime() - now.getTime());
    }
    expect(pauses).toEqual([120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000, 3_600_000, 3_600_000, 3_600_000]);
  });

  it('a successful probe resumes it', () => {
    const paused = feed(healthyState(t0), Array(FAILURES_TO_PAUSE).fill('failure')).health;
    const t = recordBreakerSignal(paused, { signal: 'success', now: paused.pausedUntil!, settings, autoDisableAfterHours: null });
    expect(t.stateChanged).toBe(true);
    expect(t.health).toMatchObject({ state: CallbackState.HEALTHY, consecutiveFailures: 0, pausedUntil: null, pauseMs: null, failingSince: null });
    expect(t.health.changedAt).toEqual(paused.pausedUntil);
  });

  it('disables after autoDisableAfterHours of failures only', () => {
    const hour = 3_600_000;
    // One failure every 10 minutes: the thirteenth comes 2 h after the first.
    const { health, changes } = feed(healthyState(t0), Array(13).fill('failure'), { stepMs: hour / 6, autoDisableAfterHours: 2 });
    expect(changes).toEqual([CallbackState.DISABLED]);
    expect(health.state).toBe(CallbackState.DISABLED);
    expect(health.disabledReason).toMatch(/failures only for 2 h/);
    expect(sendDecision(health, at(100 * hour))).toBe('hold');
    // Disabled stays disabled whatever comes.
    expect(feed(health, ['success']).health.state).toBe(CallbackState.DISABLED);
  });

  it('a success in the stretch restarts the auto-disable clock', () => {
    const hour = 3_600_000;
    const { health } = feed(healthyState(t0), ['failure', 'failure', 'success', 'failure', 'failure'], { stepMs: hour, autoDisableAfterHours: 2 });
    expect(health.state).toBe(CallbackState.HEALTHY);
    expect(health.failingSince).toEqual(at(3 * hour));
  });

  it('resume brings a paused or disabled callback back at once', () => {
    const disabled = disableHealth(healthyState(t0), 'switched off by an admin', at(5)).health;
    expect(disabled).toMatchObject({ state: CallbackState.DISABLED, disabledReason: 'switched off by an admin' });
    const t = resumeHealth(disabled, at(10));
    expect(t.stateChanged).toBe(true);
    expect(t.health).toMatchObject({ state: CallbackState.HEALTHY, disabledReason: null, changedAt: at(10) });
    const paused = feed(healthyState(t0), Array(FAILURES_TO_PAUSE).fill('failure')).health;
    expect(resumeHealth(paused, at(99)).health).toMatchObject({ state: CallbackState.HEALTHY, pausedUntil: null, consecutiveFailures: 0 });
  });
});
