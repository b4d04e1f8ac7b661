import { execFileSync } from 'node:child_process';

/**
 * Redis for the multi-process tests, at TEST_REDIS_URL (default redis://127.0.0.1:6379). When
 * it does not answer those tests are skipped with a notice, unless REQUIRE_MYSQL=1 (CI), which
 * requires the services CI starts.
 */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let available: boolean | undefined;

export function redisAvailable(): boolean {
  if (available === undefined) {
    const script = `
      const Redis = require('ioredis');
      const r = new Redis(${JSON.stringify(TEST_REDIS_URL)}, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
      r.connect().then(() => r.ping()).then(() => { r.disconnect(); process.exit(0); }, () => process.exit(1));`;
    try {
      execFileSync(process.execPath, ['-e', script], { stdio: 'ignore', timeout: 10_000 });
      available = true;
    } catch {
      available = false;
    }
    if (!available) {
      if (process.env.REQUIRE_MYSQL === '1') throw new Error(`REQUIRE_MYSQL=1 (CI) but Redis does not answer at ${TEST_REDIS_URL}`);
      process.stderr.write(`\n  Redis not answering at ${TEST_REDIS_URL}: multi-process tests SKIPPED.\n\n`);
    }
  }
  return available;
}
