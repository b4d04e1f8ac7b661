import { DataSource, EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { isMysql } from './data-source';

/**
 * Every write transaction of the service goes through here.
 *
 * SQLite: TypeORM's better-sqlite3 driver has ONE query runner for the whole process, and a
 * second `dataSource.transaction()` started while the first awaits becomes a SAVEPOINT inside
 * it: two requests' writes would commit or roll back together. So on SQLite transactions
 * run one at a time, queued behind a process-wide lock (SQLite has a single writer anyway).
 *
 * MySQL: InnoDB may pick a transaction as a deadlock victim (ER_LOCK_DEADLOCK) or time out
 * a lock wait under contention (concurrent batches touching the same unique keys); the work
 * is retried a few times, since it is written to be safe to repeat from the start.
 */
const MYSQL_RETRIABLE_ERRNOS: ReadonlySet<number> = new Set([1213 /* deadlock */, 1205 /* lock wait timeout */]);
const MYSQL_MAX_TRIES = 4;

const sqliteLocks = new WeakMap<DataSource, Promise<unknown>>();

/**
 * `isolation` applies on MySQL only (SQLite transactions are serializable). The dispatcher's
 * claim uses READ COMMITTED: under InnoDB's default REPEATABLE READ a locking range read also
 * locks the gap past its last row, which would block inserts of newly due deliveries.
 */
export async function withTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
  options: { isolation?: IsolationLevel } = {},
): Promise<T> {
  if (!isMysql(dataSource)) return serialized(dataSource, () => dataSource.transaction(work));
  return retryingMysqlLockConflicts(() => (options.isolation ? dataSource.transaction(options.isolation, work) : dataSource.transaction(work)));
}

/**
 * Runs `fn` alone on SQLite (queued behind every other transaction and exclusive write of this
 * process); on MySQL it simply runs. For single-statement writes outside a transaction, which on
 * SQLite would otherwise land inside whichever transaction happens to be open.
 */
export function serialized<T>(dataSource: DataSource, fn: () => Promise<T>): Promise<T> {
  if (isMysql(dataSource)) return fn();
  const previous = sqliteLocks.get(dataSource) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  sqliteLocks.set(dataSource, run.catch(() => undefined));
  return run;
}

/**
 * One write statement outside a transaction (atomic on its own): on SQLite queued like the
 * transactions (serialized), on MySQL retried when chosen as a deadlock victim, as
 * withTransaction does, but without the BEGIN and COMMIT round trips.
 */
export async function withStatementRetries<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  if (!isMysql(dataSource)) return serialized(dataSource, work);
  return retryingMysqlLockConflicts(work);
}

/**
 * Runs MySQL work that is safe to repeat from the start (a whole transaction, or one statement
 * outside one), again when InnoDB picked it as a deadlock victim or a lock wait timed out.
 */
export async function retryingMysqlLockConflicts<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= MYSQL_MAX_TRIES || !isRetriableMysqlError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
    }
  }
}

function isRetriableMysqlError(error: unknown): boolean {
  const e = error as { errno?: number; driverError?: { errno?: number } };
  return MYSQL_RETRIABLE_ERRNOS.has(e?.errno ?? -1) || MYSQL_RETRIABLE_ERRNOS.has(e?.driverError?.errno ?? -1);
}
