// Databases the benchmark creates for itself and drops at the end: a fresh MySQL database
// (or SQLite file) per stage, so no run sees another's rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchDatabase } from './options';
import { openSqlite, type SqliteDatabase } from './sqlite';

export interface BenchDb {
  kind: BenchDatabase;
  /** DATABASE_URL for the service. */
  url: string;
  /** Where the bare INSERT server writes: the same MySQL database, a separate SQLite file. */
  bareTarget: string;
  /** Deliveries not yet final (they have a dueAt): the queue. */
  queueDepth(): Promise<number>;
  count(sql: string): Promise<number>;
  drop(): Promise<void>;
}

const LIVE_DELIVERIES = 'SELECT COUNT(*) AS n FROM delivery WHERE dueAt IS NOT NULL';

export async function createBenchDb(kind: BenchDatabase, mysqlUrl: string, label: string): Promise<BenchDb> {
  const name = `postbacks_bench_${label}_${process.pid}_${Date.now().toString(36)}`;
  if (kind === 'mysql') {
    const admin = await connectToServer(mysqlUrl);
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await admin.changeUser({ database: name });
    const url = `${mysqlUrl.replace(/\/+$/, '')}/${name}`;
    const count = async (sql: string) => {
      const [rows] = await admin.query(sql);
      return Number((rows as { n: number | string }[])[0]?.n ?? 0);
    };
    return {
      kind,
      url,
      bareTarget: url,
      queueDepth: () => count(LIVE_DELIVERIES),
      count,
      async drop() {
        await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await admin.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const path = join(dir, 'service.sqlite');
  let reader: SqliteDatabase | null = null;
  const count = async (sql: string) => {
    // Opened once the service has created the file; WAL lets it read beside the writer.
    reader ??= openSqlite(path, { readonly: true, fileMustExist: true });
    return Number((reader.prepare(sql).get() as { n: number }).n);
  };
  return {
    kind,
    url: `sqlite:${path}`,
    bareTarget: join(dir, 'bare.sqlite'),
    queueDepth: () => count(LIVE_DELIVERIES),
    count,
    async drop() {
      reader?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The MySQL server's version and the InnoDB settings that decide how long it sustains a write
 * rate: a redo log the size of a few seconds of writes makes every commit wait on page
 * flushing once it fills (see BENCHMARKS.md, the soak).
 */
export async function describeMysqlServer(mysqlUrl: string): Promise<string> {
  const connection = await connectToServer(mysqlUrl);
  try {
    const [rows] = await connection.query(
      'SELECT @@version AS version, @@innodb_buffer_pool_size AS pool, @@innodb_log_file_size AS log, @@innodb_flush_log_at_trx_commit AS flush, @@innodb_io_capacity AS io',
    );
    const r = (rows as Record<string, string | number>[])[0] ?? {};
    const mib = (v: unknown) => `${Math.round(Number(v) / 2 ** 20)} MiB`;
    return `${String(r.version)}, innodb_buffer_pool_size ${mib(r.pool)}, innodb_log_file_size ${mib(r.log)}, innodb_flush_log_at_trx_commit ${String(r.flush)}, innodb_io_capacity ${String(r.io)}`;
  } finally {
    await connection.end();
  }
}

/** A connection to the MySQL server of `mysqlUrl` (no database selected). */
async function connectToServer(mysqlUrl: string) {
  const mysql = await import('mysql2/promise');
  const base = new URL(mysqlUrl);
  return mysql.createConnection({ host: base.hostname, port: Number(base.port || 3306), user: decodeURIComponent(base.username || 'root'), password: decodeURIComponent(base.password) });
}
