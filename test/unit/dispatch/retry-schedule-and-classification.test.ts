import type { SendResult } from '../../../src/dispatch/sender';
import { classifyAttempt, isRetryableStatus, parseRetryAfterMs } from '../../../src/dispatch/attempt-classification';
import { decideNextStep, retryDelayMs, type RetrySettings } from '../../../src/deliveries/retry-schedule';

const DEFAULTS: RetrySettings = { backoffBaseMs: 5000, backoffMaxMs: 21_600_000 };
const MID = () => 0.5; // no jitter
const NOW = new Date('2030-01-01T00:00:00.000Z');

function result(overrides: Partial<SendResult>): SendResult {
  return {
    statusCode: null,
    error: null,
    errorKind: null,
    latencyMs: 0,
    responseSnippet: null,
    retryAfter: null,
    startedAt: NOW,
    ...overrides,
  };
}

describe('retryDelayMs', () => {
  it('follows the documented default schedule without jitter', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 20].map((n) => retryDelayMs(n, DEFAULTS, MID));
    expect(delays).toEqual([
      5_000, // 5 s
      20_000, // 20 s
      80_000, // 80 s
      320_000, // ~5 min
      1_280_000, // ~21 min
      5_120_000, // ~85 min
      20_480_000, // ~5.7 h
      21_600_000, // 6 h cap
      21_600_000,
      21_600_000,
    ]);
  });

  it('stays within ±20 % of the documented schedule for any random value', () => {
    // 5 s, 20 s, 80 s, 5⅓ min, 21⅓ min, 85⅓ min, 5.69 h, 6 h before jitter.
    const documented = [5_000, 20_000, 80_000, 320_000, 1_280_000, 5_120_000, 20_480_000, 21_600_000];
    for (let n = 1; n <= documented.length; n++) {
      for (const r of [0, 0.13, 0.5, 0.77, 1]) {
        const d = retryDelayMs(n, DEFAULTS, () => r);
        expect(d).toBeGreaterThanOrEqual(documented[n - 1] * 0.8);
        expect(d).toBeLessThanOrEqual(Math.min(documented[n - 1] * 1.2, DEFAULTS.backoffMaxMs));
      }
    }
  });

  it('applies -20 % with random 0 and +20 % with random 1', () => {
    expect(retryDelayMs(1, DEFAULTS, () => 0)).toBe(4_000);
    expect(retryDelayMs(1, DEFAULTS, () => 1)).toBe(6_000);
    expect(retryDelayMs(2, DEFAULTS, () => 0)).toBe(16_000);
    expect(retryDelayMs(2, DEFAULTS, () => 1)).toBe(24_000);
  });

  it('jitters the capped value but never waits longer than MAX: MAX × [0.8, 1]', () => {
    expect(retryDelayMs(30, DEFAULTS, () => 0)).toBe(17_280_000);
    expect(retryDelayMs(30, DEFAULTS, () => 1)).toBe(21_600_000);
    // 5.69 h + 20 % would be 6.8 h: held to 6 h.
    expect(retryDelayMs(7, DEFAULTS, () => 1)).toBe(21_600_000);
  });

  it('stays finite for huge attempt numbers and respects a small MAX', () => {
    expect(retryDelayMs(10_000, DEFAULTS, MID)).toBe(21_600_000);
    expect(retryDelayMs(3, { backoffBaseMs: 1000, backoffMaxMs: 2000 }, MID)).toBe(2000);
  });

  it('treats attempt numbers below 1 as the first and never goes negative', () => {
    expect(retryDelayMs(0, DEFAULTS, MID)).toBe(5000);
    expect(retryDelayMs(-3, DEFAULTS, MID)).toBe(5000);
    expect(retryDelayMs(1, { backoffBaseMs: 0, backoffMaxMs: 0 }, () => 0)).toBe(0);
  });

  it('clamps an out-of-range random source', () => {
    expect(retryDelayMs(1, DEFAULTS, () => 5)).toBe(6000);
    expect(retryDelayMs(1, DEFAULTS, () => -5)).toBe(4000);
  });

  it('uses Math.random by default within bounds', () => {
    for (let i = 0; i < 100; i++) {
      const d = retryDelayMs(1, DEFAULTS);
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(6000);
    }
  });
});

describe('parseRetryAfterMs', () => {
  it('parses delta-seconds', () => {
    expect(parseRetryAfterMs('120', NOW)).toBe(120_000);
    expect(parseRetryAfterMs('0', NOW)).toBe(0);
    expect(parseRetryAfterMs(' 7 ', NOW)).toBe(7_000);
  });

  it('parses an IMF-fixdate', () => {
    expect(parseRetryAfterMs('Tue, 01 Jan 2030 00:01:30 GMT', NOW)).toBe(90_000);
  });

  it('parses the obsolete RFC 850 and asctime forms', () => {
    expect(parseRetryAfterMs('Tuesday, 01-Jan-30 00:00:10 GMT', NOW)).toBe(10_000);
    expect(parseRetryAfterMs('Tue Jan  1 00:00:20 2030', NOW)).toBe(20_000);
  });

  it('gives 0 for a date in the past', () => {
    expect(parseRetryAfterMs('Mon, 31 Dec 2029 23:00:00 GMT', NOW)).toBe(0);
  });

  it.each([undefined, null, '', '   ', 'soon', '-5', '1.5', '1e3', '0x10', 'Tue, 99 Foo 2030 00:00:00 GMT', '2030-01-01T00:01:00Z'])(
    'gives null for %p',
    (value) => {
      expect(parseRetryAfterMs(value as string | null | undefined, NOW)).toBeNull();
    },
  );
});

describe('classifyAttempt', () => {
  it.each([200, 201, 204, 299])('%i is delivered', (statusCode) => {
    expect(classifyAttempt(result({ statusCode }))).toEqual({ kind: 'delivered' });
  });

  it.each([408, 429, 500, 502, 503, 504, 599])('%i is retryable', (statusCode) => {
    expect(classifyAttempt(result({ statusCode }))).toEqual({ kind: 'retryable', retryAfterMs: null });
  });

  it.each([100, 300, 301, 302, 304, 307, 308, 400, 401, 403, 404, 410, 422, 600])(
    '%i is permanent',
    (statusCode) => {
      expect(classifyAttempt(result({ statusCode }))).toEqual({ kind: 'permanent' });
    },
  );

  it('surfaces Retry-After on 429 and 503, relative to when the answer came', () => {
    expect(classifyAttempt(result({ statusCode: 429, retryAfter: '30' }))).toEqual({
      kind: 'retryable',
      retryAfterMs: 30_000,
    });
    expect(
      classifyAttempt(
        result({ statusCode: 503, retryAfter: 'Tue, 01 Jan 2030 00:01:00 GMT', latencyMs: 10_000 }),
      ),
    ).toEqual({ kind: 'retryable', retryAfterMs: 50_000 });
    expect(classifyAttempt(result({ statusCode: 429, retryAfter: 'garbage' }))).toEqual({
      kind: 'retryable',
      retryAfterMs: null,
    });
  });

  it('retries timeouts and connection errors', () => {
    expect(classifyAttempt(result({ errorKind: 'timeout', error: 'timed out' }))).toEqual({
      kind: 'retryable',
      retryAfterMs: null,
    });
    expect(classifyAttempt(result({ errorKind: 'connection', error: 'ECONNREFUSED' }))).toEqual({
      kind: 'retryable',
      retryAfterMs: null,
    });
  });

  it('fails blocked destinations, invalid URLs and unsendable requests at once', () => {
    for (const errorKind of ['blocked', 'invalid-url', 'invalid-request'] as const) {
      expect(classifyAttempt(result({ errorKind, error: 'x' }))).toEqual({ kind: 'permanent' });
    }
  });

  it('treats a result with neither status nor error as retryable', () => {
    expect(classifyAttempt(result({}))).toEqual({ kind: 'retryable', retryAfterMs: null });
  });

  it('uses isRetryableStatus consistently', () => {
    expect([408, 429, 500, 599].every(isRetryableStatus)).toBe(true);
    expect([200, 302, 400, 404, 409, 600].some(isRetryableStatus)).toBe(false);
  });
});

describe('decideNextStep', () => {
  const base = { maxAttempts: 10, now: NOW, settings: DEFAULTS, random: MID };

  it('delivers on success and fails on a permanent outcome, whatever the attempt count', () => {
    expect(decideNextStep({ ...base, attemptNumber: 1, outcome: { kind: 'delivered' } })).toEqual({
      status: 'DELIVERED',
    });
    expect(decideNextStep({ ...base, attemptNumber: 10, outcome: { kind: 'delivered' } })).toEqual({
      status: 'DELIVERED',
    });
    expect(decideNextStep({ ...base, attemptNumber: 1, outcome: { kind: 'permanent' } })).toEqual({
      status: 'FAILED',
    });
  });

  it('schedules a retry with the computed backoff', () => {
    const step = decideNextStep({
      ...base,
      attemptNumber: 3,
      outcome: { kind: 'retryable', retryAfterMs: null },
    });
    expect(step).toEqual({ status: 'RETRYING', nextAttemptAt: new Date(NOW.getTime() + 80_000) });
  });

  it('fails when the last allowed attempt fails, 429 included', () => {
    expect(
      decideNextStep({ ...base, attemptNumber: 10, outcome: { kind: 'retryable', retryAfterMs: 1000 } }),
    ).toEqual({ status: 'FAILED' });
    expect(
      decideNextStep({ ...base, attemptNumber: 1, maxAttempts: 1, outcome: { kind: 'retryable', retryAfterMs: null } }),
    ).toEqual({ status: 'FAILED' });
    expect(
      decideNextStep({ ...base, attemptNumber: 9, outcome: { kind: 'retryable', retryAfterMs: null } }).status,
    ).toBe('RETRYING');
  });

  it('lets Retry-After replace the computed delay, capped by MAX', () => {
    expect(
      decideNextStep({ ...base, attemptNumber: 5, outcome: { kind: 'retryable', retryAfterMs: 2000 } }),
    ).toEqual({ status: 'RETRYING', nextAttemptAt: new Date(NOW.getTime() + 2000) });
    expect(
      decideNextStep({ ...base, attemptNumber: 1, outcome: { kind: 'retryable', retryAfterMs: 0 } }),
    ).toEqual({ status: 'RETRYING', nextAttemptAt: NOW });
    expect(
      decideNextStep({
        ...base,
        attemptNumber: 1,
        outcome: { kind: 'retryable', retryAfterMs: 7 * 24 * 3600 * 1000 },
      }),
    ).toEqual({ status: 'RETRYING', nextAttemptAt: new Date(NOW.getTime() + 21_600_000) });
  });

  it('applies jitter through the injected random source', () => {
    const step = decideNextStep({
      ...base,
      random: () => 0,
      attemptNumber: 1,
      outcome: { kind: 'retryable', retryAfterMs: null },
    });
    expect(step).toEqual({ status: 'RETRYING', nextAttemptAt: new Date(NOW.getTime() + 4000) });
  });
});
