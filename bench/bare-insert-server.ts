// The bare INSERT server for comparison: node:http taking the same POST bodies as the service
// and doing what the machine must do for them with no framework at all:
// - a recordEvent body (`variables.input`): one event row INSERTed, its id answered;
// - a recordEvents body (`variables.inputs`, e.g. 100 events): every row in ONE multi-row
//   INSERT, the ids answered in order (issue #18: recordEvents × 100 against this).
// MySQL through a mysql2 pool (prepared statements, one per row count, 16 connections,
// autocommit), SQLite through better-sqlite3 (a prepared statement per row count, WAL,
// synchronous=NORMAL as the service sets it). The table has the columns and the unique
// (appId, eventId) key of the service's event table.
//
// argv: mysql DATABASE_URL | sqlite PATH
import { newId } from '../src/common/ids';
import { BARE_POOL_SIZE, serveRecordEvents } from './lib/bare-server';
import { openSqlite } from './lib/sqlite';

const COLUMNS = [
  'id', 'appId', 'eventId', 'name', 'occurredAt', 'receivedAt', 'advertisingId', 'ipAddress', 'userAgent', 'country',
  'platform', 'campaignId', 'networkId', 'networkSlug', 'revenue', 'currency', 'limitAdTracking', 'params',
] as const;

/** INSERTs these rows (each COLUMNS.length values) in one statement. */
type Insert = (rows: unknown[][]) => Promise<void> | void;

function insertSql(count: number): string {
  const row = `(${COLUMNS.map(() => '?').join(', ')})`;
  return `INSERT INTO bare_event (${COLUMNS.join(', ')}) VALUES ${Array.from({ length: count }, () => row).join(', ')}`;
}

async function mysqlInsert(url: string): Promise<Insert> {
  const mysql = await import('mysql2/promise');
  const pool = mysql.createPool({ uri: url, connectionLimit: BARE_POOL_SIZE, timezone: 'Z', charset: 'utf8mb4_bin' });
  await pool.query(`CREATE TABLE IF NOT EXISTS bare_event (
    id varchar(36) NOT NULL PRIMARY KEY, appId varchar(36) NOT NULL, eventId varchar(128) NULL, name varchar(128) NOT NULL,
    occurredAt datetime(3) NOT NULL, receivedAt datetime(3) NOT NULL, advertisingId varchar(128) NULL, ipAddress varchar(45) NULL,
    userAgent varchar(1024) NULL, country varchar(2) NULL, platform varchar(16) NULL, campaignId varchar(255) NULL,
    networkId varchar(36) NULL, networkSlug varchar(64) NULL, revenue double NULL, currency varchar(3) NULL,
    limitAdTracking tinyint NOT NULL DEFAULT 0, params mediumtext NULL,
    UNIQUE KEY UQ_bare_event_app_event_id (appId, eventId)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  const statements = new Map<number, string>();
  return async (rows) => {
    let sql = statements.get(rows.length);
    if (sql === undefined) statements.set(rows.length, (sql = insertSql(rows.length)));
    await pool.execute(sql, rows.flat() as (string | number | Date | null)[]);
  };
}

async function sqliteInsert(path: string): Promise<Insert> {
  const db = openSqlite(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS bare_event (
    id varchar(36) NOT NULL PRIMARY KEY, appId varchar(36) NOT NULL, eventId varchar(128) NULL, name varchar(128) NOT NULL,
    occurredAt datetime NOT NULL, receivedAt datetime NOT NULL, advertisingId varchar(128) NULL, ipAddress varchar(45) NULL,
    userAgent varchar(1024) NULL, country varchar(2) NULL, platform varchar(16) NULL, campaignId varchar(255) NULL,
    networkId varchar(36) NULL, networkSlug varchar(64) NULL, revenue double NULL, currency varchar(3) NULL,
    limitAdTracking boolean NOT NULL DEFAULT 0, params text NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS UQ_bare_event_app_event_id ON bare_event (appId, eventId);`);
  const statements = new Map<number, ReturnType<typeof db.prepare>>();
  return (rows) => {
    let statement = statements.get(rows.length);
    if (statement === undefined) statements.set(rows.length, (statement = db.prepare(insertSql(rows.length))));
    statement.run(...rows.flat());
  };
}

function sqliteTime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

async function main(): Promise<void> {
  const [kind, target] = process.argv.slice(2);
  if ((kind !== 'mysql' && kind !== 'sqlite') || !target) throw new Error('usage: bare-insert-server mysql URL | sqlite PATH');
  const insert = kind === 'mysql' ? await mysqlInsert(target) : await sqliteInsert(target);
  const time = kind === 'mysql' ? (d: Date) => d : sqliteTime;

  serveRecordEvents(async (inputs) => {
    const now = new Date();
    const ids: string[] = [];
    const rows = inputs.map((input) => {
      const id = newId();
      ids.push(id);
      const occurredAt = typeof input.occurredAt === 'string' ? new Date(input.occurredAt) : now;
      const str = (key: string) => (typeof input[key] === 'string' ? (input[key] as string) : null);
      return [
        id, str('appId'), str('eventId'), str('name') ?? 'unnamed', time(occurredAt), time(now), str('advertisingId'), str('ipAddress'),
        str('userAgent'), str('country'), str('platform'), str('campaignId'), null, str('network'),
        typeof input.revenue === 'number' ? input.revenue : null, str('currency'), input.limitAdTracking === true ? 1 : 0,
        input.params ? JSON.stringify(input.params) : null,
      ];
    });
    if (rows.length > 0) await insert(rows);
    return ids;
  });
}

main().catch((error) => {
  process.stderr.write(`bare insert server failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
