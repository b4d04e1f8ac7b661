import { DataSource, MigrationInterface } from 'typeorm';
import { Config, DatabaseConfig } from '../config/config';
import { Logger } from '../common/logger';
import { OperatorError } from '../common/start-failure';
import { createDataSource, MIGRATIONS } from './data-source';
import { namedLockName, withNamedLock } from './named-lock';
import { MYSQL_CHARSET, MYSQL_COLLATION } from './schema-tools';

/** How long a start waits for another process's migration run before giving up. */
export const MIGRATION_LOCK_TIMEOUT_S = 600;

/** MySQL error numbers this module tells apart. */
const ER_DBACCESS_DENIED = 1044;
const ER_ACCESS_DENIED = 1045;
const ER_BAD_DB = 1049;
const ER_TABLEACCESS_DENIED = 1142;

/** The schema has migrations this node may not apply (MIGRATIONS=skip, or no DDL rights). */
export class SchemaNotReadyError extends OperatorError {}

export interface OpenDatabaseOptions {
  /** Overrides config.migrations. */
  migrations?: 'run' | 'skip';
  /** Tests only: another migration list (e.g. one that fails partway). */
  migrationList?: Array<new () => MigrationInterface>;
  poolSize?: number;
}

/**
 * Opens the database, checks that its schema is current and, when this node may migrate,
 * applies what is pending. A plain node (SELECT, INSERT, UPDATE, DELETE only) on a current
 * schema runs no DDL at all: the database is not created "if not exists", the migrations
 * table is only read.
 */
export async function openDatabase(config: Config, logger: Logger, options: OpenDatabaseOptions = {}): Promise<DataSource> {
  const mode = options.migrations ?? config.migrations;
  const dataSource = createDataSource(config.database, { poolSize: options.poolSize, migrations: options.migrationList });
  try {
    await dataSource.initialize();
  } catch (error) {
    if (config.database.type !== 'mysql' || errno(error) !== ER_BAD_DB) throw databaseUnreachable(config.database, error);
    if (mode !== 'run') throw new SchemaNotReadyError(`database ${config.database.database} does not exist (MIGRATIONS=skip: this node does not create it)`);
    const db = config.database;
    await createMysqlDatabase(db).catch((createError: unknown) => {
      throw isAccessDenied(createError)
        ? new SchemaNotReadyError(`database ${db.database} does not exist and this node's database user may not create it (${(createError as Error).message}): CREATE DATABASE ${db.database} as the operator (see "The database" in the README)`)
        : databaseUnreachable(db, createError);
    });
    await dataSource.initialize();
  }
  try {
    await migrate(dataSource, config, logger, mode);
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  return dataSource;
}

async function migrate(dataSource: DataSource, config: Config, logger: Logger, mode: 'run' | 'skip'): Promise<void> {
  let pending = await pendingMigrations(dataSource);
  if (pending.length === 0) return;
  if (mode === 'skip') {
    throw new SchemaNotReadyError(
      `the database schema is behind: ${pending.length} migration(s) pending (${pending.join(', ')}); ` +
        'apply them with `npm run migration:run` (a user with DDL rights), or start one node with MIGRATIONS=run',
    );
  }
  await withMigrationLock(dataSource, config.database, async () => {
    // Another process may have applied them while this one waited for the lock.
    pending = await pendingMigrations(dataSource);
    if (pending.length === 0) return;
    try {
      await ensureMigrationsTable(dataSource);
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      for (const migration of applied) logger.info({ migration: migration.name }, 'applied migration');
    } catch (error) {
      const code = errno(error);
      if (code === ER_TABLEACCESS_DENIED || code === ER_DBACCESS_DENIED || code === ER_ACCESS_DENIED) {
        throw new SchemaNotReadyError(
          `the database schema is behind (${pending.join(', ')}) and this node's database user may not change it: ${(error as Error).message}. ` +
            'Apply migrations with a user holding SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, REFERENCES on the database (`npm run migration:run`)',
        );
      }
      throw error;
    }
  });
}

/** Names of the known migrations the database has not recorded, read without any DDL. */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const known = dataSource.migrations.map((migration) => migration.name ?? migration.constructor.name);
  const table = dataSource.options.migrationsTableName ?? 'migrations';
  const runner = dataSource.createQueryRunner();
  try {
    if (!(await runner.hasTable(table))) return known;
    const rows: Array<{ name: string }> = await runner.query(`SELECT ${dataSource.driver.escape('name')} AS name FROM ${dataSource.driver.escape(table)}`);
    const applied = new Set(rows.map((row) => row.name));
    return known.filter((name) => !applied.has(name));
  } finally {
    await runner.release();
  }
}

/** TypeORM would create it in the database's default charset; ours names it, like every table. */
async function ensureMigrationsTable(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== 'mysql') return;
  await dataSource.query(
    'CREATE TABLE IF NOT EXISTS `migrations` (`id` int NOT NULL AUTO_INCREMENT, `timestamp` bigint NOT NULL, ' +
      `\`name\` varchar(255) CHARACTER SET ${MYSQL_CHARSET} COLLATE ${MYSQL_COLLATION} NOT NULL, PRIMARY KEY (\`id\`)) ` +
      `ENGINE=InnoDB DEFAULT CHARSET=${MYSQL_CHARSET} COLLATE=${MYSQL_COLLATION}`,
  );
}

/**
 * Runs `work` while holding the deployment-wide migration lock: MySQL's GET_LOCK, named after
 * the database, held by one dedicated connection (released when it closes, so a killed process
 * never leaves it behind). SQLite's file has one writer at a time and each migration runs in a
 * transaction: nothing more is needed there.
 */
async function withMigrationLock(dataSource: DataSource, db: DatabaseConfig, work: () => Promise<void>): Promise<void> {
  if (db.type !== 'mysql') return work();
  const done = await withNamedLock(dataSource, migrationLockName(db.database), MIGRATION_LOCK_TIMEOUT_S, async () => {
    await work();
    return true;
  });
  if (done === null) throw new Error(`another process has held the migration lock for ${MIGRATION_LOCK_TIMEOUT_S} s; not migrating`);
}

export function migrationLockName(database: string): string {
  return namedLockName('migrate', database);
}

async function createMysqlDatabase(db: Extract<DatabaseConfig, { type: 'mysql' }>): Promise<void> {
  const mysql = await import('mysql2/promise');
  const connection = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${db.database.replace(/`/g, '``')}\` CHARACTER SET ${MYSQL_CHARSET} COLLATE ${MYSQL_COLLATION}`);
  } finally {
    await connection.end();
  }
}

/** Socket errors that mean "nothing to talk to at that address" rather than a fault of the service. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

function isAccessDenied(error: unknown): boolean {
  const code = errno(error);
  return code === ER_ACCESS_DENIED || code === ER_DBACCESS_DENIED;
}

/**
 * A MySQL connection that fails for a reason the operator fixes in DATABASE_URL or the server
 * (wrong password, no grant on the database, nothing listening, unknown host) becomes one line
 * naming where it tried (without the password); anything else is returned as it was.
 */
export function databaseUnreachable(db: DatabaseConfig, error: unknown): unknown {
  if (db.type !== 'mysql') return error;
  const code = (error as { code?: unknown })?.code;
  if (!isAccessDenied(error) && !(typeof code === 'string' && UNREACHABLE_CODES.has(code))) return error;
  const where = `mysql://${db.user}@${db.host}:${db.port}/${db.database}`;
  return new OperatorError(`cannot connect to the database of DATABASE_URL (${where}): ${(error as Error).message}`);
}

function errno(error: unknown): number | undefined {
  const e = error as { errno?: number; driverError?: { errno?: number } };
  return e?.errno ?? e?.driverError?.errno;
}
