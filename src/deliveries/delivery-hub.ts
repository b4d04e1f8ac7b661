import { EventEmitter } from 'node:events';
import type { Delivery } from './delivery.entity';
import type { ClaimedDelivery, QueueClaim, SigningKeys } from './delivery-store';

/**
 * Free dispatcher slots held for deliveries about to be queued, so that they are inserted
 * already claimed (DeliveryStore.queue's QueueClaim). Exactly one of started() and cancelled()
 * must follow, after the write: until then the slots stay reserved.
 */
export interface QueueReservation {
  /** What to pass to queue() (the deliveries taken, with their signing keys). */
  readonly claim: QueueClaim;
  /** After commit: the claims queue() returned, to be sent at once. */
  started(claims: ClaimedDelivery[]): void;
  /** Nothing was written (the write failed, or another call's event won): the slots are free again. */
  cancelled(): void;
}

/** The inline dispatcher: reserves slots for deliveries this process is about to queue. */
export interface QueueClaimer {
  /** Null when there is no free slot (or nothing it may take); takes at most the free slots. */
  reserve(deliveries: readonly Delivery[], keys: (delivery: Delivery) => SigningKeys): QueueReservation | null;
}

/**
 * In-process notifications about deliveries, always fired after the change has committed:
 * - `queued`: new deliveries were stored (the inline dispatcher starts them at once);
 * - `scheduled`: deliveries were stored due later (a paced redeliverMany): counted, not
 *   claimed at once; dispatchers' due scans take them as they fall due;
 * - `statusChanged`: deliveries changed status, PENDING on queue included (subscriptions
 *   publish these, through Redis when configured).
 * Listeners must not throw; a failing listener is logged by whoever registered it.
 */
export class DeliveryHub {
  private readonly emitter = new EventEmitter();
  private claimer: QueueClaimer | null = null;

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  /** The inline dispatcher offers its free slots (one claimer per process); returns the undo. */
  setQueueClaimer(claimer: QueueClaimer): () => void {
    this.claimer = claimer;
    return () => {
      if (this.claimer === claimer) this.claimer = null;
    };
  }

  /** Slots for these deliveries before they are written; null without an inline dispatcher or a free slot. */
  reserveClaims(deliveries: readonly Delivery[], keys: (delivery: Delivery) => SigningKeys): QueueReservation | null {
    if (!this.claimer || deliveries.length === 0) return null;
    return this.claimer.reserve(deliveries, keys);
  }

  /**
   * `claimedHere`: how many of them this process inserted already claimed (reserveClaims); its
   * inline dispatcher sends those, so no other process needs waking for them.
   */
  queued(deliveries: Delivery[], claimedHere = 0): void {
    if (deliveries.length > 0) this.emitter.emit('queued', deliveries, claimedHere);
  }

  scheduled(deliveries: Delivery[]): void {
    if (deliveries.length > 0) this.emitter.emit('scheduled', deliveries);
  }

  statusChanged(deliveries: Delivery[]): void {
    if (deliveries.length > 0) this.emitter.emit('statusChanged', deliveries);
  }

  onQueued(listener: (deliveries: Delivery[], claimedHere: number) => void): () => void {
    this.emitter.on('queued', listener);
    return () => this.emitter.off('queued', listener);
  }

  onScheduled(listener: (deliveries: Delivery[]) => void): () => void {
    this.emitter.on('scheduled', listener);
    return () => this.emitter.off('scheduled', listener);
  }

  onStatusChanged(listener: (deliveries: Delivery[]) => void): () => void {
    this.emitter.on('statusChanged', listener);
    return () => this.emitter.off('statusChanged', listener);
  }
}
