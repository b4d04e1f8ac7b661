import pino from 'pino';
import type { Clock } from '../../src/common/clock';
import { Config, loadConfig } from '../../src/config/config';
import { startService, RunningService } from '../../src/app';
import { createTestDatabase, TestDatabase, TestDatabaseKind } from './databases';
import { GraphQLClient } from './graphql-client';

export const TEST_ADMIN_SECRET = 'test-admin-secret-0123456789abcdef';

export interface TestService {
  db: TestDatabase;
  service: RunningService;
  /** An ADMIN client. */
  admin: GraphQLClient;
  /** A client with no key. */
  anonymous: GraphQLClient;
  config: Config;
  stop(): Promise<void>;
}

/** Boots the real service (HTTP, GraphQL, database with migrations) on a fresh database and a free port. */
export async function startTestService(kind: TestDatabaseKind, env: Record<string, string> = {}, options: { clock?: Clock } = {}): Promise<TestService> {
  const db = await createTestDatabase(kind);
  const config = loadConfig({
    PORT: '0',
    DATABASE_URL: db.url,
    ADMIN_API_KEY: TEST_ADMIN_SECRET,
    DISPATCHER: 'off',
    DISPATCH_ALLOW_PRIVATE: 'true',
    ...env,
  });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const service = await startService(config, { logger, clock: options.clock });
  const anonymous = new GraphQLClient(service.url, null);
  return {
    db,
    service,
    config,
    admin: anonymous.as(TEST_ADMIN_SECRET),
    anonymous,
    async stop() {
      await service.stop();
      await db.drop();
    },
  };
}
