import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { DatabaseConfig, parseDatabaseUrl } from '../../src/config/config';

/**
 * Which databases the integration tests run on. SQLite always. MySQL when it answers at
 * TEST_MYSQL_URL (default root@127.0.0.1:3306); REQUIRE_MYSQL=1 (CI) turns "not answering"
 * into a failure instead of a skip.
 */
export type TestDatabaseKind = 'sqlite' | 'mysql';

const MYSQL_SERVER_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root:@127.0.0.1:3306';

let mysqlAvailable: boolean | undefined;

function probeMysql(): boolean {
  const server = new URL(MYSQL_SERVER_URL);
  // A child process keeps this check synchronous, so describe.each can use its answer.
  const script = `
    const m = require('mysql2/promise');
    m.createConnection({ host: ${JSON.stringify(server.hostname)}, port: ${Number(server.port || 3306)}, user: ${JSON.stringify(decodeURIComponent(server.username || 'root'))}, password: ${JSON.stringify(decodeURIComponent(server.password))}, connectTimeout: 3000 })
      .then((c) => c.end()).then(() => process.exit(0), () => process.exit(1));`;
  try {
    execFileSync(process.execPath, ['-e', script], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export function testDatabases(): TestDatabaseKind[] {
  if (mysqlAvailable === undefined) {
    mysqlAvailable = probeMysql();
    if (!mysqlAvailable) {
      if (process.env.REQUIRE_MYSQL === '1') throw new Error(`REQUIRE_MYSQL=1 but MySQL does not answer at ${MYSQL_SERVER_URL}`);
      process.stderr.write(`\n  MySQL not answering at ${MYSQL_SERVER_URL}: MySQL tests SKIPPED, running on SQLite only.\n\n`);
    }
  }
  return mysqlAvailable ? ['sqlite', 'mysql'] : ['sqlite'];
}

export interface TestDatabase {
  kind: TestDatabaseKind;
  url: string;
  config: DatabaseConfig;
  drop(): Promise<void>;
}

/** A fresh, empty database of the given kind; drop() removes it. */
export async function createTestDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'postbacks-test-'));
    const url = `sqlite:${join(dir, 'test.sqlite')}`;
    return { kind, url, config: parseDatabaseUrl(url), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `pb_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const url = `${MYSQL_SERVER_URL.replace(/\/+$/, '')}/${name}`;
  const config = parseDatabaseUrl(url);
  return {
    kind,
    url,
    config,
    drop: async () => {
      if (config.type !== 'mysql') return;
      const mysql = await import('mysql2/promise');
      const connection = await mysql.createConnection({ host: config.host, port: config.port, user: config.user, password: config.password });
      try {
        await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await connection.end();
      }
    },
  };
}
