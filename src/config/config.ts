// Configuration is read from the environment once, at start, into a typed object.
// Nothing else in the service reads process.env.

export type DatabaseConfig =
  | { type: 'sqlite'; path: string }
  | { type: 'mysql'; url: string; host: string; port: number; user: string; password: string; database: string };

export interface Config {
  port: number;
  database: DatabaseConfig;
  redisUrl: string | null;
  /** null: make a random one at start and print it once. */
  adminApiKey: string | null;
  dispatcher: 'inline' | 'off';
  /** `npm run worker` serves /healthz, /readyz and /metrics on this port; null: no HTTP at all. */
  workerPort: number | null;
  dispatchConcurrency: number;
  /**
   * DISPATCH_BATCH_SIZE: what the dispatcher's claims, reservations and recordings are sized
   * by (dispatch/dispatcher.ts). Never below dispatchConcurrency.
   */
  dispatchBatchSize: number;
  /**
   * DISPATCH_CALLBACK_CONCURRENCY: requests out to one callback at once. 'adaptive' or null
   * (unset): learnt per callback from its answer times and from what the process keeps queuing
   * for it (dispatch/adaptive-concurrency.ts); a number: fixed.
   */
  dispatchCallbackConcurrency: 'adaptive' | number | null;
  dispatchBackoffBaseMs: number;
  dispatchBackoffMaxMs: number;
  dispatchLeaseMs: number;
  /** DISPATCH_BREAKER_PAUSE_MS: the first pause of an open circuit (doubles per failed probe). */
  dispatchBreakerPauseMs: number;
  /** DISPATCH_BREAKER_MAX_PAUSE_MS: the longest pause. */
  dispatchBreakerMaxPauseMs: number;
  dispatchAllowPrivate: boolean;
  dispatchSender: 'got' | 'undici';
  /** REDELIVER_MAX_PER_SECOND: how fast one redeliverMany's deliveries fall due (redeliver-pace.ts). */
  redeliverMaxPerSecond: number;
  /**
   * run: apply pending migrations at start (serialized across processes by a database lock).
   * skip: never run DDL; start only when the schema is current (for nodes whose database user
   * has no DDL rights, with migrations applied as a separate step: `npm run migration:run`).
   */
  migrations: 'run' | 'skip';
  retention: RetentionConfig;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logPretty: boolean;
  security: SecurityConfig;
}

/** A token bucket: `perSecond` tokens come back each second, up to `burst`; 0 per second: no limit. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** Limits that protect the service from its own clients (README, "Security"). */
export interface SecurityConfig {
  /** Who may introspect the schema: any valid key, ADMIN keys only, or nobody. */
  introspection: 'keys' | 'admin' | 'off';
  /** Seconds a client has to send a request's headers, and its whole request. */
  headersTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  /** Open TCP connections (HTTP and WebSocket) from one client address; 0: no cap. */
  maxConnectionsPerAddress: number;
  /** Open WebSockets of one API key (per process); 0: no cap. */
  maxSocketsPerKey: number;
  /** Active subscriptions on one WebSocket; 0: no cap. */
  maxSubscriptionsPerSocket: number;
  /** The estimated cost (objects in the answer: aliases × page sizes) one operation may have. */
  maxQueryCost: number;
  /** Request budgets per API key, in cost units, by role. */
  rateLimits: { SDK: RateLimit; PARTNER: RateLimit; ADMIN: RateLimit };
}

export interface RetentionConfig {
  /** Events, deliveries and attempts older than this many days are purged; 0 keeps everything. */
  days: number;
  /** Rows per DELETE statement: bounds how long one statement holds its locks. */
  batchSize: number;
  /** Pause between two batches, so ingest and dispatch keep their latency while a backlog is purged. */
  pauseMs: number;
  /** How often a purge pass starts. */
  intervalMs: number;
}

/** The longest callback timeout the API accepts (contract: timeoutMs 100..30000). */
export const MAX_CALLBACK_TIMEOUT_MS = 30_000;
/**
 * DISPATCH_LEASE_MS is a floor, not the whole lease: every claim's lease is stretched to the
 * longest timeout among the claimed deliveries plus a safety margin (src/deliveries/lease.ts),
 * so even a short setting always outlives the attempts it covers. The default (60 s) stays
 * above the longest timeout the API accepts; a short one only makes a dead worker's
 * deliveries of short-timeout callbacks come back sooner (tests use that).
 */
export const MIN_DISPATCH_LEASE_MS = 1_000;

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function intSetting(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolSetting(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true, false, 1 or 0, got "${env[name]}"`);
}

function callbackConcurrencySetting(env: Env): 'adaptive' | number | null {
  const raw = env.DISPATCH_CALLBACK_CONCURRENCY?.trim().toLowerCase();
  if (raw === undefined || raw === '') return null;
  if (raw === 'adaptive') return 'adaptive';
  if (!/^\d+$/.test(raw)) throw new ConfigError(`DISPATCH_CALLBACK_CONCURRENCY must be "adaptive" or a whole number, got "${env.DISPATCH_CALLBACK_CONCURRENCY}"`);
  return intSetting(env, 'DISPATCH_CALLBACK_CONCURRENCY', 0, 1, 10_000);
}

function choiceSetting<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

export function parseDatabaseUrl(raw: string): DatabaseConfig {
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length).replace(/^\/\//, '');
    if (path === '') throw new ConfigError('DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/postbacks.sqlite');
    return { type: 'sqlite', path };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`DATABASE_URL must be mysql://user:pass@host:3306/db or sqlite:PATH, got "${redactUrl(raw)}"`);
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw new ConfigError(`DATABASE_URL must start with mysql:// or sqlite:, got "${url.protocol}"`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new ConfigError('DATABASE_URL names no database (mysql://user:pass@host:3306/DATABASE)');
  return {
    type: 'mysql',
    url: raw,
    host: url.hostname,
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    database,
  };
}

function redactUrl(raw: string): string {
  return raw.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}

export function loadConfig(env: Env): Config {
  const redisUrl = env.REDIS_URL?.trim() || null;
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got "${redactUrl(redisUrl)}"`);
  }
  const adminApiKey = env.ADMIN_API_KEY?.trim() || null;
  if (adminApiKey !== null && adminApiKey.length < 16) {
    throw new ConfigError('ADMIN_API_KEY must be at least 16 characters long');
  }
  const dispatchConcurrency = intSetting(env, 'DISPATCH_CONCURRENCY', 64, 1, 10_000);
  const config: Config = {
    port: intSetting(env, 'PORT', 4000, 0, 65535),
    database: parseDatabaseUrl(env.DATABASE_URL?.trim() || 'sqlite:./data/postbacks.sqlite'),
    redisUrl,
    adminApiKey,
    dispatcher: choiceSetting(env, 'DISPATCHER', ['inline', 'off'] as const, 'inline'),
    workerPort: env.WORKER_PORT?.trim() ? intSetting(env, 'WORKER_PORT', 0, 0, 65535) : null,
    dispatchConcurrency,
    dispatchBatchSize: dispatchBatchSizeSetting(env, dispatchConcurrency),
    dispatchCallbackConcurrency: callbackConcurrencySetting(env),
    dispatchBackoffBaseMs: intSetting(env, 'DISPATCH_BACKOFF_BASE_MS', 5000, 1, 86_400_000),
    dispatchBackoffMaxMs: intSetting(env, 'DISPATCH_BACKOFF_MAX_MS', 21_600_000, 1, 7 * 86_400_000),
    dispatchLeaseMs: intSetting(env, 'DISPATCH_LEASE_MS', 60_000, MIN_DISPATCH_LEASE_MS, 86_400_000),
    dispatchBreakerPauseMs: intSetting(env, 'DISPATCH_BREAKER_PAUSE_MS', 60_000, 10, 86_400_000),
    dispatchBreakerMaxPauseMs: intSetting(env, 'DISPATCH_BREAKER_MAX_PAUSE_MS', 3_600_000, 10, 7 * 86_400_000),
    dispatchAllowPrivate: boolSetting(env, 'DISPATCH_ALLOW_PRIVATE', false),
    // undici by default: got costs about five times its CPU per request, and with got the inline
    // dispatcher cannot keep up with half the peak ingest rate on a 2-core machine (BENCHMARKS.md).
    dispatchSender: choiceSetting(env, 'DISPATCH_SENDER', ['got', 'undici'] as const, 'undici'),
    // A replay beside live traffic: about 5 % of a core's worth of postbacks on the benchmark
    // machine, and 720,000 an hour (BENCHMARKS.md, "redeliverMany beside the pipeline").
    redeliverMaxPerSecond: intSetting(env, 'REDELIVER_MAX_PER_SECOND', 200, 1, 1_000_000),
    migrations: choiceSetting(env, 'MIGRATIONS', ['run', 'skip'] as const, 'run'),
    retention: {
      days: intSetting(env, 'RETENTION_DAYS', 30, 0, 36_500),
      batchSize: intSetting(env, 'RETENTION_BATCH_SIZE', 1000, 1, 100_000),
      pauseMs: intSetting(env, 'RETENTION_PAUSE_MS', 50, 0, 60_000),
      intervalMs: intSetting(env, 'RETENTION_INTERVAL_MS', 600_000, 1000, 86_400_000),
    },
    logLevel: choiceSetting(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    logPretty: boolSetting(env, 'LOG_PRETTY', false),
    security: loadSecurityConfig(env),
  };
  if (config.dispatchBackoffMaxMs < config.dispatchBackoffBaseMs) {
    throw new ConfigError('DISPATCH_BACKOFF_MAX_MS must not be below DISPATCH_BACKOFF_BASE_MS');
  }
  return config;
}

/**
 * Batches of 256 by default, whatever the requests out: a claim or a recording is a commit, and
 * at 64 per commit the dispatcher, not the database, was what the pipeline waited for at half
 * the peak ingest rate (BENCHMARKS.md, "Batches larger than the requests out"). But never more
 * than 4 rounds of requests by default: claims wait their turn on their leases, and a process
 * with few requests out would hold many more claims than it can start in time.
 */
export const DEFAULT_DISPATCH_BATCH_SIZE = 256;
export const DEFAULT_BATCH_ROUNDS = 4;

function dispatchBatchSizeSetting(env: Env, concurrency: number): number {
  const unset = env.DISPATCH_BATCH_SIZE === undefined || env.DISPATCH_BATCH_SIZE === '';
  if (unset) return Math.max(concurrency, Math.min(DEFAULT_DISPATCH_BATCH_SIZE, DEFAULT_BATCH_ROUNDS * concurrency));
  const size = intSetting(env, 'DISPATCH_BATCH_SIZE', DEFAULT_DISPATCH_BATCH_SIZE, 1, 10_000);
  if (size < concurrency) {
    throw new ConfigError(`DISPATCH_BATCH_SIZE (${size}) must not be below DISPATCH_CONCURRENCY (${concurrency}): a claim must be able to fill every free slot`);
  }
  return size;
}

function rateLimit(env: Env, role: string, perSecond: number, burst: number): RateLimit {
  const limit = {
    perSecond: intSetting(env, `RATE_LIMIT_${role}_PER_SECOND`, perSecond, 0, 100_000_000),
    burst: intSetting(env, `RATE_LIMIT_${role}_BURST`, burst, 1, 1_000_000_000),
  };
  if (limit.perSecond > 0 && limit.burst < limit.perSecond / 1000) {
    throw new ConfigError(`RATE_LIMIT_${role}_BURST must be at least a millisecond's worth of RATE_LIMIT_${role}_PER_SECOND`);
  }
  return limit;
}

function loadSecurityConfig(env: Env): SecurityConfig {
  const security: SecurityConfig = {
    introspection: choiceSetting(env, 'GRAPHQL_INTROSPECTION', ['keys', 'admin', 'off'] as const, 'keys'),
    headersTimeoutSeconds: intSetting(env, 'HTTP_HEADERS_TIMEOUT_SECONDS', 10, 1, 3600),
    requestTimeoutSeconds: intSetting(env, 'HTTP_REQUEST_TIMEOUT_SECONDS', 30, 1, 3600),
    maxConnectionsPerAddress: intSetting(env, 'HTTP_MAX_CONNECTIONS_PER_ADDRESS', 1024, 0, 1_000_000),
    maxSocketsPerKey: intSetting(env, 'WS_MAX_CONNECTIONS_PER_KEY', 10, 0, 1_000_000),
    maxSubscriptionsPerSocket: intSetting(env, 'WS_MAX_SUBSCRIPTIONS_PER_CONNECTION', 20, 0, 1_000_000),
    maxQueryCost: intSetting(env, 'MAX_QUERY_COST', 10_000, 1, 1_000_000_000),
    // An SDK backend records events at thousands per second (a recordEvent with its event and
    // deliveries costs 3, a batch 3 per event; BENCHMARKS.md reaches 19,000 events/s in
    // batches); a PARTNER reads pages of its deliveries (a page of 100 with their events: 301).
    rateLimits: {
      SDK: rateLimit(env, 'SDK', 100_000, 200_000),
      PARTNER: rateLimit(env, 'PARTNER', 5_000, 20_000),
      ADMIN: rateLimit(env, 'ADMIN', 50_000, 100_000),
    },
  };
  if (security.headersTimeoutSeconds > security.requestTimeoutSeconds) {
    throw new ConfigError('HTTP_HEADERS_TIMEOUT_SECONDS must not be above HTTP_REQUEST_TIMEOUT_SECONDS');
  }
  return security;
}

/** For the entry points: the configuration, or one line naming what is wrong and exit code 1. */
export function loadConfigOrExit(env: Env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
