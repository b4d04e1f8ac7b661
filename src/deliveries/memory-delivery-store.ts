// The DeliveryStore in memory: the same contract as the SQL adapters (the contract suite runs
// it beside them), for the dispatcher's unit tests and anything else that wants a queue without
// a database. Rows are copied in and out, so callers never share an object with the store.
import type { Clock } from '../common/clock';
import { DeliveryStatus } from '../common/enums';
import { NotFoundError } from '../common/errors';
import { isUuid, newId } from '../common/ids';
import { DeliveryAttempt } from './delivery-attempt.entity';
import { Delivery } from './delivery.entity';
import {
  applyChanges,
  attemptChanges,
  claimChanges,
  expiredLeaseTakeover,
  IN_PROGRESS_STATUSES,
  redeliverChanges,
  releaseChanges,
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
  RedeliverWindow,
  WindowCursor,
} from './delivery-store';
import { leaseEnd } from './lease';
import { claimOnQueue } from './typeorm-delivery-store';

/** What the store needs of a callback: its signing secret (claims) and maxAttempts (redeliver). */
export interface MemoryCallback {
  signingSecret: string | null;
  maxAttempts: number;
  previousSigningSecret?: string | null;
}

export class MemoryDeliveryStore implements DeliveryStore {
  private readonly rows = new Map<string, Delivery>();
  private readonly attempts = new Map<string, DeliveryAttempt[]>();
  private readonly callbacks = new Map<string, MemoryCallback>();
  /** Makes the next calls of a method fail, for tests of the caller's error handling. */
  private readonly failures = new Map<string, unknown[]>();

  constructor(
    private readonly clock: Clock,
    private readonly options: DeliveryStoreOptions,
  ) {}

  /** Registers a callback (the SQL stores read it from the callback table). */
  defineCallback(id: string, callback: MemoryCallback): void {
    this.callbacks.set(id, { ...callback });
  }

  /** The next call of `method` rejects with `error` (queued: one per call). */
  failNext(method: keyof DeliveryStore, error: unknown): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), error]);
  }

  /** Overwrites a row as given, for tests that need a state no transition makes. */
  put(delivery: Delivery): void {
    this.rows.set(delivery.id, copy(delivery));
  }

  /** A copy of every row, in id order (tests). */
  all(): Delivery[] {
    return [...this.rows.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(copy);
  }

  async queue(deliveries: readonly Delivery[], _companions?: readonly CompanionRows[], claim?: QueueClaim): Promise<ClaimedDelivery[]> {
    this.failIfAsked('queue');
    for (const d of deliveries) {
      if (this.rows.has(d.id)) throw Object.assign(new Error(`duplicate delivery id ${d.id}`), { code: 'ER_DUP_ENTRY' });
    }
    const { rows, claims } = claimOnQueue(deliveries, claim, this.clock.now(), this.options.leaseMs);
    for (const d of rows) this.rows.set(d.id, copy(d));
    return claims.map((c) => ({ ...c, delivery: copy(c.delivery) }));
  }

  async claimDue(leaseOwner: string, limit: number, options: ClaimOptions = {}): Promise<DueClaim> {
    this.failIfAsked('claimDue');
    if (limit <= 0) return { claimed: [], takenOver: [], filled: false };
    const now = this.clock.now();
    const due = [...this.rows.values()]
      .filter((d) => d.dueAt !== null && d.dueAt.getTime() <= now.getTime() && wanted(d.callbackId, options))
      .sort((a, b) => (a.dueAt as Date).getTime() - (b.dueAt as Date).getTime())
      .slice(0, limit);
    for (const stray of due.filter((d) => !IN_PROGRESS_STATUSES.includes(d.status))) this.rows.set(stray.id, applyChanges(stray, { dueAt: null }));
    const takenOver: Delivery[] = [];
    for (const expired of due.filter((d) => d.status === DeliveryStatus.SENDING)) {
      const { attempt, changes } = expiredLeaseTakeover(expired, now, this.options.retry, this.options.random);
      const taken = applyChanges(expired, changes);
      const row = this.addAttempt(expired.id, attempt);
      this.rows.set(expired.id, taken);
      this.options.rollup?.statementsFor([{ delivery: copy(taken), attempt: row }]);
      takenOver.push(copy(taken));
    }
    const waiting = due.filter((d) => WAITING_STATUSES.includes(d.status));
    return { claimed: this.claim(leaseOwner, waiting, now), takenOver, filled: due.length >= limit };
  }

  async claimAnnounced(leaseOwner: string, announced: readonly Delivery[], options: ClaimOptions = {}): Promise<ClaimedDelivery[]> {
    this.failIfAsked('claimAnnounced');
    const now = this.clock.now();
    const unchanged = announced.filter((a) => {
      const row = this.rows.get(a.id);
      return (
        a.status === DeliveryStatus.PENDING &&
        a.dueAt !== null &&
        a.dueAt.getTime() <= now.getTime() &&
        wanted(a.callbackId, options) &&
        row !== undefined &&
        row.status === DeliveryStatus.PENDING &&
        row.updatedAt.getTime() === a.updatedAt.getTime()
      );
    });
    return this.claim(leaseOwner, unchanged.map((a) => this.rows.get(a.id) as Delivery), now);
  }

  async recordAttempt(item: AttemptToRecord): Promise<RecordedAttempt | null> {
    this.failIfAsked('recordAttempt');
    return this.record(item, this.clock.now());
  }

  async recordAttempts(items: readonly AttemptToRecord[]): Promise<(RecordedAttempt | null)[]> {
    this.failIfAsked('recordAttempts');
    const now = this.clock.now();
    const recorded = items.map((item) => this.record(item, now));
    const done = recorded.filter((r): r is RecordedAttempt => r !== null);
    if (done.length > 0) this.options.rollup?.statementsFor(done);
    return recorded;
  }

  async release(claims: readonly ClaimedDelivery[]): Promise<Delivery[]> {
    this.failIfAsked('release');
    const now = this.clock.now();
    const released: Delivery[] = [];
    for (const claim of claims) {
      const row = this.rows.get(claim.delivery.id);
      if (!row || row.status !== DeliveryStatus.SENDING || row.leaseOwner !== claim.delivery.leaseOwner) continue;
      const changes = releaseChanges(claim.claimedFrom, now);
      this.rows.set(row.id, applyChanges(row, changes));
      released.push(applyChanges(claim.delivery, changes));
    }
    return released;
  }

  async redeliver(id: string): Promise<Delivery> {
    this.failIfAsked('redeliver');
    const current = isUuid(id) ? this.rows.get(id) : undefined;
    if (!current) throw new NotFoundError('delivery', id);
    const callback = this.callbacks.get(current.callbackId);
    if (!callback) throw new Error(`delivery ${id} refers to callback ${current.callbackId}, which does not exist`);
    const updated = applyChanges(current, redeliverChanges(current, callback.maxAttempts, this.clock.now()));
    this.rows.set(id, updated);
    return copy(updated);
  }

  async redeliverBatch(
    window: RedeliverWindow,
    after: WindowCursor | null,
    limit: number,
    dueAtOf?: (index: number) => Date,
  ): Promise<{ redelivered: Delivery[]; next: WindowCursor | null }> {
    const key = (d: { createdAt: Date; id: string }) => [d.createdAt.getTime(), d.id] as const;
    const later = (d: Delivery) => !after || key(d)[0] > after.createdAt.getTime() || (key(d)[0] === after.createdAt.getTime() && d.id > after.id);
    const rows = [...this.rows.values()]
      .filter((d) => inWindow(d, window) && window.statuses.includes(d.status) && later(d))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1))
      .slice(0, limit);
    const now = this.clock.now();
    const redelivered = rows.map((row, index) => {
      const updated = applyChanges(row, redeliverChanges(row, this.callbacks.get(row.callbackId)?.maxAttempts ?? row.maxAttempts, now, dueAtOf?.(index)));
      this.rows.set(row.id, updated);
      return copy(updated);
    });
    const last = rows[rows.length - 1];
    return { redelivered, next: last && rows.length >= limit ? { createdAt: last.createdAt, id: last.id } : null };
  }

  async countInProgress(window: RedeliverWindow): Promise<number> {
    return [...this.rows.values()].filter((d) => inWindow(d, window) && IN_PROGRESS_STATUSES.includes(d.status)).length;
  }

  async nextDueAt(): Promise<Date | null> {
    let next: Date | null = null;
    for (const d of this.rows.values()) if (d.dueAt !== null && (next === null || d.dueAt < next)) next = d.dueAt;
    return next;
  }

  async findById(id: string): Promise<Delivery | null> {
    const row = this.rows.get(id);
    return row ? copy(row) : null;
  }

  async findByEvents(eventIds: readonly string[]): Promise<Delivery[]> {
    const wanted = new Set(eventIds);
    return this.all().filter((d) => wanted.has(d.eventId));
  }

  async attemptsOf(deliveryIds: readonly string[]): Promise<Map<string, DeliveryAttempt[]>> {
    const grouped = new Map<string, DeliveryAttempt[]>();
    for (const id of deliveryIds) {
      const rows = this.attempts.get(id);
      if (rows) grouped.set(id, rows.map((a) => Object.assign(new DeliveryAttempt(), a)));
    }
    return grouped;
  }

  async page(filter: DeliveryPageFilter, size: number, beforeId: string | null): Promise<DeliveryPage> {
    const matching = this.all()
      .reverse()
      .filter((d) => matches(d, filter) && (filter.statuses == null || filter.statuses.length === 0 || filter.statuses.includes(d.status)) && (beforeId === null || d.id < beforeId));
    return { deliveries: matching.slice(0, size), hasNextPage: matching.length > size };
  }

  async exists(filter: Pick<DeliveryPageFilter, 'appId' | 'networkId' | 'eventId'>): Promise<boolean> {
    return [...this.rows.values()].some((d) => matches(d, filter));
  }

  async queueDepth(): Promise<QueueDepth> {
    const depth = { PENDING: 0, SENDING: 0, RETRYING: 0 };
    for (const d of this.rows.values()) {
      if (d.status === DeliveryStatus.PENDING || d.status === DeliveryStatus.SENDING || d.status === DeliveryStatus.RETRYING) depth[d.status]++;
    }
    return depth;
  }

  async oldestDueAt(now: Date): Promise<Date | null> {
    let oldest: Date | null = null;
    for (const d of this.rows.values()) {
      const waiting = d.status === DeliveryStatus.PENDING || d.status === DeliveryStatus.RETRYING;
      if (waiting && d.dueAt !== null && d.dueAt <= now && (oldest === null || d.dueAt < oldest)) oldest = d.dueAt;
    }
    return oldest;
  }

  private claim(leaseOwner: string, rows: Delivery[], now: Date): ClaimedDelivery[] {
    if (rows.length === 0) return [];
    const changes = claimChanges(leaseOwner, leaseEnd(now, this.options.leaseMs, rows.map((d) => d.timeoutMs)), now);
    return rows.map((row) => {
      const claimed = applyChanges(row, changes);
      this.rows.set(row.id, claimed);
      return { delivery: copy(claimed), claimedFrom: { status: row.status, dueAt: row.dueAt }, signingSecret: this.callbacks.get(row.callbackId)?.signingSecret ?? null, previousSigningSecret: this.callbacks.get(row.callbackId)?.previousSigningSecret ?? null };
    });
  }

  private record({ claim, attempt, next }: AttemptToRecord, now: Date): RecordedAttempt | null {
    const row = this.rows.get(claim.delivery.id);
    const held = row !== undefined && row.status === DeliveryStatus.SENDING && row.leaseOwner === claim.delivery.leaseOwner && row.attempts === attempt.number - 1;
    if (!held) return null;
    const changes = attemptChanges(attempt, next, now);
    this.rows.set(row.id, applyChanges(row, changes));
    return { delivery: applyChanges(claim.delivery, changes), attempt: this.addAttempt(row.id, attempt) };
  }

  private addAttempt(deliveryId: string, attempt: DeliveryAttempt | Omit<DeliveryAttempt, 'id' | 'deliveryId'>): DeliveryAttempt {
    const row = Object.assign(new DeliveryAttempt(), { ...attempt, id: newId(), deliveryId });
    this.attempts.set(deliveryId, [...(this.attempts.get(deliveryId) ?? []), row]);
    return Object.assign(new DeliveryAttempt(), row);
  }

  private failIfAsked(method: keyof DeliveryStore): void {
    const queued = this.failures.get(method);
    if (queued && queued.length > 0) throw queued.shift();
  }
}

function copy(d: Delivery): Delivery {
  return Object.assign(new Delivery(), d, { headers: d.headers.map((h) => ({ ...h })) });
}

function matches(d: Delivery, filter: Pick<DeliveryPageFilter, 'appId' | 'networkId' | 'callbackId' | 'eventId'>): boolean {
  return (
    (filter.appId == null || d.appId === filter.appId) &&
    (filter.networkId == null || d.networkId === filter.networkId) &&
    (filter.callbackId == null || d.callbackId === filter.callbackId) &&
    (filter.eventId == null || d.eventId === filter.eventId)
  );
}

function inWindow(d: Delivery, w: RedeliverWindow): boolean {
  return (
    d.createdAt.getTime() >= w.from.getTime() &&
    d.createdAt.getTime() < w.to.getTime() &&
    (w.appId == null || d.appId === w.appId) &&
    (w.networkId == null || d.networkId === w.networkId) &&
    (w.callbackId == null || d.callbackId === w.callbackId)
  );
}

function wanted(callbackId: string, options: ClaimOptions): boolean {
  if (options.onlyCallbackId !== undefined) return callbackId === options.onlyCallbackId;
  return !options.skipCallbackIds?.has(callbackId);
}
