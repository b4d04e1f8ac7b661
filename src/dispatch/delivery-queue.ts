// All the SQL of the delivery state machine (see delivery-transitions.ts for the states).
// Every write runs in withTransaction, and every committed status change is announced on the
// DeliveryHub after the commit, with the delivery as committed.
//
// Claiming. MySQL/MariaDB: `SELECT … WHERE dueAt <= now ORDER BY dueAt LIMIT n FOR UPDATE SKIP
// LOCKED` through IDX_delivery_due_at, then UPDATE to SENDING with this worker as leaseOwner and
// dueAt = lease end, in one READ COMMITTED transaction: concurrent workers pass over each
// other's rows instead of waiting on them, and never get the same row. SQLite has one writer
// and withTransaction runs this process's transactions one at a time, so the same statements
// without the lock clause are enough; a second process on the same file cannot commit a claim
// over ours either (its stale read snapshot fails with SQLITE_BUSY_SNAPSHOT).
//
// Recording. The attempt row and the summary fields are written in one transaction, and only
// while this worker still holds the lease (WHERE leaseOwner = me AND status = 'SENDING'):
// a worker that stalled past its lease, whose delivery was taken over, records nothing.
import { DataSource, EntityManager, In, type QueryRunner, SelectQueryBuilder } from 'typeorm';
import type { Clock } from '../common/clock';
import { DeliveryStatus } from '../common/enums';
import { NotFoundError } from '../common/errors';
import { isUuid, newId } from '../common/ids';
import type { Logger } from '../common/logger';
import type { Config } from '../config/config';
import { dbTime, isMysql, notIndexed } from '../db/data-source';
import { insertStatements } from '../db/bulk-insert';
import { isUniqueViolation } from '../db/errors';
import { runTransactionScript, type ScriptStatement } from '../db/transaction-script';
import { retryingMysqlLockConflicts, withStatementRetries, withTransaction } from '../db/transactions';
import { Callback } from '../callbacks/callback.entity';
import { Delivery } from '../deliveries/delivery.entity';
import { DeliveryAttempt } from '../deliveries/delivery-attempt.entity';
import type { DeliveryHub } from '../deliveries/delivery-hub';
import {
  applyChanges,
  attemptChanges,
  type AttemptRecord,
  claimChanges,
  type ClaimedFrom,
  expiredLeaseTakeover,
  IN_PROGRESS_STATUSES,
  redeliverChanges,
  releaseChanges,
  WAITING_STATUSES,
} from './delivery-transitions';
import { guardedAttemptUpdate } from './attempt-batch';
import { leaseEnd } from './lease';
import type { NextStep, RetrySettings } from './retry-policy';

export const DUE_INDEX = 'IDX_delivery_due_at';

export interface ClaimedDelivery {
  /** As committed by the claim: SENDING, held by `delivery.leaseOwner` until `delivery.dueAt`. */
  delivery: Delivery;
  /** Where an unstarted claim goes back to on release. */
  claimedFrom: ClaimedFrom;
  /** The callback's signing secret as it is now (also for a soft-deleted callback); null: unsigned. */
  signingSecret: string | null;
}

export interface DueClaim {
  claimed: ClaimedDelivery[];
  /** SENDING deliveries whose lease had run out: their lost attempt recorded, now RETRYING or FAILED. */
  takenOver: Delivery[];
  /** The scan filled its limit: more rows may be due right now. */
  filled: boolean;
}

export interface RecordedAttempt {
  delivery: Delivery;
  attempt: DeliveryAttempt;
}

/** One finished attempt of a claimed delivery, to record. */
export interface AttemptToRecord {
  claim: ClaimedDelivery;
  attempt: AttemptRecord;
  next: NextStep;
}

export interface DeliveryQueueOptions {
  /** DISPATCH_LEASE_MS: the floor of every lease (see lease.ts). */
  leaseMs: number;
  retry: RetrySettings;
  random?: () => number;
}

export function retrySettings(config: Pick<Config, 'dispatchBackoffBaseMs' | 'dispatchBackoffMaxMs'>): RetrySettings {
  return { backoffBaseMs: config.dispatchBackoffBaseMs, backoffMaxMs: config.dispatchBackoffMaxMs };
}

export function deliveryQueueOptions(config: Config): DeliveryQueueOptions {
  return { leaseMs: config.dispatchLeaseMs, retry: retrySettings(config) };
}

export class DeliveryQueue {
  private readonly mysql: boolean;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly hub: DeliveryHub,
    private readonly logger: Logger,
    private readonly options: DeliveryQueueOptions,
  ) {
    this.mysql = isMysql(dataSource);
  }

  /**
   * Claims up to `limit` due deliveries, oldest due first, for `leaseOwner`. Due SENDING rows
   * (a dead holder's) are taken over on the way: they count toward the limit but are not
   * claimed for sending, since the retry policy schedules their next attempt.
   */
  async claimDue(leaseOwner: string, limit: number): Promise<DueClaim> {
    if (limit <= 0) return { claimed: [], takenOver: [], filled: false };
    if (this.mysql) {
      const quick = await this.claimDueInThreeTrips(leaseOwner, limit);
      if (quick) {
        this.announce(quick.claimed.map((c) => c.delivery));
        return quick;
      }
    }
    const outcome = await withTransaction(
      this.dataSource,
      async (manager) => {
        const now = this.clock.now();
        const rows = await this.dueScan(manager, now, limit).getMany();
        await this.clearStrayDueTimes(manager, rows.filter((d) => !IN_PROGRESS_STATUSES.includes(d.status)));
        const takenOver = await this.takeOver(manager, rows.filter((d) => d.status === DeliveryStatus.SENDING), now);
        const claimed = await this.claimRows(manager, leaseOwner, rows.filter((d) => WAITING_STATUSES.includes(d.status)), now);
        return { claimed, takenOver, filled: rows.length >= limit };
      },
      { isolation: 'READ COMMITTED' },
    );
    this.announce([...outcome.takenOver, ...outcome.claimed.map((c) => c.delivery)]);
    return outcome;
  }

  /**
   * claimDue's common case on MySQL in three round trips instead of six: (1) isolation level,
   * START TRANSACTION and the locking scan in one packet; (2) the claiming UPDATE and the read
   * of the signing secrets in one packet; (3) COMMIT. Null, having rolled back, when the scan
   * met anything but waiting deliveries (a lease to take over, a stray due time): the general
   * path handles those.
   */
  private claimDueInThreeTrips(leaseOwner: string, limit: number): Promise<DueClaim | null> {
    return retryingMysqlLockConflicts(() => this.claimDueScripted(leaseOwner, limit));
  }

  private async claimDueScripted(leaseOwner: string, limit: number): Promise<DueClaim | null> {
    const now = this.clock.now();
    const [scanSql, scanParameters] = this.dueScan(this.dataSource.manager, now, limit).getQueryAndParameters();
    const runner = this.dataSource.createQueryRunner();
    let open = false;
    try {
      open = true;
      const opened = (await runner.query(`SET TRANSACTION ISOLATION LEVEL READ COMMITTED;\nSTART TRANSACTION;\n${scanSql}`, scanParameters)) as unknown[];
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
      const q = (name: string) => this.dataSource.driver.escape(name);
      const ids = rows.map((d) => d.id);
      const update: ScriptStatement = {
        sql:
          `UPDATE ${q(this.dataSource.getMetadata(Delivery).tableName)} SET ${q('status')} = ?, ${q('leaseOwner')} = ?, ${q('dueAt')} = ?, ${q('updatedAt')} = ? ` +
          `WHERE ${q('id')} IN (${ids.map(() => '?').join(', ')}) AND ${q('status')} IN (${WAITING_STATUSES.map(() => '?').join(', ')})`,
        parameters: [changes.status, changes.leaseOwner, changes.dueAt, now, ...ids, ...WAITING_STATUSES],
      };
      const { affected, rows: secretRows } = await updateThenSelect(runner, true, update, this.signingSecretsQuery(rows.map((d) => d.callbackId)));
      // Cannot happen with the rows locked; then claim nothing.
      if (affected !== rows.length) throw new Error(`claimed ${affected} of ${rows.length} deliveries; rolled back`);
      await runner.query('COMMIT');
      open = false;
      const secretOf = new Map((secretRows as { id: string; signingSecret: string | null }[]).map((r) => [r.id, r.signingSecret]));
      return {
        claimed: rows.map((row) => ({ delivery: applyChanges(row, changes), claimedFrom: { status: row.status, dueAt: row.dueAt }, signingSecret: secretOf.get(row.callbackId) ?? null })),
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

  /**
   * The claim scan: the first `limit` due rows in due order, locked and skipping rows other
   * workers hold locked (MySQL). On dueAt alone: a status predicate tempts both planners into
   * IDX_delivery_due (status, dueAt), one range per status and a sort, where a locking read
   * then locks every due row it sorted, not only the `limit` it returns.
   */
  dueScan(manager: EntityManager, now: Date, limit: number): SelectQueryBuilder<Delivery> {
    const query = manager
      .getRepository(Delivery)
      .createQueryBuilder('d')
      .where('d.dueAt <= :now', { now: dbTime(this.dataSource, now) })
      .orderBy('d.dueAt', 'ASC')
      .limit(limit);
    if (this.mysql) query.useIndex(DUE_INDEX).setLock('pessimistic_write').setOnLocked('skip_locked');
    return query;
  }

  /** Claims these just-queued deliveries if they are still waiting and due; others are skipped. */
  async claimQueued(leaseOwner: string, ids: readonly string[]): Promise<ClaimedDelivery[]> {
    if (ids.length === 0) return [];
    const claimed = await withTransaction(
      this.dataSource,
      async (manager) => {
        const now = this.clock.now();
        const query = manager
          .getRepository(Delivery)
          .createQueryBuilder('d')
          .where('d.id IN (:...ids)', { ids })
          .andWhere(`${notIndexed(this.dataSource, 'd.status')} IN (:...statuses)`, { statuses: WAITING_STATUSES })
          .andWhere(`${notIndexed(this.dataSource, 'd.dueAt')} <= :now`, { now: dbTime(this.dataSource, now) });
        if (this.mysql) query.setLock('pessimistic_write').setOnLocked('skip_locked');
        return this.claimRows(manager, leaseOwner, await query.getMany(), now);
      },
      { isolation: 'READ COMMITTED' },
    );
    this.announce(claimed.map((c) => c.delivery));
    return claimed;
  }

  /**
   * Claims deliveries this process has just announced as queued, from the copies announced:
   * one UPDATE, guarded so that only rows still exactly as announced (PENDING, due, not
   * touched since: same updatedAt) are taken, and a read of the callbacks' signing secrets, in
   * one round trip on MySQL; no transaction, no row read back. The copies are what EventService or redeliver committed,
   * so the claimed delivery is that copy with the claim applied. Rows that changed meanwhile
   * (another worker's scan took them) are skipped, as claimQueued skips them.
   */
  async claimAnnounced(leaseOwner: string, announced: readonly Delivery[]): Promise<ClaimedDelivery[]> {
    const now = this.clock.now();
    const candidates = announced.filter((d) => d.status === DeliveryStatus.PENDING && d.dueAt !== null && d.dueAt.getTime() <= now.getTime());
    if (candidates.length === 0) return [];
    const changes = claimChanges(leaseOwner, leaseEnd(now, this.options.leaseMs, candidates.map((d) => d.timeoutMs)), now);
    const driver = this.dataSource.driver;
    const q = (name: string) => driver.escape(name);
    const time = (date: Date) => dbTime(this.dataSource, date);
    const ids = candidates.map((d) => d.id);
    const parameters: unknown[] = [changes.status, changes.leaseOwner, time(changes.dueAt as Date), time(now), ...ids, DeliveryStatus.PENDING];
    const sameUpdatedAt = candidates.every((d) => d.updatedAt.getTime() === (candidates[0] as Delivery).updatedAt.getTime());
    let updatedAtGuard: string;
    if (sameUpdatedAt) {
      updatedAtGuard = '?';
      parameters.push(time((candidates[0] as Delivery).updatedAt));
    } else {
      updatedAtGuard = `CASE ${q('id')} ${candidates.map(() => 'WHEN ? THEN ?').join(' ')} END`;
      for (const d of candidates) parameters.push(d.id, time(d.updatedAt));
    }
    const table = q(this.dataSource.getMetadata(Delivery).tableName);
    const placeholders = ids.map(() => '?').join(', ');
    const sql =
      `UPDATE ${table} SET ${q('status')} = ?, ${q('leaseOwner')} = ?, ${q('dueAt')} = ?, ${q('updatedAt')} = ? ` +
      `WHERE ${q('id')} IN (${placeholders}) AND ${notIndexed(this.dataSource, q('status'))} = ? AND ${notIndexed(this.dataSource, q('updatedAt'))} = ${updatedAtGuard}`;
    const secretsQuery = this.signingSecretsQuery(candidates.map((d) => d.callbackId));
    const { affected, rows: secretRows } = await withStatementRetries(this.dataSource, () => this.withRunner((runner) => updateThenSelect(runner, this.mysql, { sql, parameters }, secretsQuery)));
    let claimed = candidates;
    if (affected < candidates.length) {
      // Some were no longer as announced: see which this claim took (its lease owner and time mark them).
      const rows: { id: string }[] = await this.dataSource.query(
        `SELECT ${q('id')} AS id FROM ${table} WHERE ${q('id')} IN (${placeholders}) AND ${q('leaseOwner')} = ? AND ${q('updatedAt')} = ? AND ${notIndexed(this.dataSource, q('status'))} = ?`,
        [...ids, leaseOwner, time(now), DeliveryStatus.SENDING],
      );
      const taken = new Set(rows.map((r) => r.id));
      claimed = candidates.filter((d) => taken.has(d.id));
    }
    if (claimed.length === 0) return [];
    const secrets = new Map((secretRows as { id: string; signingSecret: string | null }[]).map((r) => [r.id, r.signingSecret]));
    const result = claimed.map((d) => ({
      delivery: applyChanges(d, changes),
      claimedFrom: { status: d.status, dueAt: d.dueAt },
      signingSecret: secrets.get(d.callbackId) ?? null,
    }));
    this.announce(result.map((c) => c.delivery));
    return result;
  }

  /** `work` on a query runner of its own, released after. */
  private async withRunner<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return await work(runner);
    } finally {
      await runner.release();
    }
  }

  /** Reads the callbacks' signing secrets as they are now (also of soft-deleted callbacks); absent or null: unsigned. */
  private signingSecretsQuery(callbackIds: string[]): ScriptStatement {
    const unique = [...new Set(callbackIds)];
    const q = (name: string) => this.dataSource.driver.escape(name);
    return {
      sql: `SELECT ${q('id')} AS id, ${q('signingSecret')} AS signingSecret FROM ${q(this.dataSource.getMetadata(Callback).tableName)} WHERE ${q('id')} IN (${unique.map(() => '?').join(', ')})`,
      parameters: unique,
    };
  }

  /**
   * Records one attempt of a claimed delivery and its next status. Returns null, recording
   * nothing, when this worker no longer holds the lease (its delivery was taken over).
   */
  async recordAttempt(claim: ClaimedDelivery, attempt: AttemptRecord, next: NextStep): Promise<RecordedAttempt | null> {
    const held = claim.delivery;
    const now = this.clock.now();
    const changes = attemptChanges(attempt, next, now);
    const row = await withTransaction(this.dataSource, async (manager) => {
      const updated = await manager
        .createQueryBuilder()
        .update(Delivery)
        .set(changes)
        .where({ id: held.id, leaseOwner: held.leaseOwner, status: DeliveryStatus.SENDING, attempts: attempt.number - 1 })
        .execute();
      if (!updated.affected) return null;
      const inserted = manager.create(DeliveryAttempt, { id: newId(), deliveryId: held.id, ...attempt });
      await manager.insert(DeliveryAttempt, inserted);
      return inserted;
    });
    if (!row) return null;
    const delivery = applyChanges(held, changes);
    this.announce([delivery]);
    return { delivery, attempt: row };
  }

  /**
   * Records the attempts of many claimed deliveries in one transaction: one guarded UPDATE
   * for all (attempt-batch.ts) and one multi-row INSERT of the attempt rows. When the UPDATE
   * does not match every row, some lease was taken over meanwhile; the transaction is rolled
   * back and each is recorded on its own (recordAttempt), so the others still count and the
   * lost ones come back null, as one by one. Results are in the order of `items`.
   */
  async recordAttempts(items: readonly AttemptToRecord[]): Promise<(RecordedAttempt | null)[]> {
    if (items.length === 0) return [];
    if (items.length === 1) {
      const [only] = items as [AttemptToRecord];
      return [await this.recordAttempt(only.claim, only.attempt, only.next)];
    }
    const now = this.clock.now();
    const rows = items.map(({ claim, attempt, next }) => ({ claim, attempt, changes: attemptChanges(attempt, next, now) }));
    const driver = this.dataSource.driver;
    const update = guardedAttemptUpdate(
      driver.escape(this.dataSource.getMetadata(Delivery).tableName),
      rows.map(({ claim, attempt, changes }) => ({ id: claim.delivery.id, leaseOwner: claim.delivery.leaseOwner, attempts: attempt.number - 1, changes })),
      DeliveryStatus.SENDING,
      { quote: (name) => driver.escape(name), time: (date) => dbTime(this.dataSource, date), notIndexed: (column) => notIndexed(this.dataSource, column) },
    );
    const inserted = rows.map(({ claim, attempt }) => Object.assign(new DeliveryAttempt(), { id: newId(), deliveryId: claim.delivery.id, ...attempt }));
    let committed: number[] | null;
    try {
      // The UPDATE must have matched every row, or some lease was lost: then nothing commits.
      committed = await runTransactionScript(this.dataSource, [update, ...insertStatements(this.dataSource, DeliveryAttempt, inserted)], (affected) => affected[0] === rows.length);
    } catch (error) {
      // An attempt number already recorded (its lease was lost and the taker recorded it) fails
      // the INSERT; one by one, each guard then tells which.
      if (!isUniqueViolation(error)) throw error;
      committed = null;
    }
    if (committed === null) {
      const oneByOne: (RecordedAttempt | null)[] = [];
      for (const { claim, attempt, next } of items) oneByOne.push(await this.recordAttempt(claim, attempt, next));
      return oneByOne;
    }
    const recorded = rows.map(({ claim, changes }, i) => ({ delivery: applyChanges(claim.delivery, changes), attempt: inserted[i] as DeliveryAttempt }));
    this.announce(recorded.map((r) => r.delivery));
    return recorded;
  }

  /** Puts claims that never started back in their due state, for any worker to take at once. */
  async release(claims: readonly ClaimedDelivery[]): Promise<Delivery[]> {
    if (claims.length === 0) return [];
    const released = await withTransaction(this.dataSource, async (manager) => {
      const now = this.clock.now();
      const done: Delivery[] = [];
      for (const claim of claims) {
        const changes = releaseChanges(claim.claimedFrom, now);
        const updated = await manager
          .createQueryBuilder()
          .update(Delivery)
          .set(changes)
          .where({ id: claim.delivery.id, leaseOwner: claim.delivery.leaseOwner, status: DeliveryStatus.SENDING })
          .execute();
        if (updated.affected) done.push(applyChanges(claim.delivery, changes));
      }
      return done;
    });
    this.announce(released);
    return released;
  }

  /**
   * The earliest dueAt of any live delivery (a lease end for SENDING ones); null when none is
   * live. One index lookup: only live deliveries have a dueAt.
   */
  async nextDueAt(): Promise<Date | null> {
    const raw = await this.dataSource
      .getRepository(Delivery)
      .createQueryBuilder('d')
      .select('MIN(d.dueAt)', 'next')
      .getRawOne<{ next: Date | string | null }>();
    return parseDbTime(raw?.next ?? null);
  }

  /**
   * A new round of attempts for a DELIVERED or FAILED delivery (same id, so the same
   * webhook-id; history and count kept). NOT_FOUND when there is no such delivery, CONFLICT
   * while it is still PENDING, SENDING or RETRYING.
   */
  async redeliver(id: string): Promise<Delivery> {
    if (!isUuid(id)) throw new NotFoundError('delivery', id);
    const delivery = await withTransaction(this.dataSource, async (manager) => {
      const query = manager.getRepository(Delivery).createQueryBuilder('d').where('d.id = :id', { id });
      if (this.mysql) query.setLock('pessimistic_write');
      const current = await query.getOne();
      if (!current) throw new NotFoundError('delivery', id);
      const callback = await manager.getRepository(Callback).findOne({ where: { id: current.callbackId }, withDeleted: true });
      if (!callback) throw new Error(`delivery ${id} refers to callback ${current.callbackId}, which does not exist`);
      const changes = redeliverChanges(current, callback.maxAttempts, this.clock.now());
      const updated = await manager.createQueryBuilder().update(Delivery).set(changes).where({ id, status: current.status }).execute();
      if (!updated.affected) throw new Error(`delivery ${id} changed while being redelivered`);
      return applyChanges(current, changes);
    });
    this.announce([delivery]);
    try {
      this.hub.queued([delivery]);
    } catch (error) {
      this.logger.error({ err: error, deliveryId: delivery.id }, 'a queued listener failed');
    }
    return delivery;
  }

  /**
   * A DELIVERED or FAILED row with a dueAt breaks the invariant the claim scan relies on (no
   * transition here writes one); left alone it would come back on every scan.
   */
  private async clearStrayDueTimes(manager: EntityManager, stray: Delivery[]): Promise<void> {
    if (stray.length === 0) return;
    this.logger.error({ deliveryIds: stray.map((d) => d.id) }, 'final deliveries had a due time; cleared it');
    await manager
      .createQueryBuilder()
      .update(Delivery)
      .set({ dueAt: null })
      .where({ id: In(stray.map((d) => d.id)) })
      .execute();
  }

  /** SENDING rows whose lease ended: record their lost attempt and let the retry policy decide. */
  private async takeOver(manager: EntityManager, expired: Delivery[], now: Date): Promise<Delivery[]> {
    const takenOver: Delivery[] = [];
    for (const delivery of expired) {
      const { attempt, changes } = expiredLeaseTakeover(delivery, now, this.options.retry, this.options.random);
      const updated = await manager
        .createQueryBuilder()
        .update(Delivery)
        .set(changes)
        .where({ id: delivery.id, status: DeliveryStatus.SENDING, attempts: delivery.attempts })
        .execute();
      if (!updated.affected) continue;
      await manager.insert(DeliveryAttempt, manager.create(DeliveryAttempt, { id: newId(), deliveryId: delivery.id, ...attempt }));
      takenOver.push(applyChanges(delivery, changes));
      this.logger.warn(
        { deliveryId: delivery.id, callbackId: delivery.callbackId, eventId: delivery.eventId, attempt: attempt.number, previousHolder: delivery.leaseOwner, status: changes.status },
        'took over a delivery whose lease ran out; its unrecorded attempt is counted as lost',
      );
    }
    return takenOver;
  }

  private async claimRows(manager: EntityManager, leaseOwner: string, rows: Delivery[], now: Date): Promise<ClaimedDelivery[]> {
    if (rows.length === 0) return [];
    const changes = claimChanges(leaseOwner, leaseEnd(now, this.options.leaseMs, rows.map((d) => d.timeoutMs)), now);
    const updated = await manager
      .createQueryBuilder()
      .update(Delivery)
      .set(changes)
      .where('id IN (:...ids)', { ids: rows.map((d) => d.id) })
      .andWhere(`${notIndexed(this.dataSource, 'status')} IN (:...statuses)`, { statuses: [...WAITING_STATUSES] })
      .execute();
    // Cannot happen with the rows locked (MySQL) or this process the only writer (SQLite);
    // if another process on the same SQLite file got there first, claim nothing.
    if (updated.affected !== rows.length) throw new Error(`claimed ${updated.affected} of ${rows.length} deliveries; rolled back`);
    const callbackIds = [...new Set(rows.map((d) => d.callbackId))];
    const callbacks = await manager.getRepository(Callback).find({
      select: { id: true, signingSecret: true },
      where: { id: In(callbackIds) },
      withDeleted: true,
    });
    const secrets = new Map(callbacks.map((c) => [c.id, c.signingSecret]));
    return rows.map((row) => ({
      delivery: applyChanges(row, changes),
      claimedFrom: { status: row.status, dueAt: row.dueAt },
      signingSecret: secrets.get(row.callbackId) ?? null,
    }));
  }

  /** After commit only. A failing listener must not undo or repeat a committed change. */
  private announce(deliveries: Delivery[]): void {
    if (deliveries.length === 0) return;
    try {
      this.hub.statusChanged(deliveries);
    } catch (error) {
      this.logger.error({ err: error, deliveryIds: deliveries.slice(0, 20).map((d) => d.id) }, 'a statusChanged listener failed');
    }
  }
}

/** A datetime from a raw (not hydrated) query: mysql2 gives a Date, SQLite TypeORM's UTC text. */
export function parseDbTime(value: Date | string | null): Date | null {
  if (value === null) return null;
  if (value instanceof Date) return value;
  const date = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * An UPDATE and then a SELECT on `runner`: on MySQL in one round trip (two statements in one
 * packet), on SQLite one after the other. Returns the UPDATE's affected rows and the SELECT's rows.
 */
async function updateThenSelect(runner: QueryRunner, mysql: boolean, update: ScriptStatement, select: ScriptStatement): Promise<{ affected: number; rows: unknown[] }> {
  if (mysql) {
    const [header, rows] = (await runner.query(`${update.sql};\n${select.sql}`, [...update.parameters, ...select.parameters])) as [{ affectedRows?: number }, unknown[]];
    return { affected: header?.affectedRows ?? 0, rows: rows ?? [] };
  }
  const affected = (await runner.query(update.sql, update.parameters, true)).affected ?? 0;
  return { affected, rows: await runner.query(select.sql, select.parameters) };
}
