// The bare outbox server, a floor for recordEvents (npm run bench:floors): node:http taking the
// same POST bodies as the bare INSERT server, but writing what the product must write for each
// event, with nothing else in between: the event row (the event log and its idempotency key),
// the install's touchpoint (the attribution memory) and the delivery row (the outbox), in the
// service's own tables (migrated as the service migrates them, every index included), one
// transaction per request with one multi-row INSERT per table. No GraphQL, no attribution
// lookup, no template rendering, no stats rollup: the rows are built as the service would build
// them for the benchmark's install (bench/lib/postback-rows.ts), PENDING as with the dispatcher
// off. Prepared statements through a mysql2 pool of 16, as the bare INSERT server.
//
// argv: DATABASE_URL (an empty MySQL database; migrated here) [keys-only]
// keys-only: the same rows with only their primary keys and the event's idempotency key (no
// foreign keys, no other index), to show what the schema's indexes cost (BENCHMARKS.md, "Floors").
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { Touchpoint } from '../src/attribution/touchpoint.entity';
import { insertStatements } from '../src/db/bulk-insert';
import { Delivery } from '../src/deliveries/delivery.entity';
import { withLeaseRoom } from '../src/deliveries/typeorm-delivery-store';
import { Event } from '../src/events/event.entity';
import { BARE_POOL_SIZE, serveRecordEvents } from './lib/bare-server';
import { inTransaction } from './lib/mysql-transaction';
import { openBenchSchema, postback } from './lib/postback-rows';

async function main(): Promise<void> {
  const [url, variant] = process.argv.slice(2);
  if (!url || (variant !== undefined && variant !== 'keys-only')) throw new Error('usage: bare-outbox-server DATABASE_URL [keys-only]');
  // TypeORM only to migrate, seed the owners and know each table's columns; the writes go
  // through mysql2 directly.
  const { dataSource, owners } = await openBenchSchema(url);
  if (variant === 'keys-only') await dropSecondaryIndexes(dataSource);
  const mysql = await import('mysql2/promise');
  const pool = mysql.createPool({ uri: url, connectionLimit: BARE_POOL_SIZE, timezone: 'Z', charset: 'utf8mb4_bin' });
  const inserts = <T extends ObjectLiteral>(target: EntityTarget<T>, rows: T[]) => insertStatements(dataSource, target, rows);

  serveRecordEvents(async (inputs) => {
    const rows = inputs.map((input) => {
      const row = postback(owners, { waiting: true });
      if (typeof input.eventId === 'string') row.event.eventId = input.eventId;
      if (typeof input.advertisingId === 'string') row.event.advertisingId = row.touchpoint.identifierValue = input.advertisingId;
      row.delivery = withLeaseRoom(row.delivery);
      return row;
    });
    const statements = [
      ...inserts(Event, rows.map((r) => r.event)),
      ...inserts(Touchpoint, rows.map((r) => r.touchpoint)),
      ...inserts(Delivery, rows.map((r) => r.delivery)),
    ];
    await inTransaction(pool, async (connection) => {
      for (const statement of statements) await connection.execute(statement.sql, statement.parameters as (string | number | Date | null)[]);
    });
    return rows.map((r) => r.event.id);
  });
}

/** Every foreign key and secondary index of the three tables, but the event's idempotency key. */
async function dropSecondaryIndexes(dataSource: DataSource): Promise<void> {
  const tables = ['event', 'attribution_touchpoint', 'delivery'];
  const list = tables.map(() => '?').join(', ');
  const keys = (await dataSource.query(
    `SELECT TABLE_NAME AS t, CONSTRAINT_NAME AS name FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_TYPE = 'FOREIGN KEY' AND TABLE_NAME IN (${list})`,
    tables,
  )) as { t: string; name: string }[];
  for (const key of keys) await dataSource.query(`ALTER TABLE \`${key.t}\` DROP FOREIGN KEY \`${key.name}\``);
  const indexes = (await dataSource.query(
    `SELECT DISTINCT TABLE_NAME AS t, INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${list}) AND INDEX_NAME NOT IN ('PRIMARY', 'UQ_event_app_event_id')`,
    tables,
  )) as { t: string; name: string }[];
  for (const index of indexes) await dataSource.query(`ALTER TABLE \`${index.t}\` DROP INDEX \`${index.name}\``);
}

main().catch((error) => {
  process.stderr.write(`bare outbox server failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
