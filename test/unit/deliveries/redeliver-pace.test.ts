import { advanceSlot, dueTimes, pauseAfterBatch, REDELIVER_SLICE_MS, replayStep, startSlot } from '../../../src/deliveries/redeliver-pace';

const NOW = Date.parse('2030-01-01T00:00:00.000Z');

/** Plans `total` deliveries in batches of `batch`, every batch started at `now` (the database took no time). */
function plan(total: number, batch: number, perSecond: number, sliceMs?: number): number[] {
  const pace = { perSecond, sliceMs };
  const times: number[] = [];
  let slot = null;
  while (times.length < total) {
    const from = startSlot(slot, NOW, pace);
    const n = Math.min(batch, total - times.length);
    times.push(...dueTimes(from, n, pace));
    slot = advanceSlot(from, n, pace);
  }
  return times;
}

function countsByTime(times: number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const t of times) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

describe('replayStep', () => {
  it('groups a slice worth of deliveries per due time', () => {
    expect(replayStep({ perSecond: 200 })).toEqual({ size: 20, intervalMs: 100 });
    expect(replayStep({ perSecond: 1000, sliceMs: 250 })).toEqual({ size: 250, intervalMs: 250 });
  });

  it('stretches the step when a slice holds less than one delivery, so the rate still holds', () => {
    expect(replayStep({ perSecond: 2 })).toEqual({ size: 1, intervalMs: 500 });
    expect(replayStep({ perSecond: 1 })).toEqual({ size: 1, intervalMs: 1000 });
  });

  it('rounds the step size up and lengthens its interval to match', () => {
    const step = replayStep({ perSecond: 333 });
    expect(step.size).toBe(34);
    expect(step.intervalMs).toBeCloseTo((34 * 1000) / 333, 9);
    expect(step.intervalMs).toBeGreaterThanOrEqual(REDELIVER_SLICE_MS);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => replayStep({ perSecond: 0 })).toThrow(/positive/);
  });
});

describe('spreading a replay', () => {
  it('spreads 10,000 at 200/s over 50 s: 500 due times, 100 ms apart, 20 deliveries each, in order', () => {
    const times = plan(10_000, 500, 200);
    expect(times[0]).toBe(NOW);
    expect(times[times.length - 1]).toBe(NOW + 49_900);
    const counts = countsByTime(times);
    expect(counts.size).toBe(500);
    expect([...counts.values()].every((n) => n === 20)).toBe(true);
    expect([...counts.keys()].every((t) => (t - NOW) % 100 === 0)).toBe(true);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
  });

  it('carries a step that a batch left half full over to the next batch', () => {
    const times = plan(50, 7, 100);
    const counts = countsByTime(times);
    expect([...counts.entries()]).toEqual([
      [NOW, 10],
      [NOW + 100, 10],
      [NOW + 200, 10],
      [NOW + 300, 10],
      [NOW + 400, 10],
    ]);
  });

  it('never puts more than the rate allows in any second, at odd rates too', () => {
    for (const perSecond of [1, 3, 7, 37, 333, 1000, 4999]) {
      const times = plan(3 * perSecond + 11, 50, perSecond);
      let end = 0;
      let most = 0;
      for (let first = 0; first < times.length; first++) {
        while (end < times.length && times[end]! < times[first]! + 1000) end++;
        most = Math.max(most, end - first);
      }
      expect(most).toBeLessThanOrEqual(perSecond + replayStep({ perSecond }).size);
      const span = times[times.length - 1]! - times[0]!;
      expect(span).toBeGreaterThanOrEqual(Math.floor(((times.length - replayStep({ perSecond }).size) / perSecond) * 1000) - 1);
    }
  });

  it('places nothing before now', () => {
    expect(Math.min(...plan(1000, 100, 250))).toBe(NOW);
  });
});

describe('startSlot', () => {
  const pace = { perSecond: 100 };

  it('starts at now', () => {
    expect(startSlot(null, NOW, pace)).toEqual({ at: NOW, used: 0 });
  });

  it('keeps a step ahead of now, and the current step while its interval lasts', () => {
    expect(startSlot({ at: NOW + 5_000, used: 3 }, NOW, pace)).toEqual({ at: NOW + 5_000, used: 3 });
    expect(startSlot({ at: NOW - 50, used: 3 }, NOW, pace)).toEqual({ at: NOW - 50, used: 3 });
  });

  it('starts again at now when the replay fell behind its schedule, instead of queueing in the past', () => {
    expect(startSlot({ at: NOW - 5_000, used: 3 }, NOW, pace)).toEqual({ at: NOW, used: 0 });
    expect(startSlot({ at: NOW - 100, used: 0 }, NOW, pace)).toEqual({ at: NOW, used: 0 });
  });
});

describe('advanceSlot', () => {
  it('moves on by whole steps and keeps the remainder', () => {
    const pace = { perSecond: 200 };
    expect(advanceSlot({ at: NOW, used: 0 }, 0, pace)).toEqual({ at: NOW, used: 0 });
    expect(advanceSlot({ at: NOW, used: 5 }, 15, pace)).toEqual({ at: NOW + 100, used: 0 });
    expect(advanceSlot({ at: NOW, used: 5 }, 500, pace)).toEqual({ at: NOW + 2_500, used: 5 });
  });
});

describe('pauseAfterBatch', () => {
  it('waits at least as long as the batch took, and at least the minimum', () => {
    expect(pauseAfterBatch(130.2, 10)).toBe(131);
    expect(pauseAfterBatch(2, 10)).toBe(10);
  });
});
