// The delivery state machine as pure functions: which columns each step writes. The store
// adapters (delivery-store.ts) apply them, with their guards against a lost lease.
//
//   PENDING ──claim──▶ SENDING ──attempt──▶ DELIVERED | FAILED | RETRYING ──claim──▶ SENDING …
//   SENDING whose lease ran out ──takeover──▶ RETRYING | FAILED (the lost attempt counted)
//   SENDING not yet started at shutdown ──release──▶ its previous PENDING | RETRYING
//   DELIVERED | FAILED ──redeliver──▶ PENDING
//
// dueAt is when a dispatcher must next look at the row: the attempt time while PENDING or
// RETRYING, the lease end while SENDING, NULL once DELIVERED or FAILED.
import { DeliveryStatus } from '../common/enums';
import { ConflictError } from '../common/errors';
import { Delivery } from './delivery.entity';
import { decideNextStep, type NextStep, type RetrySettings } from './retry-schedule';

export type DeliveryChanges = Partial<
  Pick<
    Delivery,
    | 'status'
    | 'attempts'
    | 'maxAttempts'
    | 'lastStatusCode'
    | 'lastError'
    | 'nextAttemptAt'
    | 'dueAt'
    | 'leaseOwner'
    | 'leaseRoom'
    | 'deliveredAt'
    | 'updatedAt'
  >
>;

/** Statuses in which a delivery is still in progress: it has a dueAt, and redeliver is a CONFLICT. */
export const IN_PROGRESS_STATUSES: readonly DeliveryStatus[] = [DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.RETRYING];
/** Statuses a due delivery is claimed from for sending. */
export const WAITING_STATUSES: readonly DeliveryStatus[] = [DeliveryStatus.PENDING, DeliveryStatus.RETRYING];

/**
 * The attempt recorded for a delivery whose holder's lease ran out before it recorded one.
 *
 * Why count it rather than send the same attempt number again: the holder may well have sent
 * it (it was SENDING), so re-sending under the same number would be two sends of one attempt,
 * which the contract rules out; and a postback that kills its worker every time (a response
 * that exhausts memory, a crash in a library) would otherwise be retried forever, because an
 * unrecorded attempt never counts against maxAttempts. Counted, it is treated like a
 * connection lost mid-request: retried on the normal schedule until maxAttempts runs out.
 */
export const LEASE_EXPIRED_ERROR = 'lease expired: the worker holding this delivery stopped before recording the attempt';

/** Error texts are ours or a socket library's; this only guards the column against a pathological one. */
export const MAX_ERROR_LENGTH = 2000;

export interface AttemptRecord {
  number: number;
  startedAt: Date;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseSnippet: string | null;
}

/** What a claim remembers, to put an unstarted delivery back as it was. */
export interface ClaimedFrom {
  status: DeliveryStatus;
  dueAt: Date | null;
}

/** The delivery as it stands after `changes`, a new object (entities handed to listeners are never mutated). */
export function applyChanges(delivery: Delivery, changes: DeliveryChanges): Delivery {
  return Object.assign(new Delivery(), delivery, changes);
}

export function claimChanges(leaseOwner: string, leaseEndsAt: Date, now: Date): DeliveryChanges {
  return { status: DeliveryStatus.SENDING, leaseOwner, dueAt: leaseEndsAt, updatedAt: now };
}

/**
 * A delivery inserted already claimed (DeliveryStore.queue with a QueueClaim): the row as the
 * claim of its PENDING copy would leave it, or null when it is not due yet (delaySeconds).
 */
export function claimedOnQueue(delivery: Delivery, leaseOwner: string, leaseEndsAt: Date, now: Date): Delivery | null {
  if (delivery.status !== DeliveryStatus.PENDING || delivery.dueAt === null || delivery.dueAt.getTime() > now.getTime()) return null;
  return applyChanges(delivery, claimChanges(leaseOwner, leaseEndsAt, now));
}

/** A callback's signing keys as of `now`: the rotated-out secret only while its overlap lasts. */
export function signingKeysAt(
  callback: { signingSecret: string | null; previousSigningSecret?: string | null; previousSecretExpiresAt?: Date | null },
  now: Date,
): { signingSecret: string | null; previousSigningSecret: string | null } {
  const expires = callback.previousSecretExpiresAt ?? null;
  const previous = callback.signingSecret && callback.previousSigningSecret && expires !== null && expires.getTime() > now.getTime() ? callback.previousSigningSecret : null;
  return { signingSecret: callback.signingSecret, previousSigningSecret: previous };
}

/** Back to the due state it was claimed from, so any worker takes it at once. */
export function releaseChanges(claimedFrom: ClaimedFrom, now: Date): DeliveryChanges {
  return { status: claimedFrom.status, dueAt: claimedFrom.dueAt ?? now, leaseOwner: null, updatedAt: now };
}

export function truncateError(error: string | null): string | null {
  if (error === null || error.length <= MAX_ERROR_LENGTH) return error;
  return `${error.slice(0, MAX_ERROR_LENGTH - 1)}…`;
}

/** The summary fields after an attempt: they always describe the latest attempt. */
export function attemptChanges(attempt: AttemptRecord, next: NextStep, now: Date): DeliveryChanges {
  const retryAt = next.status === 'RETRYING' ? next.nextAttemptAt : null;
  return {
    status: DeliveryStatus[next.status],
    attempts: attempt.number,
    lastStatusCode: attempt.statusCode,
    lastError: attempt.error,
    nextAttemptAt: retryAt,
    dueAt: retryAt,
    leaseOwner: null,
    deliveredAt: next.status === 'DELIVERED' ? now : null,
    updatedAt: now,
  };
}

/**
 * Taking over a SENDING delivery whose lease ended: its unrecorded attempt is recorded as
 * lost (see LEASE_EXPIRED_ERROR) and the retry policy decides what follows. The attempt's
 * start is when the lease was granted (updatedAt of the claim); how long it ran is unknown, so
 * latencyMs is 0 and the error says why.
 *
 * A lost attempt that would be the delivery's last gets one more attempt allowed (maxAttempts
 * + 1): the holder may have died before sending anything (a deploy, an OOM kill between claim
 * and send), and the contract promises that a dead holder's delivery is taken up again, not
 * given up. Only once: if the attempt before was lost too, the normal policy applies, so a
 * postback that kills every worker that sends it still ends FAILED.
 */
export function expiredLeaseTakeover(
  delivery: Delivery,
  now: Date,
  settings: RetrySettings,
  random?: () => number,
): { attempt: AttemptRecord; next: NextStep; changes: DeliveryChanges } {
  const attempt: AttemptRecord = {
    number: delivery.attempts + 1,
    startedAt: delivery.updatedAt,
    statusCode: null,
    latencyMs: 0,
    error: LEASE_EXPIRED_ERROR,
    responseSnippet: null,
  };
  const previousAlsoLost = delivery.lastError === LEASE_EXPIRED_ERROR;
  const maxAttempts = !previousAlsoLost && attempt.number >= delivery.maxAttempts ? attempt.number + 1 : delivery.maxAttempts;
  const next = decideNextStep({
    attemptNumber: attempt.number,
    maxAttempts,
    outcome: { kind: 'retryable', retryAfterMs: null },
    now,
    settings,
    random,
  });
  const changes = attemptChanges(attempt, next, now);
  return { attempt, next, changes: maxAttempts === delivery.maxAttempts ? changes : { ...changes, maxAttempts } };
}

/**
 * A new round for a finished delivery: the attempt history and count stay, and the callback's
 * maxAttempts more attempts are allowed from there. deliveredAt is cleared until it is
 * delivered again; lastStatusCode and lastError keep describing the latest attempt. Due at
 * `dueAt` (a paced redeliverMany), now by default.
 */
export function redeliverChanges(delivery: Delivery, callbackMaxAttempts: number, now: Date, dueAt: Date = now): DeliveryChanges {
  if (IN_PROGRESS_STATUSES.includes(delivery.status)) {
    throw new ConflictError(`delivery ${delivery.id} is still ${delivery.status}; only a DELIVERED or FAILED delivery can be redelivered`, {
      deliveryId: delivery.id,
      status: delivery.status,
    });
  }
  return {
    status: DeliveryStatus.PENDING,
    maxAttempts: delivery.attempts + callbackMaxAttempts,
    nextAttemptAt: dueAt,
    dueAt,
    leaseOwner: null,
    deliveredAt: null,
    updatedAt: now,
  };
}
