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
  /** The MySQL server's write counters (whole server; the benchmark is alone on it); null on SQLite. */
  serverWrites(): Promise<ServerWrites | null>;
  drop(): Promise<void>;
}

/**
 * What the database server wrote, from SHOW GLOBAL STATUS: redo generated and written (what a
 * durable commit waits on, and what fills the redo log between checkpoints), COMMIT statements, rows
 * inserted, updated and deleted (the Handler_ counters: MariaDB 10.11 has no Innodb_rows_
 * ones), and bytes written to data files (pages, doublewrite buffer).
 */
export interface ServerWrites {
  /** Redo generated (the LSN's advance): what fills the redo log until a checkpoint frees it. */
  redoGenerated: number;
  /** Redo written to the log file: more than generated, as each commit rewrites its last, partly filled block. */
  redoBytes: number;
  commits: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsDeleted: number;
  dataBytes: number;
}

const SERVER_WRITE_COUNTERS: Record<string, keyof ServerWrites> = {
  Innodb_lsn_current: 'redoGenerated',
  Innodb_os_log_written: 'redoBytes',
  Com_commit: 'commits',
  Handler_write: 'rowsInserted',
  Handler_update: 'rowsUpdated',
  Handler_delete: 'rowsDeleted',
  Innodb_data_written: 'dataBytes',
};

/** A reading of nothing: every counter at 0. */
export function noWrites(): ServerWrites {
  return { redoGenerated: 0, redoBytes: 0, commits: 0, rowsInserted: 0, rowsUpdated: 0, rowsDeleted: 0, dataBytes: 0 };
}

/** `total` plus each counter's growth from `before` to `after` (rounds measured apart, added up). */
export function addGrowth(total: ServerWrites, before: ServerWrites, after: ServerWrites): ServerWrites {
  const sum = noWrites();
  for (const key of Object.values(SERVER_WRITE_COUNTERS)) sum[key] = total[key] + after[key] - before[key];
  return sum;
}

/** Each counter's growth from `before` to `after`, per `units` (events). */
export function serverWritesPer(before: ServerWrites, after: ServerWrites, units: number): ServerWrites {
  const per = noWrites();
  for (const key of Object.values(SERVER_WRITE_COUNTERS)) per[key] = units > 0 ? (after[key] - before[key]) / units : Number.NaN;
  return per;
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
      async serverWrites() {
        const names = Object.keys(SERVER_WRITE_COUNTERS).map((n) => `'${n}'`).join(', ');
        const [rows] = await admin.query(`SHOW GLOBAL STATUS WHERE Variable_name IN (${names})`);
        const writes = noWrites();
        for (const row of rows as { Variable_name: string; Value: string }[]) {
          const key = SERVER_WRITE_COUNTERS[row.Variable_name];
          if (key) writes[key] = Number(row.Value);
        }
        return writes;
      },
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
    serverWrites: async () => null,
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
