import { InMemorySendRateLimiter } from '../../../src/dispatch/send-rate-limiter';

describe('InMemorySendRateLimiter', () => {
  let nowMs = Date.parse('2026-11-29T00:00:00.000Z');
  const clock = { now: () => new Date(nowMs) };

  it('grants at most the limit in one second, per callback, and again in the next', async () => {
    const limiter = new InMemorySendRateLimiter(clock);
    expect(await limiter.acquire('a', 30, 50)).toEqual({ granted: 30, nextWindowAt: nowMs + 1000 });
    nowMs += 400;
    expect((await limiter.acquire('a', 30, 50)).granted).toBe(20);
    expect((await limiter.acquire('a', 5, 50)).granted).toBe(0);
    expect((await limiter.acquire('b', 5, 50)).granted).toBe(5);
    nowMs += 600;
    expect(await limiter.acquire('a', 80, 50)).toEqual({ granted: 50, nextWindowAt: nowMs + 1000 });
  });
});
