import { percentile, pipelineLatencies, queueVerdict, rateBetween, rssVerdict, slope, summarizeLatencies } from '../../../bench/lib/stats';

describe('bench statistics', () => {
  describe('percentile (nearest rank)', () => {
    it.each([
      [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5, 5],
      [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95, 10],
      [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9],
      [[10, 1, 5], 0, 1],
      [[10, 1, 5], 1, 10],
      [[42], 0.99, 42],
    ])('%j at %d is %d', (values, q, expected) => {
      expect(percentile(values, q)).toBe(expected);
    });

    it('is NaN for no values', () => {
      expect(percentile([], 0.5)).toBeNaN();
    });

    it('does not reorder its input', () => {
      const values = [3, 1, 2];
      percentile(values, 0.5);
      expect(values).toEqual([3, 1, 2]);
    });
  });

  it('summarizes latencies', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarizeLatencies(values)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(summarizeLatencies([]).count).toBe(0);
  });

  describe('rateBetween', () => {
    it('counts intervals, not arrivals', () => {
      expect(rateBetween(11, 0, 1000)).toBe(10);
    });
    it('is NaN for one arrival or no elapsed time', () => {
      expect(rateBetween(1, 0, 1000)).toBeNaN();
      expect(rateBetween(5, 1000, 1000)).toBeNaN();
    });
  });

  describe('slope', () => {
    it('fits a straight line', () => {
      expect(slope([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 5 }])).toBeCloseTo(2);
    });
    it('is 0 for a flat or degenerate series', () => {
      expect(slope([{ x: 0, y: 4 }, { x: 5, y: 4 }])).toBe(0);
      expect(slope([{ x: 1, y: 4 }])).toBe(0);
      expect(slope([{ x: 1, y: 1 }, { x: 1, y: 9 }])).toBe(0);
    });
  });

  describe('queueVerdict', () => {
    const steady = Array.from({ length: 30 }, (_, i) => ({ atSeconds: i * 2, depth: i % 2 === 0 ? 3 : 9 }));
    it('a queue holding only what is in flight does not grow', () => {
      const v = queueVerdict(steady, 1000);
      expect(v.grows).toBe(false);
      expect(v.maxDepth).toBe(9);
    });
    it('a backlog that builds up grows', () => {
      const building = Array.from({ length: 30 }, (_, i) => ({ atSeconds: i * 2, depth: i * 100 }));
      expect(queueVerdict(building, 1000).grows).toBe(true);
      expect(queueVerdict(building, 1000).growthPerSecond).toBeCloseTo(50);
    });
    it('ending with more than a second of input waiting counts as growing', () => {
      const samples = [...steady.slice(0, 29), { atSeconds: 58, depth: 1500 }];
      expect(queueVerdict(samples, 1000).grows).toBe(true);
    });
    it('copes with no samples', () => {
      expect(queueVerdict([], 100)).toMatchObject({ grows: false, finalDepth: 0, maxDepth: 0 });
    });
  });

  describe('rssVerdict', () => {
    const mb = 2 ** 20;
    const saw = (i: number) => ((i % 6) - 2.5) * 30 * mb; // ±75 MB with the garbage collector
    it('is stable when the level holds, however much single samples saw', () => {
      const samples = Array.from({ length: 300 }, (_, i) => ({ atSeconds: i * 2, rssBytes: (i < 30 ? 120 * mb : 250 * mb) + saw(i) }));
      const v = rssVerdict(samples, 60);
      expect(v.stable).toBe(true);
      expect(v.maxDeviation).toBeLessThan(0.02);
      expect(v.maxBytes - v.minBytes).toBeGreaterThan(100 * mb);
      expect(Math.abs(v.trendBytesPerMinute)).toBeLessThan(mb);
    });
    it('ignores the samples of the warm-up', () => {
      const samples = [{ atSeconds: 0, rssBytes: 50 * mb }, ...Array.from({ length: 30 }, (_, i) => ({ atSeconds: 60 + i * 5, rssBytes: 200 * mb }))];
      expect(rssVerdict(samples, 60)).toMatchObject({ stable: true, referenceBytes: 200 * mb, finalBytes: 200 * mb });
    });
    it('flags a level that keeps rising', () => {
      const samples = Array.from({ length: 300 }, (_, i) => ({ atSeconds: i * 2, rssBytes: (200 + i * 0.5) * mb + saw(i) }));
      const v = rssVerdict(samples, 60);
      expect(v.stable).toBe(false);
      expect(v.finalBytes).toBeGreaterThan(v.referenceBytes * 1.1);
      expect(v.trendBytesPerMinute / mb).toBeCloseTo(15, 0);
    });
    it('is not stable without enough samples after the warm-up', () => {
      expect(rssVerdict([{ atSeconds: 61, rssBytes: mb }], 60).stable).toBe(false);
    });
  });
});

describe('pipelineLatencies', () => {
  // Five requests, t0 = 1000 ms, windows of 1 s: #0 and #1 sent in the first second, #2 (shed:
  // never sent) skipped, #3 and #4 in the second; #1's postback never arrived, #4 had no good answer.
  const sentAt = Float64Array.from([1_000, 1_500, Number.NaN, 2_100, 2_900]);
  const answeredAt = Float64Array.from([1_010, 1_700, Number.NaN, 2_105, Number.NaN]);
  const arrivedAt = new Map([
    [0, 1_020],
    [3, 2_400],
    [4, 2_950],
  ]);
  const result = pipelineLatencies(sentAt, answeredAt, (i) => arrivedAt.get(i), 1_000, 1, 2);

  it('measures end to end from the send to the arrival, and counts what never arrived', () => {
    expect(result.endToEnd).toEqual([20, 300, 50]);
    expect(result.missing).toBe(1);
  });

  it('cuts both latencies into windows by send time, so a slow window shows whether its events waited for the answer or after it', () => {
    expect(result.p99ByWindow).toEqual([20, 300]);
    expect(result.answerP99ByWindow).toEqual([200, 5]);
  });

  it('counts the sends just past the load\'s end in its last window, not in a window of their own', () => {
    // A 2 s load in 1 s windows: its last send, 2 ms past t0 + 2 s, belongs to the second window.
    const late = pipelineLatencies(Float64Array.from([1_000, 2_500, 3_002]), Float64Array.from([1_005, 2_510, 3_090]), () => 3_100, 1_000, 1, 2);
    expect(late.p99ByWindow).toHaveLength(2);
    expect(late.answerP99ByWindow).toEqual([5, 88]);
  });
});
