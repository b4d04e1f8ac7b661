import { randomBytes } from 'node:crypto';
import { RedisSendRateLimiter, SendRateLimiter } from '../../src/dispatch/send-rate-limiter';
import { redisAvailable, TEST_REDIS_URL } from '../support/redis';

const describeRedis = redisAvailable() ? describe : describe.skip;

describeRedis('RedisSendRateLimiter (two limiters standing for two processes)', () => {
  const prefix = `postbacks-test-${randomBytes(4).toString('hex')}:`;
  const limiters: SendRateLimiter[] = [];
  afterAll(async () => {
    await Promise.all(limiters.map((l) => l.close()));
  });

  it('shares one count per second between processes: no second holds more than the limit', async () => {
    const clock = { now: () => new Date() };
    const a = new RedisSendRateLimiter(TEST_REDIS_URL, prefix, clock);
    const b = new RedisSendRateLimiter(TEST_REDIS_URL, prefix, clock);
    limiters.push(a, b);
    const limit = 50;
    const grantsBySecond = new Map<number, number>();
    const until = Date.now() + 2500;
    // Each "process" asks for 7 sends at a time as fast as it can, for 2.5 s.
    const run = async (limiter: SendRateLimiter) => {
      while (Date.now() < until) {
        const { granted, nextWindowAt } = await limiter.acquire('cb-1', 7, limit);
        if (granted > 0) {
          // Attribute the grant to the window it came from: the one ending at nextWindowAt.
          const second = Math.round(nextWindowAt / 1000) - 1;
          grantsBySecond.set(second, (grantsBySecond.get(second) ?? 0) + granted);
        } else {
          await new Promise((r) => setTimeout(r, Math.max(1, Math.min(50, nextWindowAt - Date.now()))));
        }
      }
    };
    await Promise.all([run(a), run(b)]);
    const counts = [...grantsBySecond.values()];
    expect(counts.length).toBeGreaterThanOrEqual(2);
    for (const c of counts) expect(c).toBeLessThanOrEqual(limit);
    // Whole seconds inside the run were filled to the limit.
    expect(Math.max(...counts)).toBe(limit);
    // Another callback has its own count.
    expect((await a.acquire('cb-2', 10, limit)).granted).toBe(10);
  });
});
