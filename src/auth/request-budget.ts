// Request budgets per API key: a token bucket per key, refilled continuously at the role's
// rate up to its burst, from which each operation takes its estimated cost
// (src/graphql/query-cost.ts). With Redis the bucket is shared by every process of the
// deployment (one Lua script reads, refills and takes atomically, on Redis's clock); without
// it, each process keeps its own.
import Redis from 'ioredis';
import type { RateLimit } from '../config/config';

export interface BudgetDecision {
  allowed: boolean;
  /** When refused: how long until the bucket holds the cost. */
  retryAfterMs: number;
}

export interface RequestBudget {
  /** Takes `cost` tokens from the bucket `key` when it holds them. A limit of 0 per second always allows. */
  take(key: string, limit: RateLimit, cost: number): Promise<BudgetDecision>;
  close(): Promise<void>;
}

export interface BucketState {
  tokens: number;
  atMs: number;
}

/**
 * One step of the bucket: refill for the time since `state` (a new bucket starts full), then
 * take `cost` if it is there. A cost above the burst takes the whole burst: it could never be
 * afforded otherwise, and the per-operation cost cap (MAX_QUERY_COST) is what refuses it.
 */
export function takeTokens(state: BucketState | undefined, limit: RateLimit, cost: number, nowMs: number): { state: BucketState; decision: BudgetDecision } {
  const need = Math.min(cost, limit.burst);
  const atMs = Math.max(nowMs, state?.atMs ?? nowMs);
  const tokens = state ? Math.min(limit.burst, state.tokens + ((atMs - state.atMs) * limit.perSecond) / 1000) : limit.burst;
  if (tokens >= need) return { state: { tokens: tokens - need, atMs }, decision: { allowed: true, retryAfterMs: 0 } };
  return { state: { tokens, atMs }, decision: { allowed: false, retryAfterMs: Math.ceil(((need - tokens) * 1000) / limit.perSecond) } };
}

/** Buckets kept in memory before full ones are dropped (a full bucket is the same as none). */
const MAX_MEMORY_BUCKETS = 100_000;

export function createMemoryBudget(now: () => number = Date.now): RequestBudget {
  const buckets = new Map<string, BucketState & { limit: RateLimit }>();
  const dropFull = (nowMs: number) => {
    for (const [key, bucket] of buckets) {
      if (bucket.tokens + ((nowMs - bucket.atMs) * bucket.limit.perSecond) / 1000 >= bucket.limit.burst) buckets.delete(key);
    }
  };
  return {
    async take(key, limit, cost) {
      if (limit.perSecond === 0) return { allowed: true, retryAfterMs: 0 };
      const nowMs = now();
      const { state, decision } = takeTokens(buckets.get(key), limit, cost, nowMs);
      if (buckets.size >= MAX_MEMORY_BUCKETS && !buckets.has(key)) dropFull(nowMs);
      buckets.set(key, { tokens: state.tokens, atMs: state.atMs, limit });
      return decision;
    },
    async close() {
      buckets.clear();
    },
  };
}

// KEYS[1]: the bucket. ARGV: per second, burst, cost. The same arithmetic as takeTokens().
const TAKE_TOKENS_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local need = math.min(tonumber(ARGV[3]), burst)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = burst
local at = now
if state[1] then
  tokens = tonumber(state[1])
  at = math.max(now, tonumber(state[2]))
  tokens = math.min(burst, tokens + (at - tonumber(state[2])) * rate / 1000)
end
local allowed = 0
local retry = 0
if tokens >= need then
  tokens = tokens - need
  allowed = 1
else
  retry = math.ceil((need - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, retry}
`;

type BudgetRedis = Redis & { takeTokens(key: string, perSecond: number, burst: number, cost: number): Promise<[number, number]> };

/**
 * Buckets in Redis under `prefix` (the deployment's channel prefix). When Redis does not
 * answer, requests are allowed and `onError` is told: an outage of Redis must not become an
 * outage of the API.
 */
export async function createRedisBudget(redisUrl: string, prefix: string, onError: (error: unknown) => void): Promise<RequestBudget> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'postbacks-budget' }) as BudgetRedis;
  client.on('error', onError);
  client.defineCommand('takeTokens', { numberOfKeys: 1, lua: TAKE_TOKENS_LUA });
  await client.connect();
  return {
    async take(key, limit, cost) {
      if (limit.perSecond === 0) return { allowed: true, retryAfterMs: 0 };
      try {
        const [allowed, retryAfterMs] = await client.takeTokens(`${prefix}budget:${key}`, limit.perSecond, limit.burst, cost);
        return { allowed: allowed === 1, retryAfterMs: Number(retryAfterMs) };
      } catch (error) {
        onError(error);
        return { allowed: true, retryAfterMs: 0 };
      }
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
