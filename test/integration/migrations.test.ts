import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { loadConfig } from '../../src/config/config';
import { startService, RunningService } from '../../src/app';
import { openDatabase, SchemaNotReadyError } from '../../src/db/open-database';
import { MIGRATIONS } from '../../src/db/data-source';
import { InitialSchema1764093600000 } from '../../migrations/1764093600000-InitialSchema';
import { AppsDocument, CreateAppDocument, CreateCallbackDocument, CreateNetworkDocument, UpdateAppDocument } from '../generated/graphql';
import { createTestDatabase, MIGRATOR_PRIVILEGES, mysqlAdmin, PLAIN_PRIVILEGES, TestDatabase, testDatabases } from '../support/databases';
import { GraphQLClient } from '../support/graphql-client';
import { TEST_ADMIN_SECRET } from '../support/test-service';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const configFor = (url: string, env: Record<string, string> = {}) =>
  loadConfig({ PORT: '0', DATABASE_URL: url, ADMIN_API_KEY: TEST_ADMIN_SECRET, DISPATCHER: 'off', RETENTION_DAYS: '0', ...env });

async function boot(url: string, env: Record<string, string> = {}): Promise<{ service: RunningService; admin: GraphQLClient }> {
  const service = await startService(configFor(url, env), { logger });
  return { service, admin: new GraphQLClient(service.url, TEST_ADMIN_SECRET) };
}

/** Exercises the schema through the API: an app with a unicode name, a network, a callback (two foreign keys), an update. */
async function exercise(admin: GraphQLClient, tag: string): Promise<void> {
  const app = (await admin.ok(CreateAppDocument, { input: { name: `Jeu 🎮 ${tag}`, bundleId: `com.example.${tag}`, platform: 'IOS' } })).createApp;
  expect(app.name).toBe(`Jeu 🎮 ${tag}`);
  const network = (await admin.ok(CreateNetworkDocument, { input: { name: 'Net', slug: `net${tag}` } })).createNetwork;
  await admin.ok(CreateCallbackDocument, {
    input: { appId: app.id, networkId: network.id, name: 'cb', urlTemplate: 'http://127.0.0.1:9/p?e={{event_name}}', eventNames: ['install'] },
  });
  await new Promise((resolve) => setTimeout(resolve, 5));
  const updated = (await admin.ok(UpdateAppDocument, { id: app.id, input: { name: `Jeu 2 ${tag}` } })).updateApp;
  // Milliseconds kept, and updatedAt never before createdAt.
  expect(new Date(updated.updatedAt).getTime()).toBeGreaterThan(new Date(updated.createdAt).getTime());
  expect(updated.createdAt).toBe(app.createdAt);
  const apps = (await admin.ok(AppsDocument)).apps;
  expect(apps.find((a) => a.id === app.id)?.updatedAt).toBe(updated.updatedAt);
}

/** Every string column of the service's tables, with a collation other than utf8mb4_bin. */
async function foreignCollations(db: TestDatabase): Promise<string[]> {
  const rows = (await mysqlAdmin((query) =>
    query('SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLLATION_NAME AS k FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND COLLATION_NAME IS NOT NULL', [db.name]),
  )) as Array<{ t: string; c: string; k: string }>;
  expect(rows.length).toBeGreaterThan(40);
  return rows.filter((row) => row.k !== 'utf8mb4_bin').map((row) => `${row.t}.${row.c}: ${row.k}`);
}

/** InitialSchema that fails after creating `tables` tables, as a run killed midway leaves it. */
function failingInitialSchema(tables: number): new () => MigrationInterface {
  return class extends InitialSchema1764093600000 {
    override async up(queryRunner: QueryRunner): Promise<void> {
      let created = 0;
      const proxy = new Proxy(queryRunner, {
        get(target, property, receiver) {
          if (property === 'createTable') {
            return async (...args: Parameters<QueryRunner['createTable']>) => {
              if (created === tables) throw new Error('injected failure midway through InitialSchema');
              created += 1;
              return target.createTable(...args);
            };
          }
          const value = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      return super.up(proxy);
    }
  };
}

/** Runs a process entry point (through @swc-node/register, no build) to its exit, with only `env`. */
async function runToExit(entry: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const root = join(__dirname, '..', '..');
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(root, entry)], {
    cwd: root, env: { PATH: process.env.PATH ?? '', PORT: '0', ADMIN_API_KEY: TEST_ADMIN_SECRET, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stderr };
}

describe.each(testDatabases())('migrations on %s', (kind) => {
  const dbs: TestDatabase[] = [];
  const fresh = async (options?: Parameters<typeof createTestDatabase>[1]) => {
    const db = await createTestDatabase(kind, options);
    dbs.push(db);
    return db;
  };
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  it('completes on a rerun after a run that failed midway (tables created, migration not recorded)', async () => {
    const db = await fresh();
    const config = configFor(db.url);
    await expect(openDatabase(config, logger, { migrationList: [failingInitialSchema(4), ...MIGRATIONS.slice(1)] })).rejects.toThrow(/injected failure/);
    const { service, admin } = await boot(db.url);
    try {
      await exercise(admin, 'rerun');
      const rows = await service.services.dataSource.query('SELECT name FROM migrations');
      expect(rows.map((row: { name: string }) => row.name).sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
    } finally {
      await service.stop();
    }
  });

  it('with MIGRATIONS=skip refuses to start on a schema that is behind, naming what to do', async () => {
    const db = await fresh();
    const error = await openDatabase(configFor(db.url, { MIGRATIONS: 'skip' }), logger).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaNotReadyError);
    expect((error as Error).message).toMatch(/schema is behind.*InitialSchema1764093600000.*migration:run/);
    // Nothing was written: a later run with MIGRATIONS=run starts from scratch.
    const { service, admin } = await boot(db.url);
    await exercise(admin, 'skip').finally(() => service.stop());
  });

  it('`npm start` with MIGRATIONS=skip on a schema that is behind prints one line saying what to do (no stack) and exits 1', async () => {
    const db = await fresh();
    const { code, stderr } = await runToExit('src/main.ts', { DATABASE_URL: db.url, MIGRATIONS: 'skip' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^failed to start: the database schema is behind: \d+ migration\(s\) pending \(InitialSchema1764093600000, .*migration:run.*\n$/);
    expect(stderr.split('\n')).toHaveLength(2);
  }, 60_000);

  if (kind !== 'mysql') return;

  it('migrates a database pre-created in the server default collation, as a least-privilege user; a SELECT/INSERT/UPDATE/DELETE user then starts', async () => {
    const db = await fresh();
    const migrator = await db.userUrl(MIGRATOR_PRIVILEGES);
    const first = await boot(migrator);
    await exercise(first.admin, 'least').finally(() => first.service.stop());
    expect(await foreignCollations(db)).toEqual([]);

    const plain = await db.userUrl(PLAIN_PRIVILEGES);
    const second = await boot(plain);
    try {
      expect((await second.admin.ok(AppsDocument)).apps.map((a) => a.name)).toContain('Jeu 2 least');
      await exercise(second.admin, 'plain');
    } finally {
      await second.service.stop();
    }
  });

  it('migrates a latin1 database, and stores text outside latin1', async () => {
    const db = await fresh({ charset: 'latin1', collation: 'latin1_swedish_ci' });
    const { service, admin } = await boot(db.url);
    await exercise(admin, 'latin').finally(() => service.stop());
    expect(await foreignCollations(db)).toEqual([]);
  });

  it.each([['utf8mb4_unicode_ci'], ['utf8mb4_bin']])('migrates a database created with %s', async (collation) => {
    const db = await fresh({ charset: 'utf8mb4', collation });
    const { service, admin } = await boot(db.url);
    await exercise(admin, collation.replace(/_/g, '')).finally(() => service.stop());
  });

  it('tells a plain (no DDL) user on an unmigrated database what to do, and creates nothing', async () => {
    const db = await fresh();
    const plain = await db.userUrl(PLAIN_PRIVILEGES);
    const error = await openDatabase(configFor(plain), logger).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaNotReadyError);
    expect((error as Error).message).toMatch(/may not change it.*migration:run/);
  });

  it('`npm run migration:run` as a plain user prints one line naming the privileges it needs (no stack) and exits 1', async () => {
    const db = await fresh();
    const plain = await db.userUrl(PLAIN_PRIVILEGES);
    const { code, stderr } = await runToExit('src/db/migrate-cli.ts', { DATABASE_URL: plain });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^migration failed: the database schema is behind \(.*\) and this node's database user may not change it: .*CREATE, ALTER.*\n$/);
    expect(stderr.split('\n')).toHaveLength(2);
  }, 60_000);

  it('a plain user on a database that does not exist is told to CREATE DATABASE, in one line', async () => {
    const db = await fresh({ uncreated: true });
    const plain = await db.userUrl(PLAIN_PRIVILEGES);
    const { code, stderr } = await runToExit('src/main.ts', { DATABASE_URL: plain });
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^failed to start: database ${db.name} does not exist and this node's database user may not create it \\(Access denied[^\\n]*\\): CREATE DATABASE ${db.name} as the operator[^\\n]*\\n$`));
  }, 60_000);

  it('a wrong password is one line naming where it connected, without the password', async () => {
    const db = await fresh();
    const plain = new URL(await db.userUrl(PLAIN_PRIVILEGES));
    plain.password = 'not-the-password';
    const { code, stderr } = await runToExit('src/main.ts', { DATABASE_URL: plain.toString() });
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^failed to start: cannot connect to the database of DATABASE_URL \\(mysql://${plain.username}@[^ ]+/${db.name}\\): Access denied for user [^\\n]*\\n$`));
    expect(stderr).not.toContain('not-the-password');
  }, 60_000);

  it('creates the database when it does not exist and the user may (first start with root)', async () => {
    const db = await fresh({ uncreated: true });
    const { service, admin } = await boot(db.url);
    await exercise(admin, 'created').finally(() => service.stop());
    expect(await foreignCollations(db)).toEqual([]);
  });

  it('replaces an empty table left in the default collation by the earlier, broken InitialSchema', async () => {
    const db = await fresh();
    await mysqlAdmin((query) =>
      query(`CREATE TABLE \`${db.name}\`.app (id varchar(36) NOT NULL PRIMARY KEY, name varchar(200) NOT NULL, bundleId varchar(255) NOT NULL, platform varchar(16) NOT NULL)`),
    );
    const { service, admin } = await boot(db.url);
    await exercise(admin, 'leftover').finally(() => service.stop());
    expect(await foreignCollations(db)).toEqual([]);
  });

  it('completes after `npm run migration:run` is killed (SIGKILL) midway through its tables', async () => {
    const db = await fresh();
    const root = join(__dirname, '..', '..');
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(root, 'src', 'db', 'migrate-cli.ts')], {
      cwd: root, env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'silent' }, stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Killed as soon as its first table (app) exists: the later ones are not created yet.
    const tables = async () =>
      ((await mysqlAdmin((query) => query("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> 'migrations'", [db.name]))) as Array<{ t: string }>).map((r) => r.t);
    while (child.exitCode === null && !(await tables()).includes('app')) await new Promise((resolve) => setTimeout(resolve, 2));
    child.kill('SIGKILL');
    await exited;
    // It did stop midway: some of the eight tables exist, not all (else this test proves nothing).
    const left = await tables();
    expect(left.length).toBeGreaterThan(0);
    expect(left.length).toBeLessThan(8);
    const { service, admin } = await boot(db.url);
    try {
      await exercise(admin, 'killed');
      const rows = await service.services.dataSource.query('SELECT name FROM migrations');
      expect(rows.map((row: { name: string }) => row.name).sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
    } finally {
      await service.stop();
    }
  }, 120_000);

  it('serializes two nodes starting at once: each migration runs once', async () => {
    const db = await fresh();
    const [a, b] = await Promise.all([boot(db.url), boot(db.url)]);
    try {
      const rows = await a.service.services.dataSource.query('SELECT name FROM migrations');
      expect(rows.map((row: { name: string }) => row.name).sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
      await exercise(b.admin, 'twins');
    } finally {
      await a.service.stop();
      await b.service.stop();
    }
  });
});
