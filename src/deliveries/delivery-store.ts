// The one owner of delivery and attempt rows. Everything that writes or reads them goes
// through a DeliveryStore: the outbox insert of recordEvent(s), the dispatcher's claims,
// attempts and releases, redeliver, the API's pages, and the metrics' queue figures.
//
// Three adapters keep the same contract (test/integration/delivery-store.contract.test.ts):
// - TypeOrmDeliveryStore (typeorm-delivery-store.ts): portable, for SQLite and any database;
// - MysqlDeliveryStore (mysql-delivery-store.ts): MySQL/MariaDB's fast paths (SKIP LOCKED
//   claims, whole transactions in one packet);
// - MemoryDeliveryStore (memory-delivery-store.ts): in-process, for the dispatcher's unit tests.
//
// A store does not announce anything: callers publish committed changes (DeliveryHub) once a
// call has returned. The state machine it applies is delivery-state.ts; the leases, lease.ts.
import type { EntityTarget, ObjectLiteral } from 'typeorm';
import type { DeliveryStatus } from '../common/enums';
import type { ScriptStatement } from '../db/transaction-script';
import type { DeliveryAttempt } from './delivery-attempt.entity';
import type { Delivery } from './delivery.entity';
import type { AttemptRecord, ClaimedFrom } from './delivery-state';
import type { NextStep, RetrySettings } from './retry-schedule';

export interface ClaimedDelivery {
  /** As committed by the claim: SENDING, held by `delivery.leaseOwner` until `delivery.dueAt`. */
  delivery: Delivery;
  /** Where an unstarted claim goes back to on release. */
  claimedFrom: ClaimedFrom;
  /** The callback's signing secret as it is now (also for a soft-deleted callback); null: unsigned. */
  signingSecret: string | null;
  /** The rotated-out secret while its overlap lasts (rotateSigningSecret): it signs too. */
  previousSigningSecret?: string | null;
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

export interface ClaimOptions {
  /**
   * Deliveries of these callbacks are left where they are (a paused callback, an open circuit,
   * a spent rate limit): not claimed, not taken over.
   */
  skipCallbackIds?: ReadonlySet<string>;
  /** Only this callback's deliveries (the probe of a paused callback); skipCallbackIds is then ignored. */
  onlyCallbackId?: string;
}

/** The signing keys a claim is sent with (ClaimedDelivery's). */
export interface SigningKeys {
  signingSecret: string | null;
  previousSigningSecret: string | null;
}

/**
 * Deliveries to insert already claimed by `leaseOwner` (queue's third argument): no separate
 * claim write. Only those listed that are PENDING and due when the transaction runs are
 * claimed (a delaySeconds due time is not); each gets the lease a claim would give it.
 */
export interface QueueClaim {
  leaseOwner: string;
  /** By delivery id: the keys it is signed with (its callback's, as it was rendered). */
  keys: ReadonlyMap<string, SigningKeys>;
}

/** Rows of another table written in the same transaction as queued deliveries (the event, for the outbox). */
export interface CompanionRows {
  entity: EntityTarget<ObjectLiteral>;
  rows: readonly ObjectLiteral[];
}

/** A page filter, already checked (ids are UUIDs). */
export interface DeliveryPageFilter {
  appId?: string | null;
  networkId?: string | null;
  callbackId?: string | null;
  eventId?: string | null;
  statuses?: readonly DeliveryStatus[] | null;
}

/** redeliverMany's selection, already checked: a createdAt window [from, to) and equality filters. */
export interface RedeliverWindow {
  appId?: string | null;
  networkId?: string | null;
  callbackId?: string | null;
  /** DELIVERED and/or FAILED. */
  statuses: readonly DeliveryStatus[];
  from: Date;
  to: Date;
}

/** Where the next batch of a window starts (keyset on createdAt, id). */
export interface WindowCursor {
  createdAt: Date;
  id: string;
}

export interface DeliveryPage {
  deliveries: Delivery[];
  hasNextPage: boolean;
}

/** Deliveries not yet final, by status. */
export type QueueDepth = Record<DeliveryStatus.PENDING | DeliveryStatus.SENDING | DeliveryStatus.RETRYING, number>;

/**
 * A rollup kept in the same transaction as the attempts it counts (e.g. per-callback stats).
 * SQL stores run the statements with the attempt rows; a failing statement rolls the attempts
 * back. The memory store calls it and ignores the statements.
 */
export interface AttemptRollup {
  statementsFor(recorded: readonly RecordedAttempt[]): ScriptStatement[];
  /** With the outbox insert of these deliveries. */
  statementsForQueued?(deliveries: readonly Delivery[]): ScriptStatement[];
  /** With a redeliver: these deliveries left `from` (DELIVERED or FAILED) for a new round. */
  statementsForReopened?(reopened: readonly { delivery: Delivery; from: DeliveryStatus }[]): ScriptStatement[];
}

export interface DeliveryStoreOptions {
  /** DISPATCH_LEASE_MS: the floor of every lease (see lease.ts). */
  leaseMs: number;
  /** For taking over expired leases (their lost attempt is scheduled like any failed one). */
  retry: RetrySettings;
  random?: () => number;
  rollup?: AttemptRollup;
}

export interface DeliveryStore {
  /**
   * The outbox insert: `deliveries` (PENDING, as rendered) and `companions` in one transaction.
   * With `claim`, the due ones it lists are inserted SENDING under a lease instead (as
   * claimAnnounced would leave them) and returned as claims, in the order of `deliveries`.
   */
  queue(deliveries: readonly Delivery[], companions?: readonly CompanionRows[], claim?: QueueClaim): Promise<ClaimedDelivery[]>;

  /**
   * Claims up to `limit` due deliveries, oldest due first, for `leaseOwner`. Due SENDING rows
   * (a dead holder's) are taken over on the way: they count toward the limit but are not
   * claimed for sending, since the retry policy schedules their next attempt.
   */
  claimDue(leaseOwner: string, limit: number, options?: ClaimOptions): Promise<DueClaim>;
  /**
   * Claims deliveries this process has just queued, from the copies it committed: only rows
   * still exactly as announced (PENDING, due, not touched since) are taken; the rest are skipped.
   */
  claimAnnounced(leaseOwner: string, announced: readonly Delivery[], options?: ClaimOptions): Promise<ClaimedDelivery[]>;
  /**
   * Records one attempt of a claimed delivery and its next status. Null, recording nothing,
   * when the claimer no longer holds the lease (its delivery was taken over).
   */
  recordAttempt(item: AttemptToRecord): Promise<RecordedAttempt | null>;
  /** recordAttempt for many, in as few transactions as the store can; results in the order of `items`. */
  recordAttempts(items: readonly AttemptToRecord[]): Promise<(RecordedAttempt | null)[]>;
  /** Puts claims that never started back in their due state, for any worker to take at once. */
  release(claims: readonly ClaimedDelivery[]): Promise<Delivery[]>;
  /**
   * A new round of attempts for a DELIVERED or FAILED delivery (delivery-state.ts
   * redeliverChanges). NOT_FOUND when there is no such delivery, CONFLICT while in progress.
   */
  redeliver(id: string): Promise<Delivery>;
  /**
   * redeliverMany, one batch: up to `limit` matching deliveries of the window after `after` (in
   * createdAt, id order) redelivered as `redeliver` would, in one short transaction. `next`: the
   * cursor of the following batch; null when the window is done. `dueAtOf(i)`: the due time of
   * the batch's i-th delivery (in that order) instead of now (a paced replay, redeliver-pace.ts).
   */
  redeliverBatch(
    window: RedeliverWindow,
    after: WindowCursor | null,
    limit: number,
    dueAtOf?: (index: number) => Date,
  ): Promise<{ redelivered: Delivery[]; next: WindowCursor | null }>;
  /** Deliveries of the window matching its filters (statuses aside) that are PENDING, SENDING or RETRYING. */
  countInProgress(window: RedeliverWindow): Promise<number>;
  /** The earliest dueAt of any live delivery (a lease end for SENDING ones); null when none is live. */
  nextDueAt(): Promise<Date | null>;

  findById(id: string): Promise<Delivery | null>;
  /** Every delivery of these events, oldest first. */
  findByEvents(eventIds: readonly string[]): Promise<Delivery[]>;
  /** Attempts of these deliveries, oldest first per delivery. */
  attemptsOf(deliveryIds: readonly string[]): Promise<Map<string, DeliveryAttempt[]>>;
  /** Newest first (ids are UUIDv7), below `beforeId` when given. */
  page(filter: DeliveryPageFilter, size: number, beforeId: string | null): Promise<DeliveryPage>;
  /** Whether any delivery matches (all given fields must match). */
  exists(filter: Pick<DeliveryPageFilter, 'appId' | 'networkId' | 'eventId'>): Promise<boolean>;
  queueDepth(): Promise<QueueDepth>;
  /** The earliest dueAt of a PENDING or RETRYING delivery due at `now`; null when none is due. */
  oldestDueAt(now: Date): Promise<Date | null>;
}
