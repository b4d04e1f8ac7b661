import {
  ANSWER_PEAK_DECAY_MS,
  answerOf,
  BURST_GAP_MS,
  CallbackConcurrency,
  callbackConcurrency,
  DROP_QUIET_MS,
  INFLOW_MEMORY_MS,
  INFLOW_WINDOW_MS,
  inflowFloor,
  InflowRate,
  INITIAL_CALLBACK_LIMIT,
  MAX_TRACKED_CALLBACKS,
  MIN_CALLBACK_LIMIT,
  nextAnswerPeak,
  PROBE_EVERY_LIMITS,
  VegasLimit,
  vegasStep,
} from '../../../src/dispatch/adaptive-concurrency';

const SETTINGS = { initialLimit: 8, minLimit: 2, maxLimit: 64 };
/** A probe never comes within a test's few dozen samples. */
const NO_EARLY_PROBE = () => 1;

/** Feeds `count` answers of `ms` each, sent with the whole limit out. */
function feed(limit: VegasLimit, ms: number, count: number, dropped = false): void {
  for (let i = 0; i < count; i++) limit.sample(ms, limit.limit, dropped);
}

describe('vegasStep', () => {
  it('is ⌊log10⌋ of the limit, at least 1', () => {
    expect([1, 2, 9, 10, 64, 99, 100, 999, 1000].map(vegasStep)).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 3]);
  });
});

describe('VegasLimit', () => {
  it('starts at the initial limit, and the first answer only sets the unloaded time', () => {
    const limit = new VegasLimit(SETTINGS, NO_EARLY_PROBE);
    expect(limit.limit).toBe(8);
    limit.sample(10, 8, false);
    expect(limit).toMatchObject({ limit: 8, unloadedMs: 10 });
  });

  it('grows by a step per answer while answers come back as fast as the quickest (nothing queued), up to the max', () => {
    const limit = new VegasLimit(SETTINGS, NO_EARLY_PROBE);
    feed(limit, 10, 1);
    feed(limit, 10, 1);
    expect(limit.limit).toBe(9);
    // A limit's worth of answers (a round trip) doubles it, as TCP's slow start.
    feed(limit, 10, 9);
    expect(limit.limit).toBe(18);
    feed(limit, 10, 100);
    expect(limit.limit).toBe(64);
  });

  it('shrinks at once, when answers slow down with the limit out, to what leaves 3 steps queued', () => {
    const limit = new VegasLimit({ ...SETTINGS, initialLimit: 40 }, NO_EARLY_PROBE);
    feed(limit, 10, 1);
    // 40 out, answers in 20 ms instead of 10: 20 were queued; 40 × 10/20 + 3 = 23.
    feed(limit, 20, 1);
    expect(limit.limit).toBe(23);
    // Answers sent when more were out do not take it lower than their own estimate.
    limit.sample(20, 40, false);
    expect(limit.limit).toBe(22);
    // 22 → 14 → 10: at 10 out, 10 × (1 − 1/2) = 5 queued, between 3 and 6 steps: it holds there.
    feed(limit, 20, 100);
    expect(limit.limit).toBe(10);
    // A hundred times slower: 10 × 10/1000 + 3.
    feed(limit, 1000, 100);
    expect(limit.limit).toBe(3);
    // Timeouts: a step each, to the floor.
    feed(limit, 1000, 10, true);
    expect(limit.limit).toBe(2);
  });

  it('grows by a step per round trip when a little is queued, and holds between 3 and 6 steps', () => {
    const limit = new VegasLimit({ ...SETTINGS, initialLimit: 20 }, NO_EARLY_PROBE);
    feed(limit, 10, 1);
    // 20 × (1 − 10/11) = 1.8 → 2 queued: between 1 and 3, a twentieth of a step per answer.
    feed(limit, 11, 20);
    expect(limit.limit).toBe(20);
    feed(limit, 11, 2);
    expect(limit.limit).toBe(21);
    // 21 × (1 − 10/12.5) = 4.2 → 5 queued: held.
    const before = limit.limit;
    feed(limit, 12.5, 3);
    expect(limit.limit).toBe(before);
  });

  it('shrinks on timeouts and overload answers, whatever their time', () => {
    const limit = new VegasLimit({ ...SETTINGS, initialLimit: 10 }, NO_EARLY_PROBE);
    feed(limit, 10, 1);
    feed(limit, 10, 3, true);
    expect(limit.limit).toBe(7);
  });

  it('learns nothing from answers sent with less than half the limit out', () => {
    const limit = new VegasLimit({ ...SETTINGS, initialLimit: 20 }, NO_EARLY_PROBE);
    limit.sample(10, 1, false);
    for (let i = 0; i < 10; i++) limit.sample(100, 9, false);
    expect(limit.limit).toBe(20);
    // With half out: 10 × 10/100 carried unqueued, and 3 steps more.
    limit.sample(100, 10, false);
    expect(limit.limit).toBe(4);
  });

  it('ignores answer times that are not positive numbers', () => {
    const limit = new VegasLimit(SETTINGS, NO_EARLY_PROBE);
    for (const ms of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) limit.sample(ms, 8, true);
    expect(limit).toMatchObject({ limit: 8, unloadedMs: 0 });
  });

  it('forgets the quickest time now and then, so a receiver that became slower for good is measured again', () => {
    // random 0: the probe comes after half of PROBE_EVERY_LIMITS × limit samples.
    const limit = new VegasLimit({ initialLimit: 4, minLimit: 4, maxLimit: 4 }, () => 0);
    feed(limit, 5, 1);
    feed(limit, 50, PROBE_EVERY_LIMITS * 2 - 2);
    expect(limit.unloadedMs).toBe(5);
    feed(limit, 50, 1);
    expect(limit.unloadedMs).toBe(50);
  });

  it('stays put when minimum and maximum are the same (a fixed limit)', () => {
    const limit = new VegasLimit({ initialLimit: 64, minLimit: 64, maxLimit: 64 }, NO_EARLY_PROBE);
    feed(limit, 1, 1);
    feed(limit, 1000, 50);
    feed(limit, 1, 50, true);
    expect(limit.limit).toBe(64);
  });
});

describe('CallbackConcurrency', () => {
  const limits = () => new CallbackConcurrency({ initialLimit: 2, minLimit: 1, maxLimit: 8 }, NO_EARLY_PROBE);

  it('counts requests out per callback against each one’s limit', () => {
    const c = limits();
    expect([c.hasRoom('a'), c.limitOf('a')]).toEqual([true, 2]);
    expect(c.started('a')).toBe(1);
    expect(c.started('a')).toBe(2);
    expect([c.hasRoom('a'), c.outTo('a')]).toEqual([false, 2]);
    expect(c.hasRoom('b')).toBe(true);
    c.abandoned('a');
    expect([c.hasRoom('a'), c.outTo('a')]).toEqual([true, 1]);
  });

  it('learns each callback’s limit from its own answers', () => {
    const c = limits();
    for (let i = 0; i < 30; i++) {
      c.started('fast');
      c.answered('fast', 5, c.limitOf('fast'), false);
    }
    expect(c.limitOf('fast')).toBe(8);
    expect(c.limitOf('slow')).toBe(2);
    // Unknown callbacks and extra answers are harmless.
    c.answered('unknown', 5, 1, false);
    c.abandoned('unknown');
    expect(c.outTo('fast')).toBe(0);
  });

  it(`remembers at most ${MAX_TRACKED_CALLBACKS} callbacks, forgetting idle ones first`, () => {
    const c = limits();
    c.started('busy');
    for (let i = 0; i < MAX_TRACKED_CALLBACKS + 5; i++) {
      c.started(`cb-${i}`);
      c.abandoned(`cb-${i}`);
    }
    expect(c.size).toBeLessThanOrEqual(MAX_TRACKED_CALLBACKS);
    expect(c.outTo('busy')).toBe(1);
  });
});

describe('the floor under a callback’s limit: what this process keeps queuing for it', () => {
  it('inflowFloor: rate × answer time (Little’s law), twice over; nothing without either', () => {
    // 1,000 a second answered in 20 ms: 20 out on average.
    expect(inflowFloor(1000, 20)).toBe(40);
    expect(inflowFloor(1000, 0.1)).toBe(1);
    expect([inflowFloor(0, 20), inflowFloor(1000, 0)]).toEqual([0, 0]);
  });

  it('nextAnswerPeak: jumps to a slower answer at once, decays towards faster ones with time', () => {
    expect(nextAnswerPeak(0, 7, 0)).toBe(7);
    expect(nextAnswerPeak(5, 50, 0)).toBe(50);
    // Faster answers a millisecond apart barely move it; a time constant later it is 1/e of the way back.
    expect(nextAnswerPeak(50, 5, 1)).toBeCloseTo(50 - 45 * (1 - Math.exp(-1 / ANSWER_PEAK_DECAY_MS)), 6);
    expect(nextAnswerPeak(50, 5, ANSWER_PEAK_DECAY_MS)).toBeCloseTo(5 + 45 / Math.E, 6);
  });

  describe('InflowRate', () => {
    const W = INFLOW_WINDOW_MS;

    it('counts a steady stream from its second whole window on, per second', () => {
      const rate = new InflowRate();
      // One every 5 ms (further apart than a burst): 200 a second.
      for (let t = 0; t < W; t += 5) rate.add(1, t);
      expect(rate.perSecond(W)).toBe(0);
      for (let t = W; t < 3 * W; t += 5) rate.add(1, t);
      expect(rate.perSecond(3 * W)).toBe(200);
      expect(rate.burstSize(3 * W)).toBe(1);
    });

    it('counts one batch for nothing: a backlog to drain, not a stream', () => {
      const rate = new InflowRate();
      rate.add(300, 10);
      expect([rate.perSecond(20), rate.perSecond(W + 20), rate.perSecond(2 * W + 20)]).toEqual([0, 0, 0]);
      expect(rate.burstSize(W + 20)).toBe(0);
    });

    it('takes postbacks queued less than BURST_GAP_MS apart as one burst, and keeps the largest that recur', () => {
      const rate = new InflowRate();
      for (const start of [0, W, 2 * W]) {
        // One group commit's calls, announced in one turn: 30 together, then 5 more after a gap.
        for (let i = 0; i < 30; i++) rate.add(1, start + i * (BURST_GAP_MS / 40));
        rate.add(5, start + W / 2);
      }
      expect(rate.burstSize(3 * W)).toBe(30);
      expect(rate.perSecond(3 * W)).toBe((35 * 1000) / W);
    });

    it('forgets a stream that stopped, or stalled, gradually (INFLOW_MEMORY_MS), not with its first empty window', () => {
      const rate = new InflowRate();
      // One every 10 ms.
      for (let t = 0; t < 3 * W; t += 10) rate.add(1, t);
      const steady = rate.perSecond(3 * W);
      expect(steady).toBe(100);
      expect(rate.perSecond(3 * W + INFLOW_MEMORY_MS)).toBeCloseTo(steady / Math.E, 6);
      expect(rate.perSecond(3 * W + 10 * INFLOW_MEMORY_MS)).toBeLessThan(steady / 10_000);
    });
  });

  describe('CallbackConcurrency with postbacks queued', () => {
    let now = 0;
    const limits = () => new CallbackConcurrency(SETTINGS, NO_EARLY_PROBE, () => now);
    /** Queues `perSecond` postbacks a second for `seconds` for `callbackId`, evenly spaced, answering each in `answerMs` once sent. */
    const stream = (c: CallbackConcurrency, callbackId: string, perSecond: number, seconds: number, answerMs: number) => {
      for (let i = 0; i < perSecond * seconds; i++) {
        now += 1000 / perSecond;
        c.queued(callbackId);
        const out = c.started(callbackId);
        c.answered(callbackId, answerMs, out, false);
      }
    };

    it('keeps a callback’s limit at what the stream needs while slow answers (a busy event loop) would take Vegas to its floor', () => {
      now = 0;
      const c = limits();
      // Quick answers first: the unloaded time is 1 ms.
      stream(c, 'a', 100, 0.1, 1);
      // Then 2,000 a second answered in 20 ms: Vegas shrinks to its floor; the stream needs 40 out, 80 with headroom, capped at 64.
      stream(c, 'a', 2000, 1, 20);
      expect(c.limitOf('a')).toBe(64);
      // At 200 a second, 20 ms: 2 × 4 = 8, once the faster stream is forgotten (INFLOW_MEMORY_MS).
      stream(c, 'a', 200, 0.5, 20);
      expect(c.limitOf('a')).toBeGreaterThan(8);
      // (At 2,000 a second the postbacks came less than BURST_GAP_MS apart: one long burst, held too.)
      stream(c, 'a', 200, 16, 20);
      expect(c.limitOf('a')).toBe(8);
    });

    it('leaves a drain (one batch queued) and a callback that times out or says 429/503 to Vegas', () => {
      now = 0;
      const c = limits();
      c.queued('batch', 300);
      c.answered('batch', 1, c.started('batch'), false);
      // Drained with the whole limit out, answers 20 times slower than the first: Vegas takes 8 to 8 × 1/20 + 3.
      for (let round = 0; round < 10; round++) {
        const out = c.limitOf('batch');
        for (let i = 0; i < out; i++) c.started('batch');
        for (let i = 0; i < out; i++) c.answered('batch', 20, out, false);
        now += 20;
      }
      for (const later of [0, INFLOW_WINDOW_MS, 2 * INFLOW_WINDOW_MS]) {
        now += later;
        expect(c.limitOf('batch')).toBe(3);
      }

      stream(c, 'overloaded', 2000, 1, 20);
      expect(c.limitOf('overloaded')).toBe(64);
      c.answered('overloaded', 20, c.started('overloaded'), true);
      expect(c.limitOf('overloaded')).toBeLessThan(8);
      now += DROP_QUIET_MS;
      stream(c, 'overloaded', 2000, 0.1, 20);
      expect(c.limitOf('overloaded')).toBe(64);
    });

    it('learns nothing when the limit is fixed', () => {
      now = 0;
      const c = new CallbackConcurrency({ initialLimit: 16, minLimit: 16, maxLimit: 16 }, NO_EARLY_PROBE, () => now);
      stream(c, 'a', 2000, 1, 20);
      expect(c.limitOf('a')).toBe(16);
    });
  });
});

describe('callbackConcurrency (DISPATCH_CALLBACK_CONCURRENCY)', () => {
  const config = (dispatchCallbackConcurrency: 'adaptive' | number | null, dispatchConcurrency = 64) => ({ dispatchConcurrency, dispatchCallbackConcurrency });
  const adaptive = { initialLimit: INITIAL_CALLBACK_LIMIT, minLimit: MIN_CALLBACK_LIMIT, maxLimit: 64 };

  it('unset or adaptive: from the initial limit, between the floor and DISPATCH_CONCURRENCY', () => {
    expect(callbackConcurrency(config(null))).toEqual(adaptive);
    expect(callbackConcurrency(config('adaptive'))).toEqual(adaptive);
    expect(callbackConcurrency(config('adaptive', 1))).toEqual({ initialLimit: 1, minLimit: 1, maxLimit: 1 });
  });

  it('a number: fixed, never above DISPATCH_CONCURRENCY', () => {
    expect(callbackConcurrency(config(16))).toEqual({ initialLimit: 16, minLimit: 16, maxLimit: 16 });
    expect(callbackConcurrency(config(16, 8))).toEqual({ initialLimit: 8, minLimit: 8, maxLimit: 8 });
  });
});

describe('answerOf', () => {
  const result = (statusCode: number | null, errorKind: Parameters<typeof answerOf>[0]['errorKind'] = null) => ({ statusCode, errorKind });

  it('says nothing when no request went out', () => {
    expect([answerOf(result(null, 'blocked')), answerOf(result(null, 'invalid-url')), answerOf(result(null, 'invalid-request'))]).toEqual([undefined, undefined, undefined]);
  });

  it('counts timeouts, connection failures, 429 and 503 as overload; other answers as answers', () => {
    expect([result(null, 'timeout'), result(null, 'connection'), result(429), result(503)].map(answerOf)).toEqual(Array(4).fill({ dropped: true }));
    expect([result(200), result(500), result(404), result(502)].map(answerOf)).toEqual(Array(4).fill({ dropped: false }));
  });
});
