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
  /** MySQL only: the database's name (SQLite: the file path). */
  name: string;
  /**
   * MySQL only: a URL for a new user holding only `privileges` on this one database (CREATE
   * USER + GRANT as the server's admin); drop() removes the user too.
   */
  userUrl(privileges: readonly string[]): Promise<string>;
  drop(): Promise<void>;
}

/** What an operator grants a migrating node, and a plain API node or worker. */
export const MIGRATOR_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'ALTER', 'INDEX', 'DROP', 'REFERENCES'] as const;
export const PLAIN_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

export interface TestDatabaseOptions {
  /**
   * MySQL: the character set the database is created with, as an operator would
   * (`CREATE DATABASE x CHARACTER SET latin1`); default: the server's own default.
   */
  charset?: string;
  collation?: string;
  /** MySQL: leave the database uncreated (the service must create it). */
  uncreated?: boolean;
}

/** Runs statements as the MySQL server's admin (TEST_MYSQL_URL). */
export async function mysqlAdmin<T>(work: (query: (sql: string, params?: unknown[]) => Promise<unknown>) => Promise<T>): Promise<T> {
  const server = parseServerUrl();
  const mysql = await import('mysql2/promise');
  const connection = await mysql.createConnection({ ...server, multipleStatements: false });
  try {
    return await work(async (sql, params) => (await connection.query(sql, params))[0]);
  } finally {
    await connection.end();
  }
}

function parseServerUrl(): { host: string; port: number; user: string; password: string } {
  const server = new URL(MYSQL_SERVER_URL);
  return { host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username || 'root'), password: decodeURIComponent(server.password) };
}

/**
 * A fresh, empty database of the given kind; drop() removes it. On MySQL the database is
 * created beforehand the way an operator does it (the server's default collation unless
 * told), not by the service.
 */
export async function createTestDatabase(kind: TestDatabaseKind, options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'postbacks-test-'));
    const path = join(dir, 'test.sqlite');
    const url = `sqlite:${path}`;
    return {
      kind, url, name: path, config: parseDatabaseUrl(url),
      userUrl: async () => url,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `pb_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const url = `${MYSQL_SERVER_URL.replace(/\/+$/, '')}/${name}`;
  const config = parseDatabaseUrl(url);
  const users: string[] = [];
  if (!options.uncreated) {
    const charset = options.charset ? ` CHARACTER SET ${options.charset}` : '';
    const collation = options.collation ? ` COLLATE ${options.collation}` : '';
    await mysqlAdmin((query) => query(`CREATE DATABASE \`${name}\`${charset}${collation}`));
  }
  return {
    kind,
    url,
    name,
    config,
    async userUrl(privileges) {
      const user = `pbu_${randomBytes(6).toString('hex')}`;
      const password = randomBytes(12).toString('hex');
      users.push(user);
      await mysqlAdmin(async (query) => {
        // Both hosts: a client on 127.0.0.1 may be seen as 'localhost', where an anonymous
        // account would otherwise win over '%'.
        for (const host of ['%', 'localhost']) {
          await query(`CREATE USER '${user}'@'${host}' IDENTIFIED BY '${password}'`);
          await query(`GRANT ${privileges.join(', ')} ON \`${name}\`.* TO '${user}'@'${host}'`);
        }
      });
      const server = parseServerUrl();
      return `mysql://${user}:${password}@${server.host}:${server.port}/${name}`;
    },
    drop: async () => {
      await mysqlAdmin(async (query) => {
        await query(`DROP DATABASE IF EXISTS \`${name}\``);
        for (const user of users) for (const host of ['%', 'localhost']) await query(`DROP USER IF EXISTS '${user}'@'${host}'`);
      });
    },
  };
}
