import {
  errorClass,
  LATENCY_BUCKET_BOUNDS_MS,
  latencyBucketIndex,
  percentileFromHistogram,
  rollupDeltas,
  StatsBucket,
  StatsEvent,
  statsWindow,
  summarizeStats,
  RollupKey,
  LATENCY_BUCKETS,
} from '../../../src/deliveries/delivery-stats';

const H = 3_600_000;
const t0 = Date.parse('2026-11-28T00:00:00.000Z');

/** A seeded generator, so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('latency buckets', () => {
  it('puts each latency in the first bucket whose bound holds it', () => {
    expect(latencyBucketIndex(0)).toBe(0);
    expect(latencyBucketIndex(1)).toBe(0);
    expect(latencyBucketIndex(1.5)).toBe(1);
    expect(latencyBucketIndex(10)).toBe(5);
    expect(latencyBucketIndex(11)).toBe(6);
    expect(latencyBucketIndex(60_000)).toBe(LATENCY_BUCKETS - 2);
    expect(latencyBucketIndex(10_000_000)).toBe(LATENCY_BUCKETS - 1);
    expect(latencyBucketIndex(-5)).toBe(0);
  });

  it('reads percentiles inside the right bucket', () => {
    const counts = new Array(LATENCY_BUCKETS).fill(0);
    expect(percentileFromHistogram(counts, 0.5)).toBeNull();
    counts[latencyBucketIndex(100)] = 100; // 75 < x ≤ 100
    expect(percentileFromHistogram(counts, 0.5)).toBe(88);
    expect(percentileFromHistogram(counts, 1)).toBe(100);
    counts[LATENCY_BUCKETS - 1] = 1000;
    expect(percentileFromHistogram(counts, 0.99)).toBe(60_000);
  });
});

describe('statsWindow', () => {
  it('rounds from down and to up to the hour', () => {
    const w = statsWindow(new Date('2026-11-28T10:59:59.999Z'), new Date('2026-11-28T12:00:00.001Z'));
    expect(w.from.toISOString()).toBe('2026-11-28T10:00:00.000Z');
    expect(w.to.toISOString()).toBe('2026-11-28T13:00:00.000Z');
    const exact = statsWindow(new Date('2026-11-28T10:00:00.000Z'), new Date('2026-11-28T12:00:00.000Z'));
    expect(exact.to.toISOString()).toBe('2026-11-28T12:00:00.000Z');
  });
});

describe('errorClass', () => {
  it.each([
    [{ statusCode: 200, error: null }, null],
    [{ statusCode: 503, error: 'HTTP 503' }, 'HTTP 503'],
    [{ statusCode: 404, error: null }, 'HTTP 404'],
    [{ statusCode: null, error: 'connect ECONNREFUSED 127.0.0.1:9001' }, 'connection refused'],
    [{ statusCode: null, error: 'timed out after 5000 ms' }, 'timeout'],
    [{ statusCode: null, error: 'ECONNRESET: socket hang up' }, 'ECONNRESET'],
    [{ statusCode: null, error: 'destination 10.0.0.1 is not allowed' }, 'destination N.N.N.N is not allowed'],
    [{ statusCode: null, error: null }, 'unknown error'],
  ])('%j → %s', (attempt, expected) => {
    expect(errorClass(attempt)).toBe(expected);
  });
});

describe('rollups against a brute-force count', () => {
  it('agree on every count, and percentiles fall in the bucket of the true value', () => {
    const random = rng(42);
    const callbacks = ['cb-a', 'cb-b', 'cb-c'];
    interface Sim { key: RollupKey; status: 'PENDING' | 'RETRYING' | 'DELIVERED' | 'FAILED'; latencies: number[]; errors: string[] }
    const deliveries: Sim[] = [];
    const events: StatsEvent[] = [];
    for (let i = 0; i < 3000; i++) {
      const callbackId = callbacks[Math.floor(random() * callbacks.length)]!;
      const key: RollupKey = { deliveryCreatedAt: new Date(t0 + Math.floor(random() * 48 * H)), appId: 'app-1', networkId: callbackId === 'cb-c' ? null : 'net-1', callbackId };
      const d: Sim = { key, status: 'PENDING', latencies: [], errors: [] };
      deliveries.push(d);
      events.push({ kind: 'queued', key });
      const attempts = Math.floor(random() * 4);
      for (let a = 0; a < attempts; a++) {
        const latencyMs = Math.floor(random() ** 3 * 8000);
        const ok = random() < 0.6;
        const statusCode = ok ? 200 : random() < 0.5 ? 503 : null;
        const error = ok ? null : statusCode ? `HTTP ${statusCode}` : 'connect ECONNREFUSED 127.0.0.1:1';
        d.latencies.push(latencyMs);
        if (!ok) d.errors.push(errorClass({ statusCode, error })!);
        events.push({ kind: 'attempt', key, latencyMs, statusCode, error });
        if (ok) {
          d.status = 'DELIVERED';
          events.push({ kind: 'final', key, status: 'DELIVERED' });
          break;
        }
        d.status = a === attempts - 1 && random() < 0.5 ? 'FAILED' : 'RETRYING';
        if (d.status === 'FAILED') {
          events.push({ kind: 'final', key, status: 'FAILED' });
          break;
        }
      }
      // Some finished deliveries are redelivered and are in progress again.
      if ((d.status === 'DELIVERED' || d.status === 'FAILED') && random() < 0.05) {
        events.push({ kind: 'reopened', key, from: d.status });
        d.status = 'PENDING';
      }
    }

    // The store would apply these in several flushes: split the facts into chunks and add up.
    const { rows, errors } = rollupDeltas(events);
    const window = statsWindow(new Date(t0 + 5.5 * H), new Date(t0 + 30.2 * H));
    const inWindow = (d: Sim) => d.key.deliveryCreatedAt >= window.from && d.key.deliveryCreatedAt < window.to && d.key.networkId === 'net-1';
    const selected = deliveries.filter(inWindow);
    const summary = summarizeStats({
      rows: rows.filter((r) => r.hour >= window.from && r.hour < window.to && r.networkId === 'net-1'),
      errors: errors.filter((e) => e.hour >= window.from && e.hour < window.to && e.networkId === 'net-1'),
      window,
      bucket: StatsBucket.DAY,
    });

    const delivered = selected.filter((d) => d.status === 'DELIVERED').length;
    const failed = selected.filter((d) => d.status === 'FAILED').length;
    expect(summary.queued).toBe(selected.length);
    expect(summary.delivered).toBe(delivered);
    expect(summary.failed).toBe(failed);
    expect(summary.inProgress).toBe(selected.length - delivered - failed);
    expect(summary.attempts).toBe(selected.reduce((n, d) => n + d.latencies.length, 0));
    expect(summary.successRate).toBeCloseTo(delivered / (delivered + failed), 12);

    const latencies = selected.flatMap((d) => d.latencies).sort((a, b) => a - b);
    for (const [p, got] of [[0.5, summary.p50LatencyMs], [0.95, summary.p95LatencyMs], [0.99, summary.p99LatencyMs]] as const) {
      const exact = latencies[Math.ceil(p * latencies.length) - 1]!;
      const b = latencyBucketIndex(exact);
      expect(got).toBeGreaterThanOrEqual(b === 0 ? 0 : LATENCY_BUCKET_BOUNDS_MS[b - 1]!);
      expect(got).toBeLessThanOrEqual(LATENCY_BUCKET_BOUNDS_MS[b]!);
    }

    const errorCounts = new Map<string, number>();
    for (const e of selected.flatMap((d) => d.errors)) errorCounts.set(e, (errorCounts.get(e) ?? 0) + 1);
    expect(Object.fromEntries(summary.topErrors.map((e) => [e.error, e.count]))).toEqual(Object.fromEntries(errorCounts));

    // Day buckets: the window 05:00 day 1 → 07:00 day 2 touches two days; the points add up to the total.
    expect(summary.series.map((p) => p.start.toISOString())).toEqual(['2026-11-28T00:00:00.000Z', '2026-11-29T00:00:00.000Z']);
    expect(summary.series.reduce((n, p) => n + p.queued, 0)).toBe(summary.queued);
    expect(summary.series.reduce((n, p) => n + p.attempts, 0)).toBe(summary.attempts);
  });

  it('gives an hourly series with every hour of the window, empty ones included', () => {
    const key: RollupKey = { deliveryCreatedAt: new Date(t0 + 2 * H + 10), appId: 'a', networkId: 'n', callbackId: 'c' };
    const { rows } = rollupDeltas([{ kind: 'queued', key }, { kind: 'attempt', key, latencyMs: 12, statusCode: 200, error: null }, { kind: 'final', key, status: 'DELIVERED' }]);
    const summary = summarizeStats({ rows, errors: [], window: statsWindow(new Date(t0), new Date(t0 + 4 * H)), bucket: StatsBucket.HOUR });
    expect(summary.series.map((p) => p.queued)).toEqual([0, 0, 1, 0]);
    // One 12 ms attempt: the median is read off its bucket (10, 15] at the rank's place, its top.
    expect(summary.series[2]).toMatchObject({ delivered: 1, attempts: 1, p50LatencyMs: 15 });
    expect(summary.series[0]!.p50LatencyMs).toBeNull();
    expect(summary).toMatchObject({ successRate: 1, inProgress: 0, topErrors: [] });
  });

  it('has no success rate when nothing finished', () => {
    const key: RollupKey = { deliveryCreatedAt: new Date(t0), appId: 'a', networkId: null, callbackId: 'c' };
    const { rows } = rollupDeltas([{ kind: 'queued', key }]);
    const summary = summarizeStats({ rows, errors: [], window: statsWindow(new Date(t0), new Date(t0 + H)), bucket: StatsBucket.HOUR });
    expect(summary).toMatchObject({ queued: 1, inProgress: 1, successRate: null, p50LatencyMs: null });
  });
});
