// Per-callback send limits (`maxRequestsPerSecond`), held across every process of a
// deployment. Windows are whole seconds: at most `limit` sends start in any one second. With
// Redis the count of each window is one key, taken atomically by a script that reads Redis's
// own clock, so processes with skewed clocks still share one window; without Redis the count
// lives in this process, which is exact when one process dispatches.
import Redis from 'ioredis';
import type { Clock } from '../common/clock';

export interface SendGrant {
  /** How many sends may start now (0..wanted). */
  granted: number;
  /** When the window that refused the rest ends (epoch ms); ask again then. */
  nextWindowAt: number;
}

export interface SendRateLimiter {
  /** Takes up to `wanted` sends to `callbackId` from the current second's `limit`. */
  acquire(callbackId: string, wanted: number, limit: number): Promise<SendGrant>;
  close(): Promise<void>;
}

const WINDOW_MS = 1000;

export class InMemorySendRateLimiter implements SendRateLimiter {
  private readonly windows = new Map<string, { start: number; used: number }>();

  constructor(private readonly clock: Clock) {}

  async acquire(callbackId: string, wanted: number, limit: number): Promise<SendGrant> {
    const now = this.clock.now().getTime();
    const start = now - (now % WINDOW_MS);
    let window = this.windows.get(callbackId);
    if (!window || window.start !== start) {
      window = { start, used: 0 };
      this.windows.set(callbackId, window);
    }
    const granted = Math.max(0, Math.min(wanted, limit - window.used));
    window.used += granted;
    return { granted, nextWindowAt: start + WINDOW_MS };
  }

  async close(): Promise<void> {
    this.windows.clear();
  }
}

/**
 * KEYS[1]: the key prefix; ARGV: callback id, wanted, limit. Returns { granted, ms to the next
 * window }. The window's key expires shortly after the window, so idle callbacks leave nothing.
 */
const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local second = math.floor(nowMs / 1000)
local key = KEYS[1] .. ARGV[1] .. ':' .. second
local wanted = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local used = tonumber(redis.call('GET', key) or '0')
local granted = math.max(0, math.min(wanted, limit - used))
if granted > 0 then
  redis.call('INCRBY', key, granted)
  redis.call('PEXPIRE', key, 3000)
end
return { granted, (second + 1) * 1000 - nowMs }
`;

export class RedisSendRateLimiter implements SendRateLimiter {
  private readonly redis: Redis;

  constructor(
    redisUrl: string,
    private readonly keyPrefix: string,
    private readonly clock: Clock,
  ) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
    this.redis.defineCommand('postbacksAcquireSends', { numberOfKeys: 1, lua: ACQUIRE_SCRIPT });
  }

  async acquire(callbackId: string, wanted: number, limit: number): Promise<SendGrant> {
    const run = (this.redis as unknown as Record<string, (...args: unknown[]) => Promise<[number, number]>>).postbacksAcquireSends!;
    const [granted, msToNext] = await run.call(this.redis, `${this.keyPrefix}send-rate:`, callbackId, wanted, limit);
    return { granted: Number(granted), nextWindowAt: this.clock.now().getTime() + Number(msToNext) };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
