import { DataSource, In } from 'typeorm';
import { Clock } from '../common/clock';
import { DeliveryStatus } from '../common/enums';
import { BadUserInputError, NotFoundError, ProblemList } from '../common/errors';
import { newId } from '../common/ids';
import type { Logger } from '../common/logger';
import { isUniqueViolation } from '../db/errors';
import { GroupCommit } from '../db/group-commit';
import { Principal, requireAppWriter, requirePrincipal } from '../auth/principal';
import { Callback } from '../callbacks/callback.entity';
import { Delivery } from '../deliveries/delivery.entity';
import { DeliveryHub } from '../deliveries/delivery-hub';
import type { DeliveryStore } from '../deliveries/delivery-store';
import type { PostbackEventContext } from '../macros/built-in-macros';
import { createMacroLookup } from '../macros/macro-resolution';
import { compileCallbackTemplates, renderPostback, type RenderedPostback } from '../macros/render-postback';
import { matchCallback } from './callback-matching';
import { Event } from './event.entity';
import { EVENT_LIMITS, EventInput, validateEventInput, ValidEvent } from './event-validation';
import { AppRouting, RoutingCache } from './routing-cache';

export interface RecordedEvent {
  event: Event;
  /** true: this (app, eventId) was recorded before, here or earlier in the same batch; nothing was queued. */
  duplicate: boolean;
  deliveries: Delivery[];
}

export interface PreviewedPostback extends RenderedPostback {
  wouldFire: boolean;
  notFiredBecause: string | null;
}

/** A concurrent writer of the same (app, eventId) makes our insert fail; we look again and retry this often. */
const DUPLICATE_RACE_ROUNDS = 3;
export const PREVIEW_ID = '00000000-0000-0000-0000-000000000000';
/**
 * Events of concurrent calls written in one transaction at most (group commit, see
 * group-commit.ts); a larger recordEvents call is written alone.
 */
const GROUP_COMMIT_EVENTS = 500;
/**
 * Transactions writing events at once: one, so each flush carries every call that arrived
 * while the previous one committed (SQLite could not run two anyway, see transactions.ts).
 */
const CONCURRENT_WRITES = 1;

type NewPlan = { kind: 'new'; event: Event; deliveries: Delivery[] };

/** One input after planning: either a new event with its rendered deliveries, or a pointer to an earlier one. */
type Plan =
  | NewPlan
  | { kind: 'known'; event: Event }
  | { kind: 'repeat-in-batch'; firstIndex: number };

/**
 * Recording events: validation, idempotency, matching, rendering, and queuing the deliveries
 * in the same transaction as the event (the transactional outbox), so an event is never
 * stored without its postbacks or the other way round.
 */
export class EventService {
  /**
   * Concurrent calls' new events and deliveries share transactions: each call's rows are still
   * all stored or none (a shared transaction that fails is retried per call), and each call
   * announces its deliveries only once its rows have committed.
   */
  private readonly writer: GroupCommit<NewPlan[], WriteOutcome>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly routing: RoutingCache,
    private readonly deliveryStore: DeliveryStore,
    private readonly hub: DeliveryHub,
    private readonly logger: Logger,
    private readonly observer: { recorded(fresh: number, duplicates: number): void; writesSplit?(calls: number): void } = { recorded: () => undefined },
  ) {
    this.writer = new GroupCommit<NewPlan[], WriteOutcome>(
      async (calls) => {
        try {
          await this.write(calls.flat());
          return calls.map(() => 'written');
        } catch (error) {
          if (!isUniqueViolation(error) || calls.length === 1) throw error;
          // Usually a client's resend of an event stored since it was planned. Rather than
          // writing every call of this transaction again one by one, find the calls whose
          // keys are stored now and write the others together; the clashing calls take their
          // own duplicate path. Anything else fails the group, which then goes call by call.
          const stored = await this.findRecorded(calls.flat().map((p) => p.event));
          const clashing = calls.map((plans) => plans.some((p) => stored.has(idempotencyKey(p.event) ?? '')));
          if (!clashing.includes(true)) throw error;
          const rest = calls.filter((_, i) => !clashing[i]);
          if (rest.length > 0) await this.write(rest.flat());
          return clashing.map((clash): WriteOutcome => (clash ? 'already-recorded' : 'written'));
        }
      },
      {
        maxConcurrent: CONCURRENT_WRITES,
        maxWeight: GROUP_COMMIT_EVENTS,
        weight: (plans) => plans.length,
        // A resent event (the client timed out while its first call waited here) goes in the next flush, and finds the first there.
        keys: (plans) => plans.flatMap((p) => idempotencyKey(p.event) ?? []),
        onSplit: (calls, error) => {
          this.observer.writesSplit?.(calls);
          this.logger.warn({ calls, err: error }, 'a shared event transaction failed; writing its calls one by one');
        },
      },
    );
  }

  /** New events and their deliveries, in one transaction (the store's outbox insert). */
  private async write(plans: NewPlan[]): Promise<void> {
    await this.deliveryStore.queue(
      plans.flatMap((p) => p.deliveries),
      [{ entity: Event, rows: plans.map((p) => p.event) }],
    );
  }

  findById(id: string): Promise<Event | null> {
    return this.dataSource.getRepository(Event).findOneBy({ id });
  }

  /**
   * Records every input or none. `fieldOf(i)` names input i in errors (`input`, `inputs.3`).
   * Results come back in input order.
   */
  async record(principal: Principal | null, inputs: readonly EventInput[], fieldOf: (index: number) => string): Promise<RecordedEvent[]> {
    requirePrincipal(principal);
    if (inputs.length > EVENT_LIMITS.batchSize) {
      throw BadUserInputError.field('inputs', `holds ${inputs.length} events; at most ${EVENT_LIMITS.batchSize} per call`);
    }
    for (const input of inputs) requireAppWriter(principal, (input.appId ?? '').trim());
    if (inputs.length === 0) return [];

    const now = this.clock.now();
    const problems = new ProblemList();
    const events = inputs.map((input, i) => validateEventInput(input, fieldOf(i), now, problems));
    problems.throwIfAny();

    const routings = await this.routing.forApps(events.map((e) => e.appId));
    events.forEach((e, i) => {
      if (!routings.get(e.appId)) problems.add(`${fieldOf(i)}.appId`, `no app with id ${e.appId}`);
    });
    problems.throwIfAny();
    const networkIds = events.some((e) => e.networkSlug !== null) ? await this.routing.networkIdsBySlug() : new Map<string, string>();

    let known = new Map<string, Event>();
    for (let round = 1; ; round++) {
      const plans = this.plan(events, routings, networkIds, known, now);
      const fresh = plans.flatMap((p) => (p.kind === 'new' ? [p] : []));
      let outcome: WriteOutcome = 'written';
      try {
        if (fresh.length > 0) outcome = await this.writer.submit(fresh);
      } catch (error) {
        if (!isUniqueViolation(error) || round >= DUPLICATE_RACE_ROUNDS) throw error;
        outcome = 'already-recorded';
      }
      if (outcome === 'already-recorded') {
        // Someone else stored one of these (app, eventId) keys first: theirs is the event.
        if (round >= DUPLICATE_RACE_ROUNDS) {
          throw new Error(`events of this call were stored by others ${DUPLICATE_RACE_ROUNDS} times in a row while it was being written`);
        }
        known = await this.findRecorded(events);
        continue;
      }
      const queued = fresh.flatMap((p) => p.deliveries);
      this.announce(queued);
      this.observer.recorded(fresh.length, plans.length - fresh.length);
      this.logger.debug({ events: fresh.length, duplicates: plans.length - fresh.length, deliveries: queued.length }, 'recorded events');
      return this.results(plans);
    }
  }

  /** Renders what a callback would send for this event; stores and sends nothing. */
  async preview(callbackId: string, input: EventInput): Promise<PreviewedPostback> {
    const callback = await this.dataSource.getRepository(Callback).findOneBy({ id: callbackId });
    if (!callback) throw new NotFoundError('callback', callbackId);
    const now = this.clock.now();
    const problems = new ProblemList();
    const valid = validateEventInput(input, 'event', now, problems);
    problems.throwIfAny();
    if (valid.appId !== callback.appId) {
      throw BadUserInputError.field('event.appId', `must be the callback's app (${callback.appId}): a callback renders only its own app's events`);
    }
    const routing = (await this.routing.forApps([callback.appId])).get(callback.appId);
    if (!routing) throw new NotFoundError('app', callback.appId);
    const networkIds = valid.networkSlug !== null ? await this.routing.networkIdsBySlug() : new Map<string, string>();
    const event = buildEvent(valid, routing, networkIds, now, PREVIEW_ID);
    const macros = await this.routing.macroScope(callback.appId);
    const rendered = renderFor(callback, compileCallbackTemplates(callback), { ...routing, macros }, event, PREVIEW_ID);
    const verdict = matchCallback(callback, event);
    return { ...rendered, wouldFire: verdict.fires, notFiredBecause: verdict.fires ? null : verdict.reason };
  }

  private plan(events: ValidEvent[], routings: Map<string, AppRouting | null>, networkIds: Map<string, string>, known: Map<string, Event>, now: Date): Plan[] {
    const firstOfKey = new Map<string, number>();
    return events.map((valid, index): Plan => {
      const key = idempotencyKey(valid);
      if (key !== null) {
        const recorded = known.get(key);
        if (recorded) return { kind: 'known', event: recorded };
        const first = firstOfKey.get(key);
        if (first !== undefined) return { kind: 'repeat-in-batch', firstIndex: first };
        firstOfKey.set(key, index);
      }
      const routing = routings.get(valid.appId) as AppRouting;
      const event = buildEvent(valid, routing, networkIds, now, newId(now.getTime()));
      const deliveries: Delivery[] = [];
      for (const route of routing.routes) {
        if (!matchCallback(route.callback, event).fires) continue;
        const deliveryId = newId(now.getTime());
        const rendered = renderFor(route.callback, route.compiled, routing, event, deliveryId);
        deliveries.push(queuedDelivery(deliveryId, event, route.callback, rendered, now));
      }
      return { kind: 'new', event, deliveries };
    });
  }

  /** Events already stored under the batch's idempotency keys. */
  private async findRecorded(events: readonly Pick<ValidEvent, 'appId' | 'eventId'>[]): Promise<Map<string, Event>> {
    const idsByApp = new Map<string, string[]>();
    for (const e of events) if (e.eventId !== null) idsByApp.set(e.appId, [...(idsByApp.get(e.appId) ?? []), e.eventId]);
    const found = new Map<string, Event>();
    for (const [appId, eventIds] of idsByApp) {
      const rows = await this.dataSource.getRepository(Event).find({ where: { appId, eventId: In(eventIds) } });
      for (const row of rows) found.set(idempotencyKey(row) as string, row);
    }
    return found;
  }

  private async results(plans: Plan[]): Promise<RecordedEvent[]> {
    const knownIds = [...new Set(plans.flatMap((p) => (p.kind === 'known' ? [p.event.id] : [])))];
    const original = new Map<string, Delivery[]>();
    for (const row of await this.deliveryStore.findByEvents(knownIds)) original.set(row.eventId, [...(original.get(row.eventId) ?? []), row]);
    return plans.map((plan) => {
      switch (plan.kind) {
        case 'new':
          return { event: plan.event, duplicate: false, deliveries: plan.deliveries };
        case 'known':
          return { event: plan.event, duplicate: true, deliveries: original.get(plan.event.id) ?? [] };
        case 'repeat-in-batch': {
          const first = plans[plan.firstIndex] as Extract<Plan, { kind: 'new' }>;
          return { event: first.event, duplicate: true, deliveries: first.deliveries };
        }
      }
    });
  }

  /** After commit: the inline dispatcher starts the new deliveries, subscribers see them PENDING. */
  private announce(deliveries: Delivery[]): void {
    if (deliveries.length === 0) return;
    try {
      this.hub.queued(deliveries);
      this.hub.statusChanged(deliveries);
    } catch (error) {
      // The deliveries are stored; the dispatcher's due-time scan will find them anyway.
      this.logger.error({ err: error }, 'a delivery listener failed after queuing');
    }
  }
}

/** What became of one call's new events in a shared transaction. */
type WriteOutcome = 'written' | 'already-recorded';

function idempotencyKey(e: Pick<ValidEvent, 'appId' | 'eventId'>): string | null {
  return e.eventId === null ? null : `${e.appId}\u0000${e.eventId}`;
}

function buildEvent(valid: ValidEvent, routing: AppRouting, networkIds: Map<string, string>, now: Date, id: string): Event {
  return Object.assign(new Event(), {
    id,
    appId: valid.appId,
    eventId: valid.eventId,
    name: valid.name,
    occurredAt: valid.occurredAt ?? now,
    receivedAt: now,
    advertisingId: valid.advertisingId,
    ipAddress: valid.ipAddress,
    userAgent: valid.userAgent,
    country: valid.country,
    platform: valid.platform ?? routing.app.platform,
    campaignId: valid.campaignId,
    // Configured slugs are lowercase; SDKs and MMP exports often capitalise them ("Facebook").
    networkId: valid.networkSlug !== null ? (networkIds.get(valid.networkSlug.toLowerCase()) ?? null) : null,
    networkSlug: valid.networkSlug,
    revenue: valid.revenue,
    currency: valid.currency,
    limitAdTracking: valid.limitAdTracking,
    params: valid.params,
  });
}

function renderFor(
  callback: Callback,
  compiled: ReturnType<typeof compileCallbackTemplates>,
  routing: Pick<AppRouting, 'app' | 'macros'>,
  event: Event,
  deliveryId: string,
): RenderedPostback {
  const context: PostbackEventContext = {
    eventUuid: event.id,
    eventId: event.eventId,
    name: event.name,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    advertisingId: event.advertisingId,
    ipAddress: event.ipAddress,
    userAgent: event.userAgent,
    country: event.country,
    platform: event.platform,
    campaignId: event.campaignId,
    networkSlug: event.networkSlug,
    revenue: event.revenue,
    currency: event.currency,
    limitAdTracking: event.limitAdTracking,
    params: event.params,
    app: { id: routing.app.id, name: routing.app.name, bundleId: routing.app.bundleId, platform: routing.app.platform },
    deliveryId,
  };
  // Limit ad tracking keeps device identifiers from partners; the advertiser's own endpoints (no network) still get them.
  const lookup = createMacroLookup(routing.macros, context, { blankDeviceIdentifiers: event.limitAdTracking && callback.networkId !== null });
  return renderPostback(compiled, lookup);
}

function queuedDelivery(id: string, event: Event, callback: Callback, rendered: RenderedPostback, now: Date): Delivery {
  return Object.assign(new Delivery(), {
    id,
    eventId: event.id,
    callbackId: callback.id,
    appId: event.appId,
    networkId: callback.networkId,
    status: DeliveryStatus.PENDING,
    method: rendered.method,
    url: rendered.url,
    body: rendered.body,
    headers: rendered.headers,
    timeoutMs: callback.timeoutMs,
    attempts: 0,
    maxAttempts: callback.maxAttempts,
    lastStatusCode: null,
    lastError: null,
    nextAttemptAt: now,
    dueAt: now,
    leaseOwner: null,
    deliveredAt: null,
    createdAt: now,
    updatedAt: now,
  });
}
