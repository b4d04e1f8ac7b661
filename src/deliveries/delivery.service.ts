import type { DataSource } from 'typeorm';
import type { DeliveryStatus } from '../common/enums';
import { BadUserInputError } from '../common/errors';
import type { Logger } from '../common/logger';
import type { AccessFacts } from '../auth/scope';
import { Callback } from '../callbacks/callback.entity';
import { isUuid } from '../common/ids';
import type { Clock } from '../common/clock';
import type { DeliveryHub } from './delivery-hub';
import { advanceSlot, dueTimes, pauseAfterBatch, type ReplayPace, type ReplaySlot, startSlot } from './redeliver-pace';
import type { DeliveryPage, DeliveryStore, RedeliverWindow, WindowCursor } from './delivery-store';
import type { Delivery } from './delivery.entity';

export const DELIVERY_PAGE = { defaultSize: 20, maxSize: 100 } as const;

export interface DeliveryListFilter {
  appId?: string | null;
  networkId?: string | null;
  callbackId?: string | null;
  eventUuid?: string | null;
  statuses?: DeliveryStatus[] | null;
}

/**
 * Cursors are opaque to clients; inside they are the last delivery id seen. Ids are UUIDv7,
 * ordered by creation time, so "id below the cursor" pages newest first and a delivery
 * queued while a client pages lands above its first page instead of shifting the others.
 */
export function encodeCursor(deliveryId: string): string {
  return Buffer.from(`delivery:${deliveryId}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = text.startsWith('delivery:') ? text.slice('delivery:'.length) : '';
  if (!isUuid(id)) throw BadUserInputError.field('after', 'is not a cursor this API returned (use pageInfo.endCursor)');
  return id;
}

export function pageSize(first: number | null | undefined): number {
  if (first == null) return DELIVERY_PAGE.defaultSize;
  if (!Number.isInteger(first) || first < 0 || first > DELIVERY_PAGE.maxSize) {
    throw BadUserInputError.field('first', `must be from 0 to ${DELIVERY_PAGE.maxSize}, got ${first}`);
  }
  return first;
}

/** Deliveries redelivered per transaction by redeliverMany. */
export const REDELIVER_BATCH = 500;

/** The shortest pause between two batches of redeliverMany. */
export const MIN_REDELIVER_PAUSE_MS = 10;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Reading deliveries for the API, and redeliver; the rows themselves are the store's. */
export class DeliveryService implements AccessFacts {
  constructor(
    private readonly store: DeliveryStore,
    private readonly dataSource: DataSource,
    private readonly hub: DeliveryHub,
    private readonly logger: Logger,
    private readonly clock: Clock,
    /** redeliverMany's rate (REDELIVER_MAX_PER_SECOND). */
    private readonly pace: ReplayPace,
  ) {}

  findById(id: string): Promise<Delivery | null> {
    return this.store.findById(id);
  }

  /** Newest first. Each filter field narrows. */
  async list(filter: DeliveryListFilter, first: number | null | undefined, after: string | null | undefined): Promise<DeliveryPage> {
    const size = pageSize(first);
    for (const [field, value] of [['appId', filter.appId], ['networkId', filter.networkId], ['callbackId', filter.callbackId], ['eventUuid', filter.eventUuid]] as const) {
      // A malformed id matches nothing; saying so beats an empty page the client cannot explain.
      if (value != null && !isUuid(value)) throw BadUserInputError.field(`filter.${field}`, `must be an id (a UUID), got ${JSON.stringify(value)}`);
    }
    const beforeId = after != null ? decodeCursor(after) : null;
    return this.store.page({ appId: filter.appId, networkId: filter.networkId, callbackId: filter.callbackId, eventId: filter.eventUuid, statuses: filter.statuses }, size, beforeId);
  }

  /**
   * redeliverMany: the window in batches of REDELIVER_BATCH, each its own short transaction,
   * paced so that a replay of many thousands leaves live traffic its latency:
   * - the deliveries fall due at `pace.perSecond` (REDELIVER_MAX_PER_SECOND), in steps of one
   *   due time per REDELIVER_SLICE_MS or more (redeliver-pace.ts), and are not handed to the
   *   inline dispatcher at once: dispatchers' due scans take them as they fall due, so the
   *   sends are spread over the replay's whole span;
   * - after each batch the call waits at least as long as the batch took, so its write
   *   transactions take at most about half of the database's time.
   * It answers once every batch is written, with exact counts.
   */
  async redeliverMany(window: RedeliverWindow): Promise<{ queued: number; skipped: number }> {
    const skipped = await this.store.countInProgress(window);
    let queued = 0;
    let after: WindowCursor | null = null;
    let slot: ReplaySlot | null = null;
    let lastDueAt: Date | null = null;
    do {
      const batchStart = performance.now();
      const from: ReplaySlot = startSlot(slot, this.clock.now().getTime(), this.pace);
      const due = dueTimes(from, REDELIVER_BATCH, this.pace);
      const batch: { redelivered: Delivery[]; next: WindowCursor | null } = await this.store.redeliverBatch(window, after, REDELIVER_BATCH, (i) => new Date(due[i] as number));
      queued += batch.redelivered.length;
      slot = advanceSlot(from, batch.redelivered.length, this.pace);
      if (batch.redelivered.length > 0) {
        lastDueAt = new Date(due[batch.redelivered.length - 1] as number);
        try {
          this.hub.statusChanged(batch.redelivered);
          this.hub.scheduled(batch.redelivered);
        } catch (error) {
          this.logger.error({ err: error }, 'a delivery listener failed after redeliverMany');
        }
      }
      after = batch.next;
      if (after !== null) await sleep(pauseAfterBatch(performance.now() - batchStart, MIN_REDELIVER_PAUSE_MS));
    } while (after !== null);
    this.logger.info({ queued, skipped, from: window.from, to: window.to, perSecond: this.pace.perSecond, lastDueAt }, 'redelivered a window');
    return { queued, skipped };
  }

  /**
   * A new round of attempts for a DELIVERED or FAILED delivery (the rules: DeliveryStore.redeliver),
   * announced as queued and as a status change once committed.
   */
  async redeliver(id: string): Promise<Delivery> {
    const delivery = await this.store.redeliver(id);
    try {
      this.hub.statusChanged([delivery]);
      this.hub.queued([delivery]);
    } catch (error) {
      this.logger.error({ err: error, deliveryId: delivery.id }, 'a delivery listener failed after redeliver');
    }
    return delivery;
  }

  networkHasDeliveriesOfApp(networkId: string, appId: string): Promise<boolean> {
    return this.store.exists({ networkId, appId });
  }

  eventHasDeliveryToNetwork(eventId: string, networkId: string): Promise<boolean> {
    return this.store.exists({ eventId, networkId });
  }

  async callbackOwner(callbackId: string): Promise<{ appId: string; networkId: string | null } | null> {
    return this.dataSource.getRepository(Callback).findOne({ select: { id: true, appId: true, networkId: true }, where: { id: callbackId }, withDeleted: true });
  }
}
