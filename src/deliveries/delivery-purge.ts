import { DataSource, EntityManager } from 'typeorm';
import { dbTime, notIndexed } from '../db/data-source';
import { withTransaction } from '../db/transactions';

// Every statement that deletes delivery and delivery_attempt rows (retention), in one place.
// Identifiers are backquoted: MySQL's quoting, which SQLite accepts too. `status` is the
// status column as notIndexed() gives it: without statistics SQLite's planner would take
// IDX_delivery_due for `status IN (…)` and walk every finished delivery (synchronously, with
// the event loop blocked) instead of going by createdAt or by primary key.

/** Finished deliveries created before the cutoff, oldest first, through IDX_delivery_created. */
export const SELECT_PURGEABLE_DELIVERY_IDS = (status: string) =>
  `SELECT \`id\` FROM \`delivery\` WHERE \`createdAt\` < ? AND ${status} IN ('DELIVERED', 'FAILED') ORDER BY \`createdAt\` LIMIT ?`;

/**
 * Locks the batch's rows that are still finished (a redeliver waits on it, then finds the row
 * gone); rows that went back to PENDING since they were selected are neither locked nor purged.
 */
export const LOCK_FINISHED_DELIVERIES = (n: number, status: string) =>
  `UPDATE \`delivery\` SET \`status\` = \`status\` WHERE \`id\` IN (${marks(n)}) AND ${status} IN ('DELIVERED', 'FAILED')`;

/** The batch's rows locked above, read again inside the transaction: these are the ones that go. */
export const SELECT_LOCKED_FINISHED_DELIVERIES = (n: number, status: string) =>
  `SELECT \`id\` FROM \`delivery\` WHERE \`id\` IN (${marks(n)}) AND ${status} IN ('DELIVERED', 'FAILED')`;

/**
 * By a list of ids, not a subquery: MariaDB before 11.1 runs `DELETE … WHERE x IN (SELECT …)`
 * as a scan of the whole attempt table, once per batch.
 */
export const DELETE_ATTEMPTS_OF_DELIVERIES = (n: number) => `DELETE FROM \`delivery_attempt\` WHERE \`deliveryId\` IN (${marks(n)})`;

export const DELETE_FINISHED_DELIVERIES = (n: number, status: string) =>
  `DELETE FROM \`delivery\` WHERE \`id\` IN (${marks(n)}) AND ${status} IN ('DELIVERED', 'FAILED')`;

/**
 * For the purge of another table: no delivery refers to `table`.`id` through `column` (a
 * delivery is history of its event, callback, app and network, which stay while it does).
 */
export const NO_DELIVERY_REFERS_TO = (column: 'eventId' | 'callbackId' | 'appId' | 'networkId', table: string) =>
  `NOT EXISTS (SELECT 1 FROM \`delivery\` WHERE \`delivery\`.\`${column}\` = \`${table}\`.\`id\`)`;

function marks(n: number): string {
  return new Array(n).fill('?').join(', ');
}

export interface PurgedDeliveries {
  delivery: number;
  delivery_attempt: number;
}

/**
 * Deletes up to `limit` finished deliveries created before `cutoff`, with their attempts, in
 * one transaction. A delivery that is PENDING, SENDING or RETRYING is never deleted.
 */
export async function purgeFinishedDeliveries(dataSource: DataSource, cutoff: Date, limit: number): Promise<PurgedDeliveries> {
  const status = notIndexed(dataSource, '`status`');
  const rows: Array<{ id: string }> = await dataSource.query(SELECT_PURGEABLE_DELIVERY_IDS(status), [dbTime(dataSource, cutoff), limit]);
  if (rows.length === 0) return { delivery: 0, delivery_attempt: 0 };
  const ids = rows.map((row) => row.id);
  return withTransaction(dataSource, async (manager: EntityManager) => {
    await manager.query(LOCK_FINISHED_DELIVERIES(ids.length, status), ids);
    const finished: Array<{ id: string }> = await manager.query(SELECT_LOCKED_FINISHED_DELIVERIES(ids.length, status), ids);
    if (finished.length === 0) return { delivery: 0, delivery_attempt: 0 };
    const going = finished.map((row) => row.id);
    const attempts = await affectedRows(manager, DELETE_ATTEMPTS_OF_DELIVERIES(going.length), going);
    const deliveries = await affectedRows(manager, DELETE_FINISHED_DELIVERIES(going.length, status), going);
    return { delivery: deliveries, delivery_attempt: attempts };
  });
}

/** Runs a write statement in the transaction and returns how many rows it changed. */
export async function affectedRows(manager: EntityManager, sql: string, parameters: unknown[]): Promise<number> {
  const result = await manager.queryRunner!.query(sql, parameters, true);
  return Number(result.affected ?? 0);
}
