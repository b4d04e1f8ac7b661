// The portable DeliveryStore (delivery-store.ts) on TypeORM: SQLite, and the base of the MySQL
// adapter (mysql-delivery-store.ts), which overrides the few methods it makes faster.
//
// Claiming. The due scan reads the first `limit` rows by dueAt through IDX_delivery_due_at and
// the claim UPDATE sets them SENDING with the claimer as leaseOwner and dueAt = lease end, in
// one transaction. SQLite has one writer and withTransaction runs this process's transactions
// one at a time, so that is enough; a second process on the same file cannot commit a claim
// over ours either (its stale read snapshot fails with SQLITE_BUSY_SNAPSHOT).
//
// Recording. The attempt row and the summary fields are written in one transaction, and only
// while the claimer still holds the lease (WHERE leaseOwner = me AND status = 'SENDING' AND
// attempts = as claimed): a worker that stalled past its lease, whose delivery was taken
// over, records nothing.
import { Brackets, DataSource, EntityManager, FindOptionsWhere, In, LessThan, type QueryRunner, SelectQueryBuilder } from 'typeorm';
import type { Clock } from '../common/clock';
import { DeliveryStatus } from '../common/enums';
import { NotFoundError } from '../common/errors';
import { isUuid, newId } from '../common/ids';
import type { Logger } from '../common/logger';
import { dbTime, notIndexed } from '../db/data-source';
import { insertStatements } from '../db/bulk-insert';
import { isUniqueViolation } from '../db/errors';
import { runTransactionScript, type ScriptStatement } from '../db/transaction-script';
import { withStatementRetries, withTransaction } from '../db/transactions';
import { Callback } from '../callbacks/callback.entity';
import { Delivery } from './delivery.entity';
import { DeliveryAttempt } from './delivery-attempt.entity';
import { guardedAttemptUpdate } from './attempt-batch';
import {
  applyChanges,
  attemptChanges,
  claimChanges,
  claimedOnQueue,
  type DeliveryChanges,
  expiredLeaseTakeover,
  IN_PROGRESS_STATUSES,
  redeliverChanges,
  releaseChanges,
  signingKeysAt,
  WAITING_STATUSES,
} from './delivery-state';
import type {
  AttemptToRecord,
  ClaimedDelivery,
  ClaimOptions,
  CompanionRows,
  DeliveryPage,
  DeliveryPageFilter,
  DeliveryStore,
  DeliveryStoreOptions,
  DueClaim,
  QueueClaim,
  QueueDepth,
  RecordedAttempt,
  SigningKeys,
  RedeliverWindow,
  WindowCursor,
} from './delivery-store';
import { leaseEnd } from './lease';

export const DUE_INDEX = 'IDX_delivery_due_at';

/**
 * Every statement written out as SQL, by name. The others are TypeORM finds and updates of one
 * row by id, in the methods below. `q` quotes an identifier; `loose` keeps SQLite's planner on
 * the primary key (db/data-source.ts notIndexed).
 */
export function deliveryStatements(dataSource: DataSource) {
  const q = (name: string) => dataSource.driver.escape(name);
  const loose = (column: string) => notIndexed(dataSource, q(column));
  const D = q(dataSource.getMetadata(Delivery).tableName);
  const C = q(dataSource.getMetadata(Callback).tableName);
  const list = (n: number) => Array.from({ length: n }, () => '?').join(', ');
  return {
    /**
     * Claim: waiting rows by id to SENDING under one lease; the lease owner takes the room kept
     * for it (Delivery.leaseRoom). Parameters: status, leaseOwner, dueAt, updatedAt, ...ids, ...WAITING_STATUSES.
     */
    CLAIM_WAITING: (ids: number) =>
      `UPDATE ${D} SET ${q('status')} = ?, ${q('leaseOwner')} = ?, ${q('leaseRoom')} = NULL, ${q('dueAt')} = ?, ${q('updatedAt')} = ? ` +
      `WHERE ${q('id')} IN (${list(ids)}) AND ${loose('status')} IN (${list(WAITING_STATUSES.length)})`,
    /**
     * Claim of announced copies: only rows still PENDING with the announced updatedAt. Parameters:
     * status, leaseOwner, dueAt, updatedAt, ...ids, PENDING, then one updatedAt (`sameUpdatedAt`)
     * or (id, updatedAt) per row.
     */
    CLAIM_AS_ANNOUNCED: (ids: number, sameUpdatedAt: boolean) =>
      `UPDATE ${D} SET ${q('status')} = ?, ${q('leaseOwner')} = ?, ${q('leaseRoom')} = NULL, ${q('dueAt')} = ?, ${q('updatedAt')} = ? ` +
      `WHERE ${q('id')} IN (${list(ids)}) AND ${loose('status')} = ? AND ${loose('updatedAt')} = ` +
      (sameUpdatedAt ? '?' : `CASE ${q('id')} ${Array.from({ length: ids }, () => 'WHEN ? THEN ?').join(' ')} END`),
    /** Which of these ids a claim took (its lease owner and time mark them). Parameters: ...ids, leaseOwner, updatedAt, SENDING. */
    CLAIMED_BY: (ids: number) =>
      `SELECT ${q('id')} AS id FROM ${D} WHERE ${q('id')} IN (${list(ids)}) AND ${q('leaseOwner')} = ? AND ${q('updatedAt')} = ? AND ${loose('status')} = ?`,
    /** The callbacks' signing secrets as they are now, soft-deleted ones included. Parameters: ...callbackIds. */
    SIGNING_SECRETS: (callbacks: number) =>
      `SELECT ${q('id')} AS id, ${q('signingSecret')} AS signingSecret, ${q('previousSigningSecret')} AS previousSigningSecret, ` +
      `${q('previousSecretExpiresAt')} AS previousSecretExpiresAt FROM ${C} WHERE ${q('id')} IN (${list(callbacks)})`,
    /** An unstarted claim back to its due state. Parameters: status, dueAt, leaseRoom, updatedAt, id, leaseOwner, SENDING. */
    RELEASE: `UPDATE ${D} SET ${q('status')} = ?, ${q('dueAt')} = ?, ${q('leaseOwner')} = NULL, ${q('leaseRoom')} = ?, ${q('updatedAt')} = ? WHERE ${q('id')} = ? AND ${q('leaseOwner')} = ? AND ${loose('status')} = ?`,
    /** A final row must have no dueAt (the scan's invariant). Parameters: ...ids. */
    CLEAR_STRAY_DUE_AT: (ids: number) => `UPDATE ${D} SET ${q('dueAt')} = NULL WHERE ${q('id')} IN (${list(ids)})`,
    /** One index lookup: only live deliveries have a dueAt. */
    NEXT_DUE_AT: `SELECT MIN(${q('dueAt')}) AS next FROM ${D}`,
    /** Parameters: PENDING, SENDING, RETRYING. */
    QUEUE_DEPTH: `SELECT ${q('status')} AS status, COUNT(*) AS n FROM ${D} WHERE ${q('status')} IN (?, ?, ?) GROUP BY ${q('status')}`,
    /** Parameters: PENDING, RETRYING, now. */
    OLDEST_DUE: `SELECT MIN(${q('dueAt')}) AS oldest FROM ${D} WHERE ${q('status')} IN (?, ?) AND ${q('dueAt')} <= ?`,
  };
}

export class TypeOrmDeliveryStore implements DeliveryStore {
  protected readonly sql: ReturnType<typeof deliveryStatements>;

  constructor(
    protected readonly dataSource: DataSource,
    protected readonly clock: Clock,
    protected readonly logger: Logger,
    protected readonly options: DeliveryStoreOptions,
  ) {
    this.sql = deliveryStatements(dataSource);
  }

  async queue(deliveries: readonly Delivery[], companions: readonly CompanionRows[] = [], claim?: QueueClaim): Promise<ClaimedDelivery[]> {
    const { rows, claims } = claimOnQueue(deliveries, claim, this.clock.now(), this.options.leaseMs);
    await runTransactionScript(this.dataSource, [
      ...companions.flatMap((c) => insertStatements(this.dataSource, c.entity, c.rows)),
      ...insertStatements(this.dataSource, Delivery, rows.map(withLeaseRoom)),
      ...(this.options.rollup?.statementsForQueued?.(deliveries) ?? []),
    ]);
    return claims;
  }

  async claimDue(leaseOwner: string, limit: number, options: ClaimOptions = {}): Promise<DueClaim> {
    if (limit <= 0) return { claimed: [], takenOver: [], filled: false };
    return withTransaction(
      this.dataSource,
      async (manager) => {
        const now = this.clock.now();
        const rows = await this.dueScan(manager, now, limit, options).getMany();
        await this.clearStrayDueTimes(manager, rows.filter((d) => !IN_PROGRESS_STATUSES.includes(d.status)));
        const takenOver = await this.takeOver(manager, rows.filter((d) => d.status === DeliveryStatus.SENDING), now);
        const claimed = await this.claimRows(manager, leaseOwner, rows.filter((d) => WAITING_STATUSES.includes(d.status)), now);
        return { claimed, takenOver, filled: rows.length >= limit };
      },
      { isolation: 'READ COMMITTED' },
    );
  }

  /**
   * The claim scan: the first `limit` due rows in due order. On dueAt alone: a status predicate
   * tempts both planners into IDX_delivery_due (status, dueAt), one range per status and a sort,
   * where a locking read then locks every due row it sorted, not only the `limit` it returns.
   */
  dueScan(manager: EntityManager, now: Date, limit: number, options: ClaimOptions): SelectQueryBuilder<Delivery> {
    const query = manager
      .getRepository(Delivery)
      .createQueryBuilder('d')
      .where('d.dueAt <= :now', { now: dbTime(this.dataSource, now) })
      .orderBy('d.dueAt', 'ASC')
      .limit(limit);
    if (options.onlyCallbackId !== undefined) query.andWhere('d.callbackId = :only', { only: options.onlyCallbackId });
    else if (options.skipCallbackIds && options.skipCallbackIds.size > 0) query.andWhere('d.callbackId NOT IN (:...skip)', { skip: [...options.skipCallbackIds] });
    return query;
  }

  async claimAnnounced(leaseOwner: string, announced: readonly Delivery[], options: ClaimOptions = {}): Promise<ClaimedDelivery[]> {
    const now = this.clock.now();
    const skip = options.skipCallbackIds;
    const candidates = announced.filter(
      (d) =>
        d.status === DeliveryStatus.PENDING &&
        d.dueAt !== null &&
        d.dueAt.getTime() <= now.getTime() &&
        (options.onlyCallbackId !== undefined ? d.callbackId === options.onlyCallbackId : !skip?.has(d.callbackId)),
    );
    if (candidates.length === 0) return [];
    const changes = claimChanges(leaseOwner, leaseEnd(now, this.options.leaseMs, candidates.map((d) => d.timeoutMs)), now);
    const time = (date: Date) => dbTime(this.dataSource, date);
    const ids = candidates.map((d) => d.id);
    const parameters: unknown[] = [changes.status, changes.leaseOwner, time(changes.dueAt as Date), time(now), ...ids, DeliveryStatus.PENDING];
    const firstUpdatedAt = (candidates[0] as Delivery).updatedAt.getTime();
    const sameUpdatedAt = candidates.every((d) => d.updatedAt.getTime() === firstUpdatedAt);
    if (sameUpdatedAt) parameters.push(time((candidates[0] as Delivery).updatedAt));
    else for (const d of candidates) parameters.push(d.id, time(d.updatedAt));
    const update = { sql: this.sql.CLAIM_AS_ANNOUNCED(ids.length, sameUpdatedAt), parameters };
    const { affected, rows: secretRows } = await withStatementRetries(this.dataSource, () =>
      this.withRunner((runner) => this.updateThenSelect(runner, update, this.signingSecretsQuery(candidates.map((d) => d.callbackId)))),
    );
    let claimed = candidates;
    if (affected < candidates.length) {
      // Some were no longer as announced: see which this claim took.
      const rows: { id: string }[] = await this.dataSource.query(this.sql.CLAIMED_BY(ids.length), [...ids, leaseOwner, time(now), DeliveryStatus.SENDING]);
      const taken = new Set(rows.map((r) => r.id));
      claimed = candidates.filter((d) => taken.has(d.id));
    }
    if (claimed.length === 0) return [];
    const secrets = secretsById(secretRows, now);
    return claimed.map((d) => ({ delivery: applyChanges(d, changes), claimedFrom: { status: d.status, dueAt: d.dueAt }, ...keysOf(secrets, d.callbackId) }));
  }

  /** An UPDATE and then a SELECT on `runner`; the UPDATE's affected rows and the SELECT's rows. */
  protected async updateThenSelect(runner: QueryRunner, update: ScriptStatement, select: ScriptStatement): Promise<{ affected: number; rows: unknown[] }> {
    const affected = (await runner.query(update.sql, update.parameters, true)).affected ?? 0;
    return { affected, rows: await runner.query(select.sql, select.parameters) };
  }

  /** `work` on a query runner of its own, released after. */
  protected async withRunner<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return await work(runner);
    } finally {
      await runner.release();
    }
  }

  protected signingSecretsQuery(callbackIds: readonly string[]): ScriptStatement {
    const unique = [...new Set(callbackIds)];
    return { sql: this.sql.SIGNING_SECRETS(unique.length), parameters: unique };
  }

  async recordAttempt(item: AttemptToRecord): Promise<RecordedAttempt | null> {
    const { claim, attempt, next } = item;
    const held = claim.delivery;
    const changes = attemptChanges(attempt, next, this.clock.now());
    const recorded = await withTransaction(this.dataSource, async (manager) => {
      const updated = await manager
        .createQueryBuilder()
        .update(Delivery)
        .set(storedChanges(changes))
        .where({ id: held.id, leaseOwner: held.leaseOwner, status: DeliveryStatus.SENDING, attempts: attempt.number - 1 })
        .execute();
      if (!updated.affected) return null;
      const row = manager.create(DeliveryAttempt, { id: newId(), deliveryId: held.id, ...attempt });
      await manager.insert(DeliveryAttempt, row);
      const result = { delivery: applyChanges(held, changes), attempt: row };
      await this.runRollup(manager, [result]);
      return result;
    });
    return recorded;
  }

  /**
   * One transaction for all: one guarded UPDATE (attempt-batch.ts), one multi-row INSERT of the
   * attempt rows, and the rollup's statements. When the UPDATE does not match every row, some
   * lease was taken over meanwhile; the transaction is rolled back and each is recorded on its
   * own, so the others still count and the lost ones come back null.
   */
  async recordAttempts(items: readonly AttemptToRecord[]): Promise<(RecordedAttempt | null)[]> {
    if (items.length === 0) return [];
    if (items.length === 1) return [await this.recordAttempt(items[0] as AttemptToRecord)];
    const now = this.clock.now();
    const rows = items.map(({ claim, attempt, next }) => ({ claim, attempt, changes: attemptChanges(attempt, next, now) }));
    const driver = this.dataSource.driver;
    const update = guardedAttemptUpdate(
      driver.escape(this.dataSource.getMetadata(Delivery).tableName),
      rows.map(({ claim, attempt, changes }) => ({ id: claim.delivery.id, leaseOwner: claim.delivery.leaseOwner, attempts: attempt.number - 1, changes: storedChanges(changes) })),
      DeliveryStatus.SENDING,
      { quote: (name) => driver.escape(name), time: (date) => dbTime(this.dataSource, date), notIndexed: (column) => notIndexed(this.dataSource, column) },
    );
    const inserted = rows.map(({ claim, attempt }) => Object.assign(new DeliveryAttempt(), { id: newId(), deliveryId: claim.delivery.id, ...attempt }));
    const recorded = rows.map(({ claim, changes }, i) => ({ delivery: applyChanges(claim.delivery, changes), attempt: inserted[i] as DeliveryAttempt }));
    const rollup = this.options.rollup?.statementsFor(recorded) ?? [];
    let committed: number[] | null;
    try {
      committed = await runTransactionScript(this.dataSource, [update, ...insertStatements(this.dataSource, DeliveryAttempt, inserted), ...rollup], (affected) => affected[0] === rows.length);
    } catch (error) {
      // An attempt number already recorded (its lease was lost and the taker recorded it) fails
      // the INSERT; one by one, each guard then tells which.
      if (!isUniqueViolation(error)) throw error;
      committed = null;
    }
    if (committed === null) {
      const oneByOne: (RecordedAttempt | null)[] = [];
      for (const item of items) oneByOne.push(await this.recordAttempt(item));
      return oneByOne;
    }
    return recorded;
  }

  async release(claims: readonly ClaimedDelivery[]): Promise<Delivery[]> {
    if (claims.length === 0) return [];
    return withTransaction(this.dataSource, async (manager) => {
      const now = this.clock.now();
      const time = (date: Date) => dbTime(this.dataSource, date);
      const done: Delivery[] = [];
      for (const claim of claims) {
        const changes = releaseChanges(claim.claimedFrom, now);
        const result = await structured(manager)(
          this.sql.RELEASE,
          [changes.status, time(changes.dueAt as Date), leaseRoomFor(changes.status), time(now), claim.delivery.id, claim.delivery.leaseOwner, DeliveryStatus.SENDING],
          true,
        );
        if (affectedRows(result)) done.push(applyChanges(claim.delivery, changes));
      }
      return done;
    });
  }

  async nextDueAt(): Promise<Date | null> {
    const rows: { next: Date | string | null }[] = await this.dataSource.query(this.sql.NEXT_DUE_AT);
    return parseDbTime(rows[0]?.next ?? null);
  }

  async redeliver(id: string): Promise<Delivery> {
    if (!isUuid(id)) throw new NotFoundError('delivery', id);
    return withTransaction(this.dataSource, async (manager) => {
      const current = await this.lockedForRedeliver(manager.getRepository(Delivery).createQueryBuilder('d').where('d.id = :id', { id })).getOne();
      if (!current) throw new NotFoundError('delivery', id);
      const callback = await manager.getRepository(Callback).findOne({ select: { id: true, maxAttempts: true }, where: { id: current.callbackId }, withDeleted: true });
      if (!callback) throw new Error(`delivery ${id} refers to callback ${current.callbackId}, which does not exist`);
      const changes = redeliverChanges(current, callback.maxAttempts, this.clock.now());
      const updated = await manager.createQueryBuilder().update(Delivery).set(storedChanges(changes)).where({ id, status: current.status }).execute();
      if (!updated.affected) throw new Error(`delivery ${id} changed while being redelivered`);
      for (const statement of this.options.rollup?.statementsForReopened?.([{ delivery: current, from: current.status }]) ?? []) {
        await manager.query(statement.sql, statement.parameters);
      }
      return applyChanges(current, changes);
    });
  }

  /** The row read by redeliver, locked where the database can (MySQL). */
  async redeliverBatch(
    window: RedeliverWindow,
    after: WindowCursor | null,
    limit: number,
    dueAtOf?: (index: number) => Date,
  ): Promise<{ redelivered: Delivery[]; next: WindowCursor | null }> {
    return withTransaction(this.dataSource, async (manager) => {
      const query = this.windowQuery(manager, window).andWhere('d.status IN (:...statuses)', { statuses: [...window.statuses] });
      if (after) {
        const at = dbTime(this.dataSource, after.createdAt);
        query.andWhere(new Brackets((b) => b.where('d.createdAt > :afterAt', { afterAt: at }).orWhere('d.createdAt = :afterAt AND d.id > :afterId', { afterAt: at, afterId: after.id })));
      }
      const rows = await this.lockedForRedeliver(query.orderBy('d.createdAt', 'ASC').addOrderBy('d.id', 'ASC').limit(limit)).getMany();
      if (rows.length === 0) return { redelivered: [], next: null };
      const callbackIds = [...new Set(rows.map((d) => d.callbackId))];
      const callbacks = await manager.getRepository(Callback).find({ select: { id: true, maxAttempts: true }, where: { id: In(callbackIds) }, withDeleted: true });
      const maxAttemptsOf = new Map(callbacks.map((c) => [c.id, c.maxAttempts]));
      const now = this.clock.now();
      // One UPDATE per callback maxAttempts: maxAttempts becomes attempts + the callback's, as
      // redeliver sets it. A paced replay gives its rows a few due times (one per step of many
      // rows): a CASE over the steps' id lists, so a batch stays one statement.
      const groups = new Map<number, Delivery[]>();
      const dueAtById = new Map<string, Date>();
      rows.forEach((row, index) => {
        const n = maxAttemptsOf.get(row.callbackId) ?? row.maxAttempts;
        groups.set(n, [...(groups.get(n) ?? []), row]);
        dueAtById.set(row.id, dueAtOf?.(index) ?? now);
      });
      const redelivered: Delivery[] = [];
      const q = (name: string) => this.dataSource.driver.escape(name);
      for (const [n, group] of groups) {
        const { maxAttempts: _m, dueAt: _d, nextAttemptAt: _a, ...common } = redeliverChanges(group[0] as Delivery, n, now);
        const steps = new Map<number, string[]>();
        for (const row of group) {
          const at = (dueAtById.get(row.id) as Date).getTime();
          steps.set(at, [...(steps.get(at) ?? []), row.id]);
        }
        const parameters: Record<string, unknown> = {};
        const cases = [...steps].map(([at, ids], k) => {
          parameters[`stepIds${k}`] = ids;
          parameters[`stepAt${k}`] = dbTime(this.dataSource, new Date(at));
          return `WHEN ${q('id')} IN (:...stepIds${k}) THEN :stepAt${k}`;
        });
        const dueAt = () => (steps.size === 1 ? ':stepAt0' : `CASE ${cases.join(' ')} END`);
        const updated = await manager
          .createQueryBuilder()
          .update(Delivery)
          .set({ ...storedChanges(common), dueAt, nextAttemptAt: dueAt, maxAttempts: () => `${q('attempts')} + ${Math.trunc(n)}` })
          .where({ id: In(group.map((d) => d.id)), status: In([...window.statuses]) })
          .setParameters(parameters)
          .execute();
        // The rows are locked (MySQL) or this process the only writer (SQLite).
        if ((updated.affected ?? group.length) !== group.length) throw new Error(`redelivered ${updated.affected} of ${group.length} deliveries; rolled back`);
        for (const row of group) redelivered.push(applyChanges(row, redeliverChanges(row, n, now, dueAtById.get(row.id))));
      }
      for (const statement of this.options.rollup?.statementsForReopened?.(rows.map((r) => ({ delivery: r, from: r.status }))) ?? []) {
        await manager.query(statement.sql, statement.parameters);
      }
      const last = rows[rows.length - 1] as Delivery;
      return { redelivered, next: rows.length >= limit ? { createdAt: last.createdAt, id: last.id } : null };
    });
  }

  async countInProgress(window: RedeliverWindow): Promise<number> {
    return this.windowQuery(this.dataSource.manager, window).andWhere('d.status IN (:...live)', { live: [...IN_PROGRESS_STATUSES] }).getCount();
  }

  /** The window on IDX_delivery_created, with its equality filters. */
  private windowQuery(manager: EntityManager, window: RedeliverWindow): SelectQueryBuilder<Delivery> {
    const query = manager
      .getRepository(Delivery)
      .createQueryBuilder('d')
      .where('d.createdAt >= :from AND d.createdAt < :to', { from: dbTime(this.dataSource, window.from), to: dbTime(this.dataSource, window.to) });
    if (window.appId != null) query.andWhere('d.appId = :appId', { appId: window.appId });
    if (window.networkId != null) query.andWhere('d.networkId = :networkId', { networkId: window.networkId });
    if (window.callbackId != null) query.andWhere('d.callbackId = :callbackId', { callbackId: window.callbackId });
    return query;
  }

  protected lockedForRedeliver(query: SelectQueryBuilder<Delivery>): SelectQueryBuilder<Delivery> {
    return query;
  }

  findById(id: string): Promise<Delivery | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.dataSource.getRepository(Delivery).findOneBy({ id });
  }

  async findByEvents(eventIds: readonly string[]): Promise<Delivery[]> {
    if (eventIds.length === 0) return [];
    return this.dataSource.getRepository(Delivery).find({ where: { eventId: In([...eventIds]) }, order: { id: 'ASC' } });
  }

  async attemptsOf(deliveryIds: readonly string[]): Promise<Map<string, DeliveryAttempt[]>> {
    const grouped = new Map<string, DeliveryAttempt[]>();
    if (deliveryIds.length === 0) return grouped;
    const rows = await this.dataSource.getRepository(DeliveryAttempt).find({ where: { deliveryId: In([...deliveryIds]) }, order: { number: 'ASC' } });
    for (const row of rows) grouped.set(row.deliveryId, [...(grouped.get(row.deliveryId) ?? []), row]);
    return grouped;
  }

  /** The (appId|networkId|callbackId, id) indexes serve the common filters. */
  async page(filter: DeliveryPageFilter, size: number, beforeId: string | null): Promise<DeliveryPage> {
    const where = whereOf(filter);
    if (filter.statuses != null && filter.statuses.length > 0) where.status = In([...filter.statuses]);
    if (beforeId !== null) where.id = LessThan(beforeId);
    const repository = this.dataSource.getRepository(Delivery);
    if (size === 0) return { deliveries: [], hasNextPage: await repository.exists({ where }) };
    const rows = await repository.find({ where, order: { id: 'DESC' }, take: size + 1 });
    return { deliveries: rows.slice(0, size), hasNextPage: rows.length > size };
  }

  exists(filter: Pick<DeliveryPageFilter, 'appId' | 'networkId' | 'eventId'>): Promise<boolean> {
    return this.dataSource.getRepository(Delivery).existsBy(whereOf(filter));
  }

  async queueDepth(): Promise<QueueDepth> {
    const rows: { status: string; n: number | string }[] = await this.dataSource.query(this.sql.QUEUE_DEPTH, [DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.RETRYING]);
    const count = (status: DeliveryStatus) => Number(rows.find((r) => r.status === status)?.n ?? 0);
    return { PENDING: count(DeliveryStatus.PENDING), SENDING: count(DeliveryStatus.SENDING), RETRYING: count(DeliveryStatus.RETRYING) };
  }

  async oldestDueAt(now: Date): Promise<Date | null> {
    const rows: { oldest: Date | string | null }[] = await this.dataSource.query(this.sql.OLDEST_DUE, [DeliveryStatus.PENDING, DeliveryStatus.RETRYING, dbTime(this.dataSource, now)]);
    return parseDbTime(rows[0]?.oldest ?? null);
  }

  /** A DELIVERED or FAILED row with a dueAt breaks the scan's invariant; left alone it would come back on every scan. */
  protected async clearStrayDueTimes(manager: EntityManager, stray: Delivery[]): Promise<void> {
    if (stray.length === 0) return;
    this.logger.error({ deliveryIds: stray.map((d) => d.id) }, 'final deliveries had a due time; cleared it');
    await manager.query(this.sql.CLEAR_STRAY_DUE_AT(stray.length), stray.map((d) => d.id));
  }

  /** SENDING rows whose lease ended: record their lost attempt and let the retry policy decide. */
  protected async takeOver(manager: EntityManager, expired: Delivery[], now: Date): Promise<Delivery[]> {
    const takenOver: Delivery[] = [];
    for (const delivery of expired) {
      const { attempt, changes } = expiredLeaseTakeover(delivery, now, this.options.retry, this.options.random);
      const updated = await manager
        .createQueryBuilder()
        .update(Delivery)
        .set(storedChanges(changes))
        .where({ id: delivery.id, status: DeliveryStatus.SENDING, attempts: delivery.attempts })
        .execute();
      if (!updated.affected) continue;
      const row = manager.create(DeliveryAttempt, { id: newId(), deliveryId: delivery.id, ...attempt });
      await manager.insert(DeliveryAttempt, row);
      const taken = applyChanges(delivery, changes);
      await this.runRollup(manager, [{ delivery: taken, attempt: row }]);
      takenOver.push(taken);
      this.logger.warn(
        { deliveryId: delivery.id, callbackId: delivery.callbackId, eventId: delivery.eventId, attempt: attempt.number, previousHolder: delivery.leaseOwner, status: changes.status },
        'took over a delivery whose lease ran out; its unrecorded attempt is counted as lost',
      );
    }
    return takenOver;
  }

  protected async claimRows(manager: EntityManager, leaseOwner: string, rows: Delivery[], now: Date): Promise<ClaimedDelivery[]> {
    if (rows.length === 0) return [];
    const changes = claimChanges(leaseOwner, leaseEnd(now, this.options.leaseMs, rows.map((d) => d.timeoutMs)), now);
    const ids = rows.map((d) => d.id);
    const time = (date: Date) => dbTime(this.dataSource, date);
    const result = await structured(manager)(this.sql.CLAIM_WAITING(ids.length), [changes.status, changes.leaseOwner, time(changes.dueAt as Date), time(now), ...ids, ...WAITING_STATUSES], true);
    // Cannot happen with the rows locked (MySQL) or this process the only writer (SQLite);
    // if another process on the same SQLite file got there first, claim nothing.
    const affected = affectedRows(result);
    if (affected !== rows.length) throw new Error(`claimed ${affected} of ${rows.length} deliveries; rolled back`);
    const secrets = this.signingSecretsQuery(rows.map((d) => d.callbackId));
    const secretOf = secretsById(await manager.query(secrets.sql, secrets.parameters), now);
    return rows.map((row) => ({ delivery: applyChanges(row, changes), claimedFrom: { status: row.status, dueAt: row.dueAt }, ...keysOf(secretOf, row.callbackId) }));
  }

  protected async runRollup(manager: EntityManager, recorded: RecordedAttempt[]): Promise<void> {
    for (const statement of this.options.rollup?.statementsFor(recorded) ?? []) await manager.query(statement.sql, statement.parameters);
  }
}

function whereOf(filter: Pick<DeliveryPageFilter, 'appId' | 'networkId' | 'callbackId' | 'eventId'>): FindOptionsWhere<Delivery> {
  const where: FindOptionsWhere<Delivery> = {};
  if (filter.appId != null) where.appId = filter.appId;
  if (filter.networkId != null) where.networkId = filter.networkId;
  if (filter.callbackId != null) where.callbackId = filter.callbackId;
  if (filter.eventId != null) where.eventId = filter.eventId;
  return where;
}

/** A query on the transaction's runner that returns TypeORM's QueryResult (with `affected`). */
function structured(manager: EntityManager): (sql: string, parameters: unknown[], useStructuredResult: true) => Promise<unknown> {
  const runner = manager.queryRunner;
  if (!runner) throw new Error('a structured query needs the transaction\'s query runner');
  return (sql, parameters) => runner.query(sql, parameters, true);
}

/** Affected rows of a write run with `useStructuredResult` (TypeORM's QueryResult). */
function affectedRows(result: unknown): number {
  return (result as { affected?: number } | null)?.affected ?? 0;
}

/** Each callback's secrets as of `now`: the rotated-out one only while its overlap lasts. */
export function secretsById(rows: unknown, now: Date): Map<string, SigningKeys> {
  type Row = { id: string; signingSecret: string | null; previousSigningSecret?: string | null; previousSecretExpiresAt?: Date | string | null };
  return new Map((rows as Row[]).map((r) => [r.id, signingKeysAt({ ...r, previousSecretExpiresAt: parseDbTime(r.previousSecretExpiresAt ?? null) }, now)]));
}

/** Delivery.leaseRoom's value: as long as the longest lease owner the column holds. */
export const LEASE_ROOM = '-'.repeat(64);

/**
 * Delivery.leaseRoom of a row in `status`: room for the lease owner while it waits for a claim
 * (PENDING, RETRYING), none once claimed or final. The one rule behind every write below.
 */
function leaseRoomFor(status: DeliveryStatus | undefined): string | null {
  return status !== undefined && WAITING_STATUSES.includes(status) ? LEASE_ROOM : null;
}

/**
 * What the SQL stores write for a status change's `changes` (an attempt's result, a takeover, a
 * redeliver): the columns, and the room its new status calls for. Every row of a grouped UPDATE
 * gets the column, as attempt-batch.ts wants the same ones for all.
 */
function storedChanges(changes: DeliveryChanges): DeliveryChanges {
  return { ...changes, leaseRoom: leaseRoomFor(changes.status) };
}

/** A delivery as the SQL stores insert it: one stored waiting keeps room for its claim's lease owner. */
export function withLeaseRoom(delivery: Delivery): Delivery {
  const room = leaseRoomFor(delivery.status);
  if (room === null) return delivery;
  const stored = Object.assign(new Delivery(), delivery);
  stored.leaseRoom = room;
  return stored;
}

/**
 * queue's rows: each delivery as given, or inserted claimed when `claim` lists it and it is due
 * (delivery-state.ts claimedOnQueue), with the claims to hand back. Shared by every adapter.
 */
export function claimOnQueue(deliveries: readonly Delivery[], claim: QueueClaim | undefined, now: Date, leaseMs: number): { rows: Delivery[]; claims: ClaimedDelivery[] } {
  if (!claim || claim.keys.size === 0) return { rows: [...deliveries], claims: [] };
  const claims: ClaimedDelivery[] = [];
  const rows = deliveries.map((d) => {
    const keys = claim.keys.get(d.id);
    const claimed = keys ? claimedOnQueue(d, claim.leaseOwner, leaseEnd(now, leaseMs, [d.timeoutMs]), now) : null;
    if (!keys || !claimed) return d;
    claims.push({ delivery: claimed, claimedFrom: { status: d.status, dueAt: d.dueAt }, signingSecret: keys.signingSecret, previousSigningSecret: keys.previousSigningSecret });
    return claimed;
  });
  return { rows, claims };
}

export function keysOf(secrets: Map<string, SigningKeys>, callbackId: string): SigningKeys {
  return secrets.get(callbackId) ?? { signingSecret: null, previousSigningSecret: null };
}

/** A datetime from a raw (not hydrated) query: mysql2 gives a Date, SQLite TypeORM's UTC text. */
export function parseDbTime(value: Date | string | null): Date | null {
  if (value === null) return null;
  if (value instanceof Date) return value;
  const date = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}
