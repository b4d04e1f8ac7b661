// The dispatch loop: claims deliveries, sends them, records every attempt. It runs inside the
// API process (DISPATCHER=inline) or alone in `npm run worker`, any number of them against one
// database; the lease (deliveries/lease.ts) keeps them from sending the same attempt. Rows are
// the DeliveryStore's; the loop announces every change the store committed on the DeliveryHub.
//
// Wake-ups, so no delivery waits on a coarse poll:
// - queued: deliveries this process is about to store take free slots first (reserve): they
//   are inserted already claimed, in the outbox transaction, and start when it commits, with
//   no claim write of their own. The DeliveryHub announces the rest once stored; their ids
//   are claimed at once (the first attempt starts without any polling delay);
// - a slot frees: a finished attempt makes room, and the loop claims again;
// - due: a timer wakes the loop at the earliest due time it knows (the database's MIN(dueAt),
//   or a retry this process just scheduled), and at least every MAX_SCAN_INTERVAL_MS for what
//   other processes scheduled (scan-schedule.ts).
//
// Two limits on sending: DISPATCH_CONCURRENCY requests out in all, and each callback's own
// limit, learnt from its answer times (adaptive-concurrency.ts). Claims and recordings are
// sized by DISPATCH_BATCH_SIZE (at least DISPATCH_CONCURRENCY) whatever those limits: their
// batches are what makes a drain fast, not the number of requests out.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../common/clock';
import type { Logger } from '../common/logger';
import { MAX_CALLBACK_TIMEOUT_MS } from '../config/config';
import type { Delivery } from '../deliveries/delivery.entity';
import type { DeliveryAttempt } from '../deliveries/delivery-attempt.entity';
import type { DeliveryHub, QueueReservation } from '../deliveries/delivery-hub';
import type { AttemptToRecord, ClaimedDelivery, ClaimOptions, DeliveryStore, RecordedAttempt, SigningKeys } from '../deliveries/delivery-store';
import { DeliveryStatus } from '../common/enums';
import { canStartBeforeLeaseEnds, RECORDING_ALLOWANCE_MS } from '../deliveries/lease';
import { type AttemptOutcome, decideNextStep, type RetrySettings } from '../deliveries/retry-schedule';
import { GroupCommit } from '../db/group-commit';
import { attemptFromResult, classifyAttempt } from './attempt-classification';
import type { PostbackSender, SendErrorKind } from './sender';
import { earliest, MAX_SCAN_INTERVAL_MS, msUntilNextScan } from './scan-schedule';
import type { CallbackHealthMonitor } from './callback-health-monitor';
import { breakerSignalOf } from './circuit-breaker';
import { type AdaptiveLimitSettings, answerOf, CallbackConcurrency, fixedCallbackConcurrency } from './adaptive-concurrency';
import type { SendRateLimiter } from './send-rate-limiter';
import { ReadyQueue } from './ready-queue';

/**
 * Hooks for metrics and tests; the loop calls them and ignores what they throw. Everything is
 * optional (see NO_OP_OBSERVER).
 */
export interface DispatchObserver {
  /** A claim took deliveries for sending (`via`: announced by this process, or found by the due scan). */
  claimed(count: number, via: 'queued' | 'scan'): void;
  /** An attempt was made and recorded (a refused destination included). */
  attemptFinished(event: AttemptFinished): void;
  /** A delivery reached DELIVERED or FAILED. */
  deliveryFinished(delivery: Delivery): void;
  /** The address guard refused the destination: nothing was sent, and the delivery FAILED. */
  refused(delivery: Delivery, attempt: DeliveryAttempt): void;
  /** Deliveries whose holder's lease had run out were taken over, their lost attempt counted. */
  takenOver(deliveries: Delivery[]): void;
  /** This worker's result came after its lease had been taken over; it was not recorded. */
  leaseLost(delivery: Delivery): void;
  /** Claiming or recording failed (database errors); the loop carries on. */
  failed(stage: 'claim' | 'record', error: unknown): void;
  /** Claims of a callback over its maxRequestsPerSecond went back to the queue. */
  rateLimited(callbackId: string, count: number): void;
  /** A claimed delivery started after waiting for its callback's own concurrency limit. */
  waitedForCallbackLimit(callbackId: string): void;
}

export interface AttemptFinished {
  /** As committed after the attempt. */
  delivery: Delivery;
  attempt: DeliveryAttempt;
  outcome: AttemptOutcome;
  errorKind: SendErrorKind | null;
}

export const NO_OP_OBSERVER: DispatchObserver = {
  claimed: () => undefined,
  attemptFinished: () => undefined,
  deliveryFinished: () => undefined,
  refused: () => undefined,
  takenOver: () => undefined,
  leaseLost: () => undefined,
  failed: () => undefined,
  rateLimited: () => undefined,
  waitedForCallbackLimit: () => undefined,
};

export interface DispatcherSettings {
  /** DISPATCH_CONCURRENCY: requests out at most. */
  concurrency: number;
  /**
   * DISPATCH_BATCH_SIZE: the slots that size claims, reservations and recordings (claimed and
   * not yet answered, half as many again claimed ahead; answers waiting to be recorded). Never
   * below `concurrency`, which it is when unset.
   */
  batchSize?: number;
  /**
   * Requests out to one callback at once (DISPATCH_CALLBACK_CONCURRENCY): learnt per callback
   * between minLimit and maxLimit (CallbackConcurrency). Unset here: every callback may have
   * `concurrency` out (the service always sets it, adaptive unless configured).
   */
  callbackConcurrency?: AdaptiveLimitSettings;
  retry: RetrySettings;
  /** How long stop() waits for attempts in flight before leaving them to lease takeover. */
  shutdownGraceMs?: number;
  maxScanIntervalMs?: number;
}

/** Every attempt ends within its timeout (≤ MAX_CALLBACK_TIMEOUT_MS) and is then recorded. */
export const DEFAULT_SHUTDOWN_GRACE_MS = MAX_CALLBACK_TIMEOUT_MS + RECORDING_ALLOWANCE_MS;
/** A probe is held this long by the process that took it: its attempt ends and is recorded within it. */
export const PROBE_LEASE_MS = DEFAULT_SHUTDOWN_GRACE_MS;
/** After a database error the loop looks again this much later, instead of spinning on it. */
export const CLAIM_ERROR_PAUSE_MS = 1000;
/** Ids announced by the hub and not claimed yet; past this the due scan finds the rest. */
export const MAX_ANNOUNCED_IDS = 10_000;
/** Attempts recorded in one transaction at most. */
export const MAX_ATTEMPTS_PER_RECORDING = 256;
/** Recording transactions running at once: one, so each carries every result that came in while the previous one committed. */
export const RECORDING_FLUSHES = 1;

export interface DispatcherDeps {
  store: DeliveryStore;
  hub: DeliveryHub;
  sender: PostbackSender;
  clock: Clock;
  logger: Logger;
  settings: DispatcherSettings;
  observer?: Partial<DispatchObserver>;
  workerId?: string;
  random?: () => number;
  /** Asked before every claim: deliveries of callbacks to leave alone for now (none by default). */
  claimOptions?: () => ClaimOptions;
  /** The circuit breaker: paused and disabled callbacks' deliveries wait; a paused one is probed. */
  health?: CallbackHealthMonitor;
  /** Holds maxRequestsPerSecond (the limits are the health monitor's); closed by stop(). */
  rateLimiter?: SendRateLimiter;
  /** Answer times for the callbacks' concurrency limits (ms, monotonic); performance.now by default. */
  monotonicMs?: () => number;
}

/**
 * Claims waiting for their own callback's limit, beyond which the loop claims no more (and no
 * claim takes more than the rest of it): a full claim's worth, so a drain to one callback with
 * a low limit still claims in large batches (their leases run while they wait; one that runs
 * short is released unsent).
 */
export function maxWaitingForCallbacks(batchSize: number): number {
  return batchSize + claimAhead(batchSize);
}

/** A queued delivery that may be sent now: PENDING and due (not delayed by delaySeconds or a retry). */
function sendableNow(delivery: Delivery, nowMs: number): boolean {
  return delivery.status === DeliveryStatus.PENDING && delivery.dueAt !== null && delivery.dueAt.getTime() <= nowMs;
}

/** Identifies this process as a lease holder (the column is 64 characters). */
export function newWorkerId(): string {
  return `${hostname().slice(0, 40)}:${process.pid}:${randomBytes(4).toString('hex')}`.slice(0, 64);
}

/** How many deliveries are claimed beyond the batch (see Dispatcher.ready). */
export function claimAhead(batchSize: number): number {
  return Math.floor(batchSize / 2);
}

/**
 * How many free slots make a claim worth its transaction. Each claim costs a round trip and a
 * commit; refilling one slot at a time under load would spend as much on claiming as on
 * recording. When nothing is in flight any free slot is enough, so an idle process starts a
 * single new delivery at once.
 */
export function worthClaiming(free: number, inFlight: number, batchSize: number): boolean {
  if (free <= 0) return false;
  return inFlight === 0 || free >= Math.max(1, Math.floor(batchSize / 8));
}

export class Dispatcher {
  readonly workerId: string;
  private readonly observer: DispatchObserver;
  private readonly log: Logger;
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  /** Announced by the hub, not claimed yet, as announced; a Map keeps arrival order and drops repeats. */
  private readonly announced = new Map<string, Delivery>();
  /** Every attempt until it is recorded (or given up on), by delivery id. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /**
   * Attempts whose request is still out: what DISPATCH_CONCURRENCY bounds. A slot frees as soon
   * as the answer is in, so the next claim overlaps with recording the last results instead of
   * waiting for them (under load the loop would otherwise go claim, send, record, claim… in
   * lock-step, idle during every claim). Results waiting to be recorded hold claiming back:
   * no claim or reservation while `batchSize` of them wait (the claims already ready still
   * start, so at most those more can come to wait).
   */
  private sending = 0;
  /**
   * Claimed ahead of a free slot, in claim order: under load the next claim runs while slots
   * are still busy, so a slot that frees starts its next attempt at once instead of waiting a
   * claim's round trips. Up to half a batch beyond the batch, less what is sending; given back
   * on stop. Queued per callback (ready-queue.ts): a callback at its own limit keeps its claims
   * there, up to maxWaitingForCallbacks more.
   */
  private readonly ready = new ReadyQueue<ClaimedDelivery>();
  /**
   * Free slots held for deliveries being queued by this process (reserve), until their write
   * commits (they start) or fails (the slots are free again); their ids, which the hub's
   * `queued` announcement then leaves to them; and each reservation until it settles.
   */
  private reservedSlots = 0;
  private readonly reservedIds = new Set<string>();
  private readonly reservations = new Set<Promise<void>>();
  private scanDue = true;
  private nextDueAt: Date | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private unsubscribe: (() => void) | null = null;
  private stopping: Promise<void> | null = null;
  /**
   * Attempts that finish while others are being recorded are recorded together, in one
   * transaction (group commit; DeliveryStore.recordAttempts): a handful of statements per
   * group instead of a transaction per attempt.
   */
  private readonly recorder: GroupCommit<AttemptToRecord, RecordedAttempt | null>;
  /** Deliveries claimed as the probe of a paused callback. */
  private readonly probes = new Set<string>();
  /** Callbacks whose send limit is spent, until the epoch ms their next window opens. */
  private readonly spentUntil = new Map<string, number>();
  /**
   * Claims started under a send permit, by delivery id: the epoch ms the permit's second ends.
   * A claim that has not started by then goes back to the queue (its permit counted in a
   * second that is over; starting it later would put it in the next second's count unasked).
   */
  private readonly permitEnds = new Map<string, number>();
  /** The callbacks' limits: as configured, or every slot for each when callbackConcurrency is unset. */
  private readonly callbackLimits: AdaptiveLimitSettings;
  /** Requests out per callback, against each one's learnt limit. */
  private readonly perCallback: CallbackConcurrency;
  /** Whether a callback's own limit can ever be below DISPATCH_CONCURRENCY (not when DISPATCH_CALLBACK_CONCURRENCY fixes it there). */
  private readonly callbacksMayWait: boolean;
  private readonly monotonicMs: () => number;
  /** settings.batchSize, never below settings.concurrency. */
  private readonly batchSize: number;

  constructor(private readonly deps: DispatcherDeps) {
    this.batchSize = Math.max(deps.settings.batchSize ?? 0, deps.settings.concurrency);
    this.callbackLimits = deps.settings.callbackConcurrency ?? fixedCallbackConcurrency(deps.settings.concurrency);
    this.monotonicMs = deps.monotonicMs ?? (() => performance.now());
    this.perCallback = new CallbackConcurrency(this.callbackLimits, deps.random, this.monotonicMs);
    this.callbacksMayWait = this.callbackLimits.minLimit < deps.settings.concurrency;
    this.recorder = new GroupCommit(
      async (items) => {
        const recorded = await deps.store.recordAttempts(items);
        this.announce(recorded.flatMap((r) => (r ? [r.delivery] : [])));
        return recorded;
      },
      { maxConcurrent: RECORDING_FLUSHES, maxWeight: MAX_ATTEMPTS_PER_RECORDING },
    );
    this.workerId = deps.workerId ?? newWorkerId();
    this.observer = { ...NO_OP_OBSERVER, ...deps.observer };
    this.log = deps.logger.child({ component: 'dispatcher', workerId: this.workerId });
  }

  get attemptsInFlight(): number {
    return this.inFlight.size;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  start(): void {
    if (this.state !== 'new') throw new Error(`the dispatcher cannot start when ${this.state}`);
    this.state = 'running';
    const offQueued = this.deps.hub.onQueued((deliveries) => this.onQueued(deliveries));
    const offClaimer = this.deps.hub.setQueueClaimer({ reserve: (deliveries, keys) => this.reserve(deliveries, keys) });
    this.unsubscribe = () => {
      offQueued();
      offClaimer();
    };
    const { minLimit, maxLimit } = this.callbackLimits;
    const callbackConcurrency = minLimit === maxLimit ? maxLimit : `adaptive ${minLimit}–${maxLimit}`;
    this.log.info({ concurrency: this.deps.settings.concurrency, batchSize: this.batchSize, callbackConcurrency }, 'dispatcher started');
    const health = this.deps.health;
    if (health) {
      // Nothing is claimed before the paused and disabled callbacks are known.
      health.onUpdate(() => this.wake());
      void health.start().finally(() => this.kick());
      return;
    }
    this.kick();
  }

  /**
   * Stops claiming, lets attempts in flight finish and record (at most shutdownGraceMs), and
   * puts claimed-but-unstarted deliveries back for any worker. Attempts still running after
   * the grace period are left to lease takeover. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  /**
   * Look for due deliveries now rather than at the next scheduled scan: for a signal from
   * another process (deliveries queued on an API node without an inline dispatcher).
   */
  wake(): void {
    if (this.state !== 'running') return;
    this.scanDue = true;
    this.kick();
  }

  private async shutDown(): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.announced.clear();
    if (wasRunning) {
      // A claim under way finishes; the loop sees `stopping` and releases what it got.
      await this.pumping;
      await this.release(this.ready.drain());
      const grace = this.deps.settings.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
      let graceTimer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        // A reservation's write commits (its claims are then released) or fails.
        Promise.allSettled([...this.reservations]).then(() => Promise.allSettled([...this.inFlight.values()])).then(() => true),
        new Promise<false>((resolve) => {
          graceTimer = setTimeout(() => resolve(false), grace);
        }),
      ]);
      clearTimeout(graceTimer);
      if (!finished) {
        this.log.warn({ inFlight: this.inFlight.size, graceMs: grace }, 'stopped waiting for attempts in flight; other workers take them over when their leases end');
      }
    }
    await this.deps.health?.stop();
    await this.deps.rateLimiter?.close();
    await this.deps.sender.close();
    this.state = 'stopped';
    this.log.info('dispatcher stopped');
  }

  /**
   * Free slots for deliveries about to be queued by this process: those it may send now (due,
   * their callback neither paused, disabled nor out of send permits) up to the free slots, to
   * be inserted already claimed. Not when results wait to be recorded for every slot, nor
   * before the held callbacks are known.
   */
  reserve(deliveries: readonly Delivery[], keys: (delivery: Delivery) => SigningKeys): QueueReservation | null {
    if (this.state !== 'running') return null;
    if (this.deps.health && !this.deps.health.ready) return null;
    const { batchSize } = this;
    if (this.inFlight.size - this.sending >= batchSize) return null;
    // Those of a callback at its own limit wait in `ready` once started, as claimed ones do, within the same bound.
    const waiting = this.waitingForCallbacks();
    if (waiting + this.reservedSlots >= maxWaitingForCallbacks(batchSize)) return null;
    // Claims already waiting for a request slot (every one of DISPATCH_CONCURRENCY's is out): a
    // reservation would start ahead of them, and under a steady overload keep them waiting until
    // their leases ran out. New deliveries are stored PENDING and claimed after them instead.
    if (this.ready.length > waiting) return null;
    const free = batchSize - this.sending - this.reservedSlots;
    if (free <= 0) return null;
    const now = this.deps.clock.now().getTime();
    // What claimOptions() leaves out, asked per callback: no set of every held callback per call.
    const skipped = this.deps.claimOptions?.().skipCallbackIds;
    // A callback with claims in `ready` (at its own limit) is held too: a delivery inserted claimed would start ahead of them.
    const held = (callbackId: string) =>
      skipped?.has(callbackId) === true || this.deps.health?.isHeld(callbackId) === true || (this.spentUntil.get(callbackId) ?? 0) > now || this.ready.has(callbackId);
    const taken = new Map<string, SigningKeys>();
    const copies: Delivery[] = [];
    for (const delivery of deliveries) {
      if (taken.size >= free) break;
      if (!sendableNow(delivery, now)) continue;
      if (held(delivery.callbackId) || this.reservedIds.has(delivery.id)) continue;
      taken.set(delivery.id, keys(delivery));
      copies.push(delivery);
    }
    if (taken.size === 0) return null;
    const slots = taken.size;
    this.reservedSlots += slots;
    for (const id of taken.keys()) this.reservedIds.add(id);
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    this.reservations.add(settled);
    let done = false;
    const finish = () => {
      if (done) return false;
      done = true;
      this.reservedSlots -= slots;
      for (const id of taken.keys()) this.reservedIds.delete(id);
      return true;
    };
    // stop() waits for it until its claims are launched (or released).
    void settled.then(() => this.reservations.delete(settled));
    return {
      claim: { leaseOwner: this.workerId, keys: taken },
      started: (claims) => {
        if (!finish()) return;
        this.announce(claims.map((c) => c.delivery));
        // Any the store did not insert claimed are stored PENDING: claimed as announced ones are.
        const started = new Set(claims.map((c) => c.delivery.id));
        const unclaimed = copies.filter((d) => !started.has(d.id));
        void this.launch(claims, 'queued', true).finally(() => {
          settle();
          if (unclaimed.length > 0) this.onQueued(unclaimed);
        });
      },
      cancelled: () => {
        if (!finish()) return;
        settle();
        this.kick();
      },
    };
  }

  private onQueued(deliveries: Delivery[]): void {
    if (this.state !== 'running') return;
    if (this.callbacksMayWait) {
      // What this process queues sets a floor under each callback's limit (inflowFloor).
      const now = this.deps.clock.now().getTime();
      for (const delivery of deliveries) {
        if (sendableNow(delivery, now)) this.perCallback.queued(delivery.callbackId);
      }
    }
    for (const delivery of deliveries) {
      // Inserted claimed by this process (reserve): they start when their write returns.
      if (this.reservedIds.has(delivery.id)) continue;
      if (this.announced.size >= MAX_ANNOUNCED_IDS) {
        this.scanDue = true;
        break;
      }
      this.announced.set(delivery.id, delivery);
    }
    this.kick();
  }

  /** Runs the claim loop unless it is running; then it goes round once more. */
  private kick(): void {
    if (this.state !== 'running') return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      this.scheduleScan();
    });
  }

  private async pump(): Promise<void> {
    do {
      this.pumpAgain = false;
      await this.claimWhatFits();
    } while (this.pumpAgain && this.state === 'running');
  }

  /** What every claim leaves alone: the caller's choice and the held (paused, disabled) callbacks. */
  private claimOptions(): ClaimOptions {
    const base = this.deps.claimOptions?.() ?? {};
    const held = this.deps.health?.heldIds() ?? new Set<string>();
    const now = this.deps.clock.now().getTime();
    for (const [id, until] of this.spentUntil) {
      if (until > now) held.add(id);
      else this.spentUntil.delete(id);
    }
    if (held.size === 0) return base;
    for (const id of base.skipCallbackIds ?? []) held.add(id);
    return { ...base, skipCallbackIds: held };
  }

  /** One probe for each paused callback whose pause is over, taken by one process only. */
  private async startProbes(): Promise<void> {
    const health = this.deps.health;
    if (!health) return;
    for (const callbackId of health.dueProbes(this.deps.clock.now())) {
      if (this.state !== 'running') return;
      try {
        if (!(await health.takeProbe(callbackId, PROBE_LEASE_MS))) continue;
        const due = await this.deps.store.claimDue(this.workerId, 1, { onlyCallbackId: callbackId });
        this.announce([...due.takenOver, ...due.claimed.map((c) => c.delivery)]);
        if (due.claimed.length === 0) {
          // Nothing queued to probe with: the next delivery of this callback will be.
          await health.returnProbe(callbackId);
          continue;
        }
        for (const claim of due.claimed) this.probes.add(claim.delivery.id);
        this.log.info({ callbackId, deliveryId: due.claimed[0]?.delivery.id }, 'probing a paused callback');
        await this.launch(due.claimed, 'scan');
      } catch (error) {
        this.claimFailed(error);
      }
    }
  }

  private async claimWhatFits(): Promise<void> {
    const { batchSize } = this;
    // Not before the paused, disabled and limited callbacks are known.
    if (this.deps.health && !this.deps.health.ready) return;
    if (this.deps.health && this.scanDue) await this.startProbes();
    while (this.state === 'running') {
      if (this.inFlight.size - this.sending >= batchSize) return;
      // Claims waiting for their own callback's limit leave the slots to other callbacks' claims, up to a point.
      const waiting = this.waitingForCallbacks();
      if (waiting >= maxWaitingForCallbacks(batchSize)) return;
      const free = Math.min(batchSize + claimAhead(batchSize) - this.sending - (this.ready.length - waiting) - this.reservedSlots, maxWaitingForCallbacks(batchSize) - waiting);
      if (!worthClaiming(free, this.sending + this.ready.length, batchSize)) return;

      if (this.announced.size > 0) {
        const announced = takeFirst(this.announced, free);
        let claims: ClaimedDelivery[];
        try {
          claims = await this.deps.store.claimAnnounced(this.workerId, announced, this.claimOptions());
        } catch (error) {
          // They are stored as due; the scan finds them once the database answers again.
          this.claimFailed(error);
          return;
        }
        this.announce(claims.map((c) => c.delivery));
        if (!(await this.launch(claims, 'queued'))) return;
        continue;
      }

      if (!this.scanDue) return;
      this.scanDue = false;
      try {
        const due = await this.deps.store.claimDue(this.workerId, free, this.claimOptions());
        this.announce([...due.takenOver, ...due.claimed.map((c) => c.delivery)]);
        if (due.takenOver.length > 0) this.notify('takenOver', due.takenOver);
        if (!(await this.launch(due.claimed, 'scan'))) return;
        if (due.filled) {
          this.scanDue = true;
          continue;
        }
        this.nextDueAt = earliest(this.nextDueAt, await this.deps.store.nextDueAt());
        this.nextDueAt = earliest(this.nextDueAt, this.deps.health?.nextProbeAt() ?? null);
      } catch (error) {
        this.claimFailed(error);
      }
      return;
    }
  }

  /**
   * maxRequestsPerSecond: of the claims of a limited callback, as many as this second's window
   * grants are kept; the rest go back to the queue unsent and uncounted, and the callback is
   * left out of claims until its next window opens.
   */
  private async withinRateLimits(claims: ClaimedDelivery[]): Promise<ClaimedDelivery[]> {
    const limiter = this.deps.rateLimiter;
    const limits = this.deps.health?.limits();
    if (!limiter || !limits || limits.size === 0) return claims;
    const byCallback = new Map<string, ClaimedDelivery[]>();
    for (const claim of claims) {
      if (!limits.has(claim.delivery.callbackId)) continue;
      const list = byCallback.get(claim.delivery.callbackId);
      if (list) list.push(claim);
      else byCallback.set(claim.delivery.callbackId, [claim]);
    }
    if (byCallback.size === 0) return claims;
    const refused = new Set<ClaimedDelivery>();
    for (const [callbackId, group] of byCallback) {
      let granted = 0;
      let nextWindowAt = this.deps.clock.now().getTime() + 1000;
      try {
        const grant = await limiter.acquire(callbackId, group.length, limits.get(callbackId) as number);
        granted = grant.granted;
        nextWindowAt = grant.nextWindowAt;
      } catch (error) {
        // Without the shared count the limit cannot be known to hold: send nothing this second.
        this.log.warn({ err: error, callbackId }, 'could not take send permits; holding the callback for a second');
      }
      for (const claim of group.slice(0, granted)) this.permitEnds.set(claim.delivery.id, nextWindowAt);
      if (granted >= group.length) continue;
      for (const claim of group.slice(granted)) refused.add(claim);
      this.spentUntil.set(callbackId, nextWindowAt);
      this.nextDueAt = earliest(this.nextDueAt, new Date(nextWindowAt));
      this.notify('rateLimited', callbackId, group.length - granted);
    }
    if (refused.size === 0) return claims;
    await this.release([...refused]);
    this.scheduleScan();
    return claims.filter((c) => !refused.has(c));
  }

  /**
   * Starts the claimed attempts; when stopping, releases them instead and returns false.
   * `first`: ahead of what was claimed ahead (their slots were reserved for them).
   */
  private async launch(claims: ClaimedDelivery[], via: 'queued' | 'scan', first = false): Promise<boolean> {
    if (this.state !== 'running') {
      await this.release(claims);
      return false;
    }
    claims = await this.withinRateLimits(claims);
    if (this.state !== 'running') {
      // stop() began while send permits were taken: it has released what was ready already.
      await this.release(claims);
      return false;
    }
    if (claims.length > 0) this.notify('claimed', claims.length, via);
    this.ready.push(claims, first);
    this.startReady();
    return true;
  }

  /** Starts claimed attempts while slots are free. */
  private startReady(): void {
    const { concurrency } = this.deps.settings;
    const held: ClaimedDelivery[] = [];
    // Callbacks take turns (ready-queue.ts); one at its own limit keeps its claims in place.
    const pass = this.ready.pass((callbackId) => this.perCallback.hasRoom(callbackId));
    while (this.state === 'running' && this.sending < concurrency) {
      const next = pass.next();
      if (!next) break;
      // The circuit opened after the claim, or its send permit ran out: released, unsent and uncounted.
      if (!this.startClaim(next.claim, next.waited)) held.push(next.claim);
    }
    if (held.length > 0) void this.release(held);
  }

  /** Starts one claimed attempt in a free slot; false when it must not start (to be released). */
  private startClaim(claim: ClaimedDelivery, waited: boolean): boolean {
    const id = claim.delivery.id;
    const callbackId = claim.delivery.callbackId;
    if (!this.probes.has(id) && this.deps.health?.isHeld(callbackId)) return false;
    const permitEnd = this.permitEnds.get(id);
    if (permitEnd !== undefined) {
      this.permitEnds.delete(id);
      if (this.deps.clock.now().getTime() >= permitEnd) return false;
    }
    this.sending++;
    if (waited) this.notify('waitedForCallbackLimit', callbackId);
    const outWhenSent = this.perCallback.started(callbackId);
    const sentAt = this.monotonicMs();
    let answered = false;
    const slotFree = (answer?: { dropped: boolean }) => {
      if (answered) return;
      answered = true;
      this.sending--;
      if (answer) this.perCallback.answered(callbackId, this.monotonicMs() - sentAt, outWhenSent, answer.dropped);
      else this.perCallback.abandoned(callbackId);
      this.startReady();
      this.kick();
    };
    const run = this.attempt(claim, slotFree).finally(() => {
      slotFree();
      this.inFlight.delete(id);
      this.kick();
    });
    this.inFlight.set(id, run);
    return true;
  }

  /**
   * Whether this callback's own limit, below DISPATCH_CONCURRENCY, is what keeps its claims
   * waiting (at a limit of DISPATCH_CONCURRENCY it is the cap across all callbacks).
   */
  private atOwnLimit(callbackId: string): boolean {
    return !this.perCallback.hasRoom(callbackId) && this.perCallback.limitOf(callbackId) < this.deps.settings.concurrency;
  }

  /** Ready claims waiting for their own callback's limit. */
  private waitingForCallbacks(): number {
    // Asked on every recordEvent (reserve): nothing to count when no callback can wait.
    if (!this.callbacksMayWait) return 0;
    return this.ready.waitingFor((callbackId) => this.atOwnLimit(callbackId));
  }

  private async release(claims: ClaimedDelivery[]): Promise<void> {
    if (claims.length === 0) return;
    for (const claim of claims) this.permitEnds.delete(claim.delivery.id);
    try {
      const released = await this.deps.store.release(claims);
      this.announce(released);
      this.log.info({ released: released.length }, 'released claimed deliveries that had not started');
    } catch (error) {
      this.log.error({ err: error, deliveryIds: claims.map((c) => c.delivery.id) }, 'could not release claimed deliveries; they are taken over when their leases end');
    }
  }

  /** One attempt of one claimed delivery: send, classify, record. `answered()` once the request is over. Never rejects. */
  private async attempt(claim: ClaimedDelivery, answered: (answer?: { dropped: boolean }) => void): Promise<void> {
    const { clock, sender, settings } = this.deps;
    const held = claim.delivery;
    // Made only when something is logged: most attempts (delivered, at debug) log nothing.
    let child: Logger | null = null;
    const log = () => (child ??= this.log.child({ deliveryId: held.id, callbackId: held.callbackId, eventId: held.eventId }));
    try {
      if (!canStartBeforeLeaseEnds(clock.now(), held.dueAt ?? clock.now(), held.timeoutMs)) {
        log().warn({ leaseEndsAt: held.dueAt }, 'too little of the lease left to start the attempt; released');
        await this.release([claim]);
        return;
      }
      const number = held.attempts + 1;
      const result = await sender.send({
        deliveryId: held.id,
        method: held.method,
        url: held.url,
        headers: held.headers,
        body: held.body,
        timeoutMs: held.timeoutMs,
        signingSecret: claim.signingSecret,
        previousSigningSecret: claim.previousSigningSecret ?? null,
      });
      answered(answerOf(result));
      const probe = this.probes.delete(held.id);
      this.deps.health?.observe(held.callbackId, breakerSignalOf(result), probe);
      const outcome = classifyAttempt(result);
      const next = decideNextStep({
        attemptNumber: number,
        maxAttempts: held.maxAttempts,
        outcome,
        now: clock.now(),
        settings: settings.retry,
        random: this.deps.random,
      });
      let recorded;
      try {
        recorded = await this.recorder.submit({ claim, attempt: attemptFromResult(number, result), next });
      } catch (error) {
        log().error({ err: error, attempt: number }, 'could not record the attempt; the delivery is taken over when its lease ends');
        this.notify('failed', 'record', error);
        return;
      }
      if (!recorded) {
        log().warn({ attempt: number }, 'the lease was taken over before the attempt was recorded; result dropped');
        this.notify('leaseLost', held);
        return;
      }
      const { delivery, attempt } = recorded;
      const summary = { attempt: number, status: delivery.status, statusCode: result.statusCode, error: result.error, latencyMs: attempt.latencyMs };
      if (next.status === 'RETRYING') {
        log().info({ ...summary, nextAttemptAt: next.nextAttemptAt }, 'postback attempt failed; retry scheduled');
        this.nextDueAt = earliest(this.nextDueAt, next.nextAttemptAt);
        this.scheduleScan();
      } else if (next.status === 'FAILED') {
        log().warn(summary, 'postback failed');
      } else if (this.log.isLevelEnabled('debug')) {
        log().debug(summary, 'postback delivered');
      }
      this.notify('attemptFinished', { delivery, attempt, outcome, errorKind: result.errorKind });
      if (result.errorKind === 'blocked') this.notify('refused', delivery, attempt);
      if (next.status !== 'RETRYING') this.notify('deliveryFinished', delivery);
    } catch (error) {
      // Not expected: the sender never throws and recording is caught above.
      log().error({ err: error }, 'unexpected error in a postback attempt');
    }
  }

  /** After commit only. A failing listener must not undo or repeat a committed change. */
  private announce(deliveries: Delivery[]): void {
    if (deliveries.length === 0) return;
    try {
      this.deps.hub.statusChanged(deliveries);
    } catch (error) {
      this.log.error({ err: error, deliveryIds: deliveries.slice(0, 20).map((d) => d.id) }, 'a statusChanged listener failed');
    }
  }

  private claimFailed(error: unknown): void {
    this.log.error({ err: error }, 'claiming deliveries failed; trying again shortly');
    this.notify('failed', 'claim', error);
    this.scanDue = false;
    this.nextDueAt = new Date(this.deps.clock.now().getTime() + CLAIM_ERROR_PAUSE_MS);
  }

  /** (Re)arms the wake-up for the earliest known due time, at most MAX_SCAN_INTERVAL_MS away. */
  private scheduleScan(): void {
    if (this.state !== 'running') return;
    if (this.timer) clearTimeout(this.timer);
    const maxMs = this.deps.settings.maxScanIntervalMs ?? MAX_SCAN_INTERVAL_MS;
    const delay = msUntilNextScan(this.deps.clock.now(), this.nextDueAt, maxMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.scanDue = true;
      this.nextDueAt = null;
      this.kick();
    }, delay);
  }

  private notify<K extends keyof DispatchObserver>(hook: K, ...args: Parameters<DispatchObserver[K]>): void {
    try {
      (this.observer[hook] as (...a: Parameters<DispatchObserver[K]>) => void)(...args);
    } catch (error) {
      this.log.error({ err: error, hook }, 'a dispatch observer failed');
    }
  }
}

function takeFirst<T>(entries: Map<string, T>, count: number): T[] {
  const taken: T[] = [];
  for (const [id, value] of entries) {
    if (taken.length >= count) break;
    taken.push(value);
    entries.delete(id);
  }
  return taken;
}
