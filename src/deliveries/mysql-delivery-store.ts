// The DeliveryStore on MySQL/MariaDB: the portable adapter (typeorm-delivery-store.ts) with
// the server's fast paths.
//
// Claiming: `SELECT … WHERE dueAt <= now ORDER BY dueAt LIMIT n FOR UPDATE SKIP LOCKED`
// through IDX_delivery_due_at, then the UPDATE to SENDING, in one READ COMMITTED transaction:
// concurrent workers pass over each other's rows instead of waiting on them, and never get the
// same row. The common case (only waiting rows due) goes in three round trips instead of six,
// as one-packet scripts; a claim of just-announced deliveries is one round trip.
import type { EntityManager, QueryRunner, SelectQueryBuilder } from 'typeorm';
import type { ScriptStatement } from '../db/transaction-script';
import { retryingMysqlLockConflicts } from '../db/transactions';
import { Delivery } from './delivery.entity';
import { applyChanges, claimChanges, WAITING_STATUSES } from './delivery-state';
import type { ClaimOptions, DueClaim } from './delivery-store';
import { leaseEnd } from './lease';
import { DUE_INDEX, keysOf, secretsById, TypeOrmDeliveryStore } from './typeorm-delivery-store';

/** Opens the claim transaction; the scan's SELECT follows in the same packet. */
const OPEN_CLAIM = 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED;\nSTART TRANSACTION;\n';

export class MysqlDeliveryStore extends TypeOrmDeliveryStore {
  /** Locks what it returns and skips rows other workers hold locked. */
  override dueScan(manager: EntityManager, now: Date, limit: number, options: ClaimOptions): SelectQueryBuilder<Delivery> {
    return super.dueScan(manager, now, limit, options).useIndex(DUE_INDEX).setLock('pessimistic_write').setOnLocked('skip_locked');
  }

  protected override lockedForRedeliver(query: SelectQueryBuilder<Delivery>): SelectQueryBuilder<Delivery> {
    return query.setLock('pessimistic_write');
  }

  /** Two statements in one packet: one round trip. */
  protected override async updateThenSelect(runner: QueryRunner, update: ScriptStatement, select: ScriptStatement): Promise<{ affected: number; rows: unknown[] }> {
    const [header, rows] = (await runner.query(`${update.sql};\n${select.sql}`, [...update.parameters, ...select.parameters])) as [{ affectedRows?: number }, unknown[]];
    return { affected: header?.affectedRows ?? 0, rows: rows ?? [] };
  }

  override async claimDue(leaseOwner: string, limit: number, options: ClaimOptions = {}): Promise<DueClaim> {
    if (limit <= 0) return { claimed: [], takenOver: [], filled: false };
    const quick = await retryingMysqlLockConflicts(() => this.claimDueScripted(leaseOwner, limit, options));
    return quick ?? super.claimDue(leaseOwner, limit, options);
  }

  /**
   * claimDue's common case in three round trips: (1) isolation level, START TRANSACTION and the
   * locking scan; (2) the claiming UPDATE and the read of the signing secrets; (3) COMMIT. Null,
   * having rolled back, when the scan met anything but waiting deliveries (a lease to take
   * over, a stray due time): the portable path handles those.
   */
  private async claimDueScripted(leaseOwner: string, limit: number, options: ClaimOptions): Promise<DueClaim | null> {
    const now = this.clock.now();
    const [scanSql, scanParameters] = this.dueScan(this.dataSource.manager, now, limit, options).getQueryAndParameters();
    const runner = this.dataSource.createQueryRunner();
    let open = false;
    try {
      open = true;
      const opened = (await runner.query(`${OPEN_CLAIM}${scanSql}`, scanParameters)) as unknown[];
      const rows = ((opened[2] ?? []) as Record<string, unknown>[]).map((raw) => this.hydrate(raw, 'd'));
      if (rows.some((d) => !WAITING_STATUSES.includes(d.status))) {
        await runner.query('ROLLBACK');
        open = false;
        return null;
      }
      if (rows.length === 0) {
        await runner.query('COMMIT');
        open = false;
        return { claimed: [], takenOver: [], filled: false };
      }
      const changes = claimChanges(leaseOwner, leaseEnd(now, this.options.leaseMs, rows.map((d) => d.timeoutMs)), now);
      const ids = rows.map((d) => d.id);
      const update = { sql: this.sql.CLAIM_WAITING(ids.length), parameters: [changes.status, changes.leaseOwner, changes.dueAt, now, ...ids, ...WAITING_STATUSES] };
      const { affected, rows: secretRows } = await this.updateThenSelect(runner, update, this.signingSecretsQuery(rows.map((d) => d.callbackId)));
      // Cannot happen with the rows locked; then claim nothing.
      if (affected !== rows.length) throw new Error(`claimed ${affected} of ${rows.length} deliveries; rolled back`);
      await runner.query('COMMIT');
      open = false;
      const secretOf = secretsById(secretRows, now);
      return {
        claimed: rows.map((row) => ({ delivery: applyChanges(row, changes), claimedFrom: { status: row.status, dueAt: row.dueAt }, ...keysOf(secretOf, row.callbackId) })),
        takenOver: [],
        filled: rows.length >= limit,
      };
    } catch (error) {
      if (open) await runner.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  /** A Delivery from a raw row of a query builder's SELECT under `alias`, as getMany() would make it. */
  private hydrate(raw: Record<string, unknown>, alias: string): Delivery {
    const metadata = this.dataSource.getMetadata(Delivery);
    const driver = this.dataSource.driver;
    const entity = new Delivery();
    for (const column of metadata.columns) {
      column.setEntityValue(entity, driver.prepareHydratedValue(raw[`${alias}_${column.databaseName}`], column));
    }
    return entity;
  }
}

