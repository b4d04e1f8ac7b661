import { DataSource, In } from 'typeorm';
import { Clock } from '../common/clock';
import { AttributionSource, DeliveryStatus, ValueSharing } from '../common/enums';
import { BadUserInputError, NotFoundError, ProblemList } from '../common/errors';
import { newId } from '../common/ids';
import type { Logger } from '../common/logger';
import { isUniqueViolation } from '../db/errors';
import { GroupCommit } from '../db/group-commit';
import { Principal, requireAppWriter, requirePrincipal } from '../auth/principal';
import { Callback } from '../callbacks/callback.entity';
import { Delivery } from '../deliveries/delivery.entity';
import { DeliveryHub } from '../deliveries/delivery-hub';
import type { ClaimedDelivery, DeliveryStore, QueueClaim, SigningKeys } from '../deliveries/delivery-store';
import { signingKeysAt } from '../deliveries/delivery-state';
import type { PostbackEventContext } from '../macros/built-in-macros';
import { createMacroLookup } from '../macros/macro-resolution';
import { compileCallbackTemplates, renderPostback, type RenderedPostback } from '../macros/render-postback';
import { matchCallback } from './callback-matching';
import { AttributionMemory, type NewTouchpoint } from '../attribution/attribution-memory';
import { attributeEvent, chooseTouchpoint, type EventAttribution, identifierKey, identifiersOf, needsRememberedTouchpoint, type RememberedTouchpoint, type SentAttribution, touchpointType } from '../attribution/attribution';
import { sharesAttributionWith } from '../auth/attribution-visibility';
import { mappingFor } from '../callbacks/partner-rules';
import { Touchpoint } from '../attribution/touchpoint.entity';
import { Event } from './event.entity';
import { EVENT_LIMITS, EventInput, validateEventInput, ValidEvent } from './event-validation';
import { AppRouting, RoutingCache } from './routing-cache';
import { NO_USD_RATES, type UsdRateLookup, type UsdRateSource } from '../revenue/exchange-rate.service';

export interface RecordedEvent {
  event: Event;
  /** true: this (app, eventId) was recorded before, here or earlier in the same batch; nothing was queued. */
  duplicate: boolean;
  deliveries: Delivery[];
}

export interface PreviewedPostback extends RenderedPostback {
  renderNotes: string[];
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

/** touchpoint: the attribution memory this event adds, written in its transaction. */
type NewPlan = { kind: 'new'; event: Event; deliveries: Delivery[]; touchpoint: NewTouchpoint | null };

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
  private readonly writer: GroupCommit<WriteCall, WriteOutcome>;
  private readonly memory: AttributionMemory;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly routing: RoutingCache,
    private readonly deliveryStore: DeliveryStore,
    private readonly hub: DeliveryHub,
    private readonly logger: Logger,
    private readonly observer: { recorded(fresh: number, duplicates: number): void; writesSplit?(calls: number): void } = { recorded: () => undefined },
    private readonly usdRateSource: UsdRateSource = { usdRates: async () => NO_USD_RATES },
  ) {
    this.memory = new AttributionMemory(dataSource, clock);
    this.writer = new GroupCommit<WriteCall, WriteOutcome>(
      async (calls) => {
        try {
          const claims = await this.write(calls);
          return calls.map((call) => writtenFor(call, claims));
        } catch (error) {
          if (!isUniqueViolation(error) || calls.length === 1) throw error;
          // Usually a client's resend of an event stored since it was planned. Rather than
          // writing every call of this transaction again one by one, find the calls whose
          // keys are stored now and write the others together; the clashing calls take their
          // own duplicate path. Anything else fails the group, which then goes call by call.
          const stored = await this.findRecorded(calls.flatMap((c) => c.plans.map((p) => p.event)));
          const clashing = calls.map((call) => call.plans.some((p) => stored.has(idempotencyKey(p.event) ?? '')));
          if (!clashing.includes(true)) throw error;
          const rest = calls.filter((_, i) => !clashing[i]);
          const claims = rest.length > 0 ? await this.write(rest) : [];
          return calls.map((call, i): WriteOutcome => (clashing[i] ? 'already-recorded' : writtenFor(call, claims)));
        }
      },
      {
        maxConcurrent: CONCURRENT_WRITES,
        maxWeight: GROUP_COMMIT_EVENTS,
        weight: (call) => call.plans.length,
        // A resent event (the client timed out while its first call waited here) goes in the next flush, and finds the first there.
        keys: (call) => call.plans.flatMap((p) => idempotencyKey(p.event) ?? []),
        onSplit: (calls, error) => {
          this.observer.writesSplit?.(calls);
          this.logger.warn({ calls, err: error }, 'a shared event transaction failed; writing its calls one by one');
        },
      },
    );
  }

  /**
   * New events and their deliveries, in one transaction (the store's outbox insert); the
   * deliveries the dispatcher reserved slots for are inserted claimed, and their claims returned.
   */
  private async write(calls: WriteCall[]): Promise<ClaimedDelivery[]> {
    const plans = calls.flatMap((c) => c.plans);
    return this.deliveryStore.queue(
      plans.flatMap((p) => p.deliveries),
      [
        { entity: Event, rows: plans.map((p) => p.event) },
        { entity: Touchpoint, rows: this.memory.rowsOf(plans.flatMap((p) => (p.touchpoint ? [p.touchpoint] : []))) },
      ],
      mergedClaim(calls),
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
    const remembered = await this.rememberedFor(events, routings, networkIds, now);
    const usdRates = await this.usdRateSource.usdRates(events.map((e) => ({ revenue: e.revenue, currency: e.currency, occurredAt: e.occurredAt ?? now })));

    let known = new Map<string, Event>();
    for (let round = 1; ; round++) {
      const plans = this.plan(events, routings, networkIds, remembered, known, now, usdRates);
      const fresh = plans.flatMap((p) => (p.kind === 'new' ? [p] : []));
      const queued = fresh.flatMap((p) => p.deliveries);
      // Free slots of the inline dispatcher: those deliveries are inserted claimed and start on commit.
      const reservation = this.hub.reserveClaims(queued, (d) => signingKeysAt(callbackOf(routings, d), now));
      let outcome: WriteOutcome = { claims: [] };
      try {
        if (fresh.length > 0) outcome = await this.writer.submit({ plans: fresh, claim: reservation?.claim ?? null });
      } catch (error) {
        reservation?.cancelled();
        if (!isUniqueViolation(error) || round >= DUPLICATE_RACE_ROUNDS) throw error;
        outcome = 'already-recorded';
      }
      if (outcome === 'already-recorded') {
        reservation?.cancelled();
        // Someone else stored one of these (app, eventId) keys first: theirs is the event.
        if (round >= DUPLICATE_RACE_ROUNDS) {
          throw new Error(`events of this call were stored by others ${DUPLICATE_RACE_ROUNDS} times in a row while it was being written`);
        }
        known = await this.findRecorded(events);
        continue;
      }
      // PENDING first (the API answer and the first status published), then the claimed ones' SENDING.
      this.announce(queued, outcome.claims.length);
      reservation?.started(outcome.claims);
      this.observer.recorded(fresh.length, plans.length - fresh.length);
      this.logger.debug({ events: fresh.length, duplicates: plans.length - fresh.length, deliveries: queued.length }, 'recorded events');
      return this.results(plans);
    }
  }

  /** Renders what a callback (or an unsaved draft of it) would send for this event; stores and sends nothing. */
  async preview(callbackId: string, input: EventInput, draft?: Callback): Promise<PreviewedPostback> {
    const callback = draft ?? (await this.dataSource.getRepository(Callback).findOneBy({ id: callbackId }));
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
    const remembered = await this.rememberedFor([valid], new Map([[callback.appId, routing]]), networkIds, now);
    const sent = sentAttribution(valid, networkIds, now);
    const event = buildEvent(valid, routing, sent, attributeEvent(sent, chooseTouchpoint(candidatesOf(valid, remembered), sent.occurredAt, routing.app.attributionMemoryDays)), now, PREVIEW_ID);
    const macros = await this.routing.macroScope(callback.appId);
    const usdRates = await this.usdRateSource.usdRates([event]);
    const rendered = renderFor(callback, compileCallbackTemplates(callback), { ...routing, macros }, event, PREVIEW_ID, usdRates);
    const verdict = matchCallback(callback, event);
    return { ...rendered, wouldFire: verdict.fires, notFiredBecause: verdict.fires ? null : verdict.reason };
  }

  /**
   * The remembered touchpoints that may attribute these events, by identifier key: one indexed
   * read for the call, none when no event needs one or its app never had a touchpoint.
   */
  private async rememberedFor(
    events: readonly ValidEvent[],
    routings: Map<string, AppRouting | null>,
    networkIds: Map<string, string>,
    now: Date,
  ): Promise<Map<string, RememberedTouchpoint[]>> {
    const queries = [];
    for (const valid of events) {
      const sent = sentAttribution(valid, networkIds, now);
      if (!needsRememberedTouchpoint(sent, valid)) continue;
      const memoryDays = routings.get(valid.appId)?.app.attributionMemoryDays;
      if (memoryDays === undefined) continue;
      queries.push({ appId: valid.appId, occurredAt: sent.occurredAt, memoryDays, deviceId: valid.deviceId, advertisingId: valid.advertisingId, customerUserId: valid.customerUserId });
    }
    return queries.length === 0 ? new Map() : this.memory.remembered(queries);
  }

  private plan(
    events: ValidEvent[],
    routings: Map<string, AppRouting | null>,
    networkIds: Map<string, string>,
    remembered: Map<string, RememberedTouchpoint[]>,
    known: Map<string, Event>,
    now: Date,
    usdRates: UsdRateLookup,
  ): Plan[] {
    const firstOfKey = new Map<string, number>();
    // Touchpoints of this call's earlier events attribute its later ones as remembered ones would.
    const rememberedNow = new Map(remembered);
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
      const sent = sentAttribution(valid, networkIds, now);
      const memoryDays = routing.app.attributionMemoryDays;
      const through = needsRememberedTouchpoint(sent, valid) ? chooseTouchpoint(candidatesOf(valid, rememberedNow), sent.occurredAt, memoryDays) : null;
      const event = buildEvent(valid, routing, sent, attributeEvent(sent, through), now, newId(now.getTime()));
      const touchpoint = newTouchpoint(event, memoryDays);
      if (touchpoint) {
        for (const id of identifiersOf(event)) {
          const key = identifierKey(event.appId, id);
          rememberedNow.set(key, [...(rememberedNow.get(key) ?? []), touchpoint]);
        }
      }
      const deliveries: Delivery[] = [];
      for (const route of routing.routes) {
        if (!matchCallback(route.callback, event).fires) continue;
        const deliveryId = newId(now.getTime());
        const rendered = renderFor(route.callback, route.compiled, routing, event, deliveryId, usdRates);
        deliveries.push(queuedDelivery(deliveryId, event, route.callback, rendered, now));
      }
      return { kind: 'new', event, deliveries, touchpoint };
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
  private announce(deliveries: Delivery[], claimedHere: number): void {
    if (deliveries.length === 0) return;
    try {
      this.hub.queued(deliveries, claimedHere);
      this.hub.statusChanged(deliveries);
    } catch (error) {
      // The deliveries are stored; the dispatcher's due-time scan will find them anyway.
      this.logger.error({ err: error }, 'a delivery listener failed after queuing');
    }
  }
}

/** What became of one call's new events in a shared transaction. */
/** One call's share of a shared write: its new events, and the claim of its reserved deliveries. */
interface WriteCall {
  plans: NewPlan[];
  claim: QueueClaim | null;
}

/** Written, with the claims of the call's own reserved deliveries; or another call's event won. */
type WriteOutcome = { claims: ClaimedDelivery[] } | 'already-recorded';

function writtenFor(call: WriteCall, claims: readonly ClaimedDelivery[]): WriteOutcome {
  const keys = call.claim?.keys;
  return { claims: keys ? claims.filter((c) => keys.has(c.delivery.id)) : [] };
}

/** The calls' claims as one (they are all the inline dispatcher's: one lease owner). */
function mergedClaim(calls: readonly WriteCall[]): QueueClaim | undefined {
  const claims = calls.flatMap((c) => (c.claim ? [c.claim] : []));
  const first = claims[0];
  if (!first) return undefined;
  if (claims.length === 1) return first;
  const keys = new Map<string, SigningKeys>();
  for (const claim of claims) if (claim.leaseOwner === first.leaseOwner) for (const [id, k] of claim.keys) keys.set(id, k);
  return { leaseOwner: first.leaseOwner, keys };
}

/** The callback a delivery was rendered from (it is in its app's routes). */
function callbackOf(routings: Map<string, AppRouting | null>, delivery: Delivery): Callback {
  const route = routings.get(delivery.appId)?.routes.find((r) => r.callback.id === delivery.callbackId);
  if (!route) throw new Error(`delivery ${delivery.id} has no route for callback ${delivery.callbackId}`);
  return route.callback;
}

function idempotencyKey(e: Pick<ValidEvent, 'appId' | 'eventId'>): string | null {
  return e.eventId === null ? null : `${e.appId}\u0000${e.eventId}`;
}

/** What the event says of its own attribution, its configured network resolved. */
function sentAttribution(valid: ValidEvent, networkIds: Map<string, string>, now: Date): SentAttribution {
  return {
    name: valid.name,
    occurredAt: valid.occurredAt ?? now,
    networkSlug: valid.networkSlug,
    // Configured slugs are lowercase; SDKs and MMP exports often capitalise them ("Facebook").
    networkId: valid.networkSlug !== null ? (networkIds.get(valid.networkSlug.toLowerCase()) ?? null) : null,
    campaignId: valid.campaignId,
    attribution: valid.attribution,
  };
}

/** Remembered touchpoints under any identifier of the event. */
function candidatesOf(valid: Pick<ValidEvent, 'appId' | 'deviceId' | 'advertisingId' | 'customerUserId'>, remembered: Map<string, RememberedTouchpoint[]>): RememberedTouchpoint[] {
  return identifiersOf(valid).flatMap((id) => remembered.get(identifierKey(valid.appId, id)) ?? []);
}

/** The touchpoint an event adds to attribution memory, or null when it is none (or carries no identifier). */
function newTouchpoint(event: Event, memoryDays: number): NewTouchpoint | null {
  if (event.attributionSource !== AttributionSource.SENT || event.networkId === null || event.networkSlug === null) return null;
  const type = touchpointType(event);
  if (type === null || identifiersOf(event).length === 0) return null;
  return {
    appId: event.appId,
    memoryDays,
    eventUuid: event.id,
    occurredAt: event.occurredAt,
    networkId: event.networkId,
    networkSlug: event.networkSlug,
    campaignId: event.campaignId,
    attribution: type,
    deviceId: event.deviceId,
    advertisingId: event.advertisingId,
    customerUserId: event.customerUserId,
  };
}

function buildEvent(valid: ValidEvent, routing: AppRouting, sent: SentAttribution, attribution: EventAttribution, now: Date, id: string): Event {
  // Set field by field: Object.assign(new Event(), { …25 fields }) takes V8's generic path,
  // about 1.1 µs a row against 0.3 µs here (Node 20); every event and delivery is built this way.
  const event = new Event();
  event.id = id;
  event.appId = valid.appId;
  event.eventId = valid.eventId;
  event.name = valid.name;
  event.occurredAt = sent.occurredAt;
  event.receivedAt = now;
  event.advertisingId = valid.advertisingId;
  event.ipAddress = valid.ipAddress;
  event.userAgent = valid.userAgent;
  event.country = valid.country;
  event.platform = valid.platform ?? routing.app.platform;
  event.revenue = valid.revenue;
  event.currency = valid.currency;
  event.limitAdTracking = valid.limitAdTracking;
  event.params = valid.params;
  event.customerUserId = valid.customerUserId;
  event.deviceId = valid.deviceId;
  event.osVersion = valid.osVersion;
  event.appVersion = valid.appVersion;
  event.networkId = attribution.networkId;
  event.networkSlug = attribution.networkSlug;
  event.campaignId = attribution.campaignId;
  event.attribution = attribution.attribution;
  event.attributionSource = attribution.attributionSource;
  event.attributedAt = attribution.attributedAt;
  return event;
}

function renderFor(
  callback: Callback,
  compiled: ReturnType<typeof compileCallbackTemplates>,
  routing: Pick<AppRouting, 'app' | 'macros'>,
  event: Event,
  deliveryId: string,
  usdRates: UsdRateLookup,
): RenderedPostback & { renderNotes: string[] } {
  // Another partner's attribution is never shared: to a network the event is not attributed to,
  // the attribution fields are absent. The advertiser's own endpoints (no network) see them all.
  const shared = sharesAttributionWith(callback.networkId, event);
  const mapping = mappingFor(callback.eventMappings, event.name);
  const renderNotes: string[] = [];
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
    campaignId: shared ? event.campaignId : null,
    networkSlug: shared ? event.networkSlug : null,
    revenue: event.revenue,
    currency: event.currency,
    limitAdTracking: event.limitAdTracking,
    params: event.params,
    app: { id: routing.app.id, name: routing.app.name, bundleId: routing.app.bundleId, platform: routing.app.platform },
    deliveryId,
    customerUserId: event.customerUserId,
    deviceId: event.deviceId,
    osVersion: event.osVersion,
    appVersion: event.appVersion,
    attribution: shared ? event.attribution : null,
    attributedAt: shared ? event.attributedAt : null,
    isAttributed: shared && event.networkId !== null,
    partnerEventName: mapping?.partnerEventName ?? event.name,
    usdRate: usdRates(event.currency, event.occurredAt),
    storeCutPercent: routing.app.storeCutPercent,
    renderNotes,
  };
  // Limit ad tracking keeps device identifiers from partners; the advertiser's own endpoints (no network) still get them.
  const lookup = createMacroLookup(routing.macros, context, {
    blankDeviceIdentifiers: event.limitAdTracking && callback.networkId !== null,
    share: mapping?.share ?? ValueSharing.VALUES_AND_REVENUE,
  });
  // Not `{ ...rendered, renderNotes }`: a spread followed by a property costs about a microsecond on Node 20.
  const { method, url, headers, body } = renderPostback(compiled, lookup);
  return { method, url, headers, body, renderNotes };
}

/** The outbox row of one rendered postback, PENDING and due (after the callback's delaySeconds), as recordEvent queues it. */
export function queuedDelivery(id: string, event: Event, callback: Callback, rendered: RenderedPostback & { renderNotes: string[] }, now: Date): Delivery {
  // delaySeconds: the first attempt falls due that much later (the dispatcher takes rows by dueAt).
  const due = callback.delaySeconds > 0 ? new Date(now.getTime() + callback.delaySeconds * 1000) : now;
  const delivery = new Delivery();
  delivery.id = id;
  delivery.eventId = event.id;
  delivery.callbackId = callback.id;
  delivery.appId = event.appId;
  delivery.networkId = callback.networkId;
  delivery.status = DeliveryStatus.PENDING;
  delivery.method = rendered.method;
  delivery.url = rendered.url;
  delivery.body = rendered.body;
  delivery.headers = rendered.headers;
  delivery.renderNotes = rendered.renderNotes;
  delivery.timeoutMs = callback.timeoutMs;
  delivery.attempts = 0;
  delivery.maxAttempts = callback.maxAttempts;
  delivery.lastStatusCode = null;
  delivery.lastError = null;
  delivery.nextAttemptAt = due;
  delivery.dueAt = due;
  delivery.leaseOwner = null;
  delivery.deliveredAt = null;
  delivery.createdAt = now;
  delivery.updatedAt = now;
  return delivery;
}
