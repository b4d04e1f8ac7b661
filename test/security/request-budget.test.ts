// Request budgets per API key and the query cost.
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { buildSchema, getOperationAST, parse } from 'graphql';
import { createMemoryBudget, createRedisBudget, takeTokens } from '../../src/auth/request-budget';
import { operationCost } from '../../src/graphql/query-cost';
import { fragmentsOf } from '../../src/graphql/selections';
import { loadConfig } from '../../src/config/config';
import { testDatabases } from '../support/databases';
import { configurationFixtures } from '../support/fixtures';
import { redisAvailable, TEST_REDIS_URL } from '../support/redis';
import { startTestService, type TestService } from '../support/test-service';
import { subscriptionErrors, TestSubscription } from '../support/subscription-client';

describe('takeTokens', () => {
  const limit = { perSecond: 10, burst: 20 };
  it('starts full, takes the cost, refills at the rate up to the burst, and says when to come back', () => {
    let { state, decision } = takeTokens(undefined, limit, 15, 1000);
    expect(decision).toEqual({ allowed: true, retryAfterMs: 0 });
    expect(state.tokens).toBe(5);
    ({ state, decision } = takeTokens(state, limit, 10, 1000));
    expect(decision).toEqual({ allowed: false, retryAfterMs: 500 });
    ({ state, decision } = takeTokens(state, limit, 10, 1500));
    expect(decision.allowed).toBe(true);
    expect(state.tokens).toBe(0);
    ({ state } = takeTokens(state, limit, 0, 100_000));
    expect(state.tokens).toBe(20);
  });
  it('lets a cost above the burst take the whole burst instead of never passing', () => {
    expect(takeTokens(undefined, limit, 500, 0).decision.allowed).toBe(true);
    expect(takeTokens({ tokens: 19, atMs: 0 }, limit, 500, 0).decision).toEqual({ allowed: false, retryAfterMs: 100 });
  });
  it('does not go back in time when a clock steps back', () => {
    const { state } = takeTokens({ tokens: 0, atMs: 5000 }, limit, 0, 1000);
    expect(state).toEqual({ tokens: 0, atMs: 5000 });
  });
});

describe('the memory budget', () => {
  it('keeps one bucket per key; a rate of 0 is no limit', async () => {
    let now = 0;
    const budget = createMemoryBudget(() => now);
    const limit = { perSecond: 1, burst: 2 };
    expect((await budget.take('a', limit, 2)).allowed).toBe(true);
    expect(await budget.take('a', limit, 1)).toEqual({ allowed: false, retryAfterMs: 1000 });
    expect((await budget.take('b', limit, 1)).allowed).toBe(true);
    now = 1000;
    expect((await budget.take('a', limit, 1)).allowed).toBe(true);
    for (let i = 0; i < 100; i++) expect((await budget.take('c', { perSecond: 0, burst: 1 }, 1000)).allowed).toBe(true);
  });
});

(redisAvailable() ? describe : describe.skip)('the Redis budget', () => {
  it('shares one bucket between processes (two clients, one prefix), atomically', async () => {
    const prefix = `test-budget-${randomUUID()}:`;
    const errors: unknown[] = [];
    const [one, two] = await Promise.all([createRedisBudget(TEST_REDIS_URL, prefix, (e) => errors.push(e)), createRedisBudget(TEST_REDIS_URL, prefix, (e) => errors.push(e))]);
    try {
      const limit = { perSecond: 1, burst: 50 };
      // 100 concurrent takes of 1 from two clients: exactly the burst passes.
      const decisions = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? one : two).take('key-1', limit, 1)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(50);
      const refused = decisions.find((d) => !d.allowed);
      expect(refused?.retryAfterMs).toBeGreaterThan(0);
      expect((await two.take('key-2', limit, 1)).allowed).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      const redis = new Redis(TEST_REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await one.close();
      await two.close();
    }
  });
});

describe('operationCost', () => {
  const schema = buildSchema(`
    type Query { deliveries(first: Int): Conn! apps: [App!]! builtInMacros: [M!]! }
    type Mutation { recordEvents(inputs: [String!]!): [R!]! }
    type Conn { edges: [Edge!]! }
    type Edge { node: D! }
    type D { id: ID! event: E! }
    type E { id: ID! }
    type App { id: ID! callbacks: [App!]! }
    type M { name: String! }
    type R { id: ID! }`);
  const cost = (query: string, variables?: Record<string, unknown>) => {
    const document = parse(query);
    return operationCost(schema, getOperationAST(document)!, fragmentsOf(document), variables);
  };
  it('counts objects: a page multiplies what is under it, aliases add up', () => {
    // The connection, its 100 edges, their 100 nodes.
    expect(cost('{ deliveries(first: 100) { edges { node { id } } } }')).toBe(1 + 100 + 100);
    expect(cost('{ deliveries(first: 100) { edges { node { id event { id } } } } }')).toBe(1 + 100 + 100 + 100);
    expect(cost('{ deliveries { edges { node { id } } } }')).toBe(41);
    expect(cost('{ deliveries(first: 100000) { edges { node { id } } } }')).toBe(201);
    expect(cost('query($n: Int) { deliveries(first: $n) { edges { node { id } } } }', { n: 5 })).toBe(11);
    const aliases = Array.from({ length: 285 }, (_, i) => `a${i}: deliveries(first: 100) { edges { node { id } } }`).join(' ');
    expect(cost(`{ ${aliases} }`)).toBe(285 * 201);
    expect(cost('{ ...F } fragment F on Query { deliveries(first: 10) { edges { node { id } } } }')).toBe(21);
    expect(cost('{ apps { callbacks { id } } }')).toBe(2);
    expect(cost('mutation($i: [String!]!) { recordEvents(inputs: $i) { id } }', { i: Array(500).fill('x') })).toBe(500);
    expect(cost('mutation($i: [String!]!) { recordEvents(inputs: $i) { id } }', { i: ['a', 'b', 'c'] })).toBe(3);
    expect(cost('{ __typename }')).toBe(1);
  });
});

describe.each(testDatabases())('request budgets over HTTP and WebSocket on %s', (kind) => {
  let t: TestService;
  let partner: string;
  beforeAll(async () => {
    // A partner budget of 100: a page of 40 deliveries with their nodes costs 81.
    t = await startTestService(kind, { RATE_LIMIT_PARTNER_PER_SECOND: '1', RATE_LIMIT_PARTNER_BURST: '100', MAX_QUERY_COST: '5000' });
    const fx = configurationFixtures(t.admin);
    partner = await fx.partnerKey((await fx.network()).id);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const page = '{ deliveries(first: 40) { edges { node { id } } } }';

  it('answers 429 with Retry-After and RATE_LIMITED past the budget, and counts the refusal', async () => {
    const client = t.anonymous.as(partner);
    expect((await client.request(page)).errors).toBeUndefined();
    const response = await fetch(t.service.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${partner}` }, body: JSON.stringify({ query: page }) });
    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    const body = (await response.json()) as { errors: { extensions: { code: string; retryAfterSeconds: number } }[] };
    expect(body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: retryAfter });
    // Other keys have budgets of their own.
    expect((await t.admin.request(page)).errors).toBeUndefined();
    const metrics = await (await fetch(t.service.url.replace(/\/graphql$/, '/metrics'))).text();
    expect(metrics).toMatch(/postbacks_requests_refused_total\{reason="rate_limited",role="PARTNER"\} [1-9]/);
  });

  it('refuses a WebSocket operation past the budget with a RATE_LIMITED error', async () => {
    // The bucket is still nearly empty from the test before (1 token per second).
    const sub = new TestSubscription(t.service.url, partner, `query { ${Array.from({ length: 3 }, (_, i) => `a${i}: deliveries(first: 20) { edges { node { id } } }`).join(' ')} }`);
    try {
      const [error] = await subscriptionErrors(sub);
      expect(error.extensions?.code).toBe('RATE_LIMITED');
    } finally {
      await sub.close();
    }
  });

  it('refuses one operation that would do the work of hundreds, before running it', async () => {
    const aliases = Array.from({ length: 285 }, (_, i) => `a${i}: deliveries(first: 100) { edges { node { id } } }`).join(' ');
    const answer = await t.admin.request(`{ ${aliases} }`);
    expect(answer.status).toBe(400);
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', cost: 57285, maxCost: 5000 });
    const metrics = await (await fetch(t.service.url.replace(/\/graphql$/, '/metrics'))).text();
    expect(metrics).toMatch(/postbacks_requests_refused_total\{reason="query_cost",role="ADMIN"\} 1/);
  });
});

describe('request budget configuration', () => {
  it('has separate defaults per role and reads overrides', () => {
    const defaults = loadConfig({}).security.rateLimits;
    expect(defaults.PARTNER.perSecond).toBeLessThan(defaults.SDK.perSecond);
    expect(loadConfig({ RATE_LIMIT_SDK_PER_SECOND: '7', RATE_LIMIT_SDK_BURST: '9' }).security.rateLimits.SDK).toEqual({ perSecond: 7, burst: 9 });
    expect(() => loadConfig({ RATE_LIMIT_ADMIN_BURST: '0' })).toThrow(/RATE_LIMIT_ADMIN_BURST/);
  });
});

describe('security configuration', () => {
  it('has API-sized defaults and refuses settings that contradict each other', () => {
    const security = loadConfig({}).security;
    expect(security).toMatchObject({ introspection: 'keys', headersTimeoutSeconds: 10, requestTimeoutSeconds: 30, maxConnectionsPerAddress: 1024, maxSocketsPerKey: 10, maxSubscriptionsPerSocket: 20, maxQueryCost: 10_000 });
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_SECONDS: '60', HTTP_REQUEST_TIMEOUT_SECONDS: '30' })).toThrow(/HTTP_HEADERS_TIMEOUT_SECONDS/);
    expect(() => loadConfig({ GRAPHQL_INTROSPECTION: 'anyone' })).toThrow(/GRAPHQL_INTROSPECTION/);
    expect(loadConfig({ WS_MAX_CONNECTIONS_PER_KEY: '0' }).security.maxSocketsPerKey).toBe(0);
  });
});
