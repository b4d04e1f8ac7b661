import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/config';

describe('loadConfig', () => {
  it('runs with no configuration at all: SQLite, inline dispatcher, port 4000', () => {
    expect(loadConfig({})).toMatchObject({
      port: 4000,
      database: { type: 'sqlite', path: './data/postbacks.sqlite' },
      redisUrl: null,
      adminApiKey: null,
      dispatcher: 'inline',
      dispatchConcurrency: 64,
      dispatchBatchSize: 256,
      dispatchCallbackConcurrency: null,
      dispatchBackoffBaseMs: 5000,
      dispatchBackoffMaxMs: 21_600_000,
      dispatchAllowPrivate: false,
      dispatchSender: 'undici',
      redeliverMaxPerSecond: 200,
      workerPort: null,
      migrations: 'run',
      retention: { days: 30, batchSize: 1000 },
      logLevel: 'info',
    });
  });

  it('reads a MySQL URL with escaped credentials', () => {
    expect(loadConfig({ DATABASE_URL: 'mysql://app%40x:p%3Ass@db.internal:3307/postbacks' }).database).toEqual({
      type: 'mysql', url: 'mysql://app%40x:p%3Ass@db.internal:3307/postbacks', host: 'db.internal', port: 3307, user: 'app@x', password: 'p:ss', database: 'postbacks',
    });
  });

  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['DATABASE_URL', { DATABASE_URL: 'postgres://localhost/x' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://localhost' }],
    ['DATABASE_URL', { DATABASE_URL: 'sqlite:' }],
    ['REDIS_URL', { REDIS_URL: 'localhost:6379' }],
    ['ADMIN_API_KEY', { ADMIN_API_KEY: 'short' }],
    ['DISPATCHER', { DISPATCHER: 'worker' }],
    ['MIGRATIONS', { MIGRATIONS: 'later' }],
    ['RETENTION_DAYS', { RETENTION_DAYS: '-1' }],
    ['RETENTION_BATCH_SIZE', { RETENTION_BATCH_SIZE: '0' }],
    ['DISPATCH_CONCURRENCY', { DISPATCH_CONCURRENCY: '0' }],
    ['DISPATCH_BATCH_SIZE', { DISPATCH_BATCH_SIZE: 'big' }],
    ['DISPATCH_BATCH_SIZE', { DISPATCH_BATCH_SIZE: '0' }],
    ['DISPATCH_CALLBACK_CONCURRENCY', { DISPATCH_CALLBACK_CONCURRENCY: 'auto' }],
    ['DISPATCH_CALLBACK_CONCURRENCY', { DISPATCH_CALLBACK_CONCURRENCY: '0' }],
    ['DISPATCH_BACKOFF_BASE_MS', { DISPATCH_BACKOFF_BASE_MS: '-5' }],
    ['DISPATCH_BACKOFF_MAX_MS', { DISPATCH_BACKOFF_BASE_MS: '10000', DISPATCH_BACKOFF_MAX_MS: '5000' }],
    ['DISPATCH_ALLOW_PRIVATE', { DISPATCH_ALLOW_PRIVATE: 'yes' }],
    ['DISPATCH_SENDER', { DISPATCH_SENDER: 'axios' }],
    ['REDELIVER_MAX_PER_SECOND', { REDELIVER_MAX_PER_SECOND: '0' }],
    ['WORKER_PORT', { WORKER_PORT: 'x' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['LOG_PRETTY', { LOG_PRETTY: 'maybe' }],
  ])('refuses a bad %s, naming it', (name, env) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(name);
  });

  it('reads DISPATCH_CALLBACK_CONCURRENCY: adaptive, or a fixed number', () => {
    expect(loadConfig({ DISPATCH_CALLBACK_CONCURRENCY: ' Adaptive ' }).dispatchCallbackConcurrency).toBe('adaptive');
    expect(loadConfig({ DISPATCH_CALLBACK_CONCURRENCY: '16' }).dispatchCallbackConcurrency).toBe(16);
  });

  it('reads DISPATCH_BATCH_SIZE: unset, 256 but at most 4 × DISPATCH_CONCURRENCY and never below it', () => {
    expect(loadConfig({ DISPATCH_BATCH_SIZE: '1000' }).dispatchBatchSize).toBe(1000);
    expect(loadConfig({ DISPATCH_BATCH_SIZE: '64' }).dispatchBatchSize).toBe(64);
    // Unset, it follows DISPATCH_CONCURRENCY below and above 256; set, it must not be below it.
    expect(loadConfig({ DISPATCH_CONCURRENCY: '4' }).dispatchBatchSize).toBe(16);
    expect(loadConfig({ DISPATCH_CONCURRENCY: '100' }).dispatchBatchSize).toBe(256);
    expect(loadConfig({ DISPATCH_CONCURRENCY: '500' }).dispatchBatchSize).toBe(500);
    expect(() => loadConfig({ DISPATCH_CONCURRENCY: '500', DISPATCH_BATCH_SIZE: '256' })).toThrow(
      new ConfigError('DISPATCH_BATCH_SIZE (256) must not be below DISPATCH_CONCURRENCY (500): a claim must be able to fill every free slot'),
    );
  });

  it('keeps a password out of the error about a bad DATABASE_URL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://user:hunter2@db/x' })).not.toThrow(/hunter2/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql//user:hunter2@db/x' })).toThrow(/user:\*\*\*@/);
  });

  it('stops `npm start` with one line naming the variable, before touching anything', () => {
    const result = spawnSync(process.execPath, ['-r', '@swc-node/register', join('src', 'main.ts')], {
      cwd: join(__dirname, '..', '..', '..'),
      env: { PATH: process.env.PATH, DISPATCH_CONCURRENCY: 'lots', DATABASE_URL: 'sqlite:/nonexistent-dir/never-created.sqlite' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('configuration error: DISPATCH_CONCURRENCY must be a whole number, got "lots"');
  });
});
