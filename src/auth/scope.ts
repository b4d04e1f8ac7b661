// Access rules: what each kind of key may read (contract: Authentication), in one place.
// Resolvers and the deliveryUpdated subscription call these where the rows and fields
// resolve, so the scope holds through nested fields and not only at the root of a query.
// The checks that need a fact from the database take it through a small lookup interface.
import { ApiKeyRole } from '../common/enums';
import { ForbiddenError } from '../common/errors';
import { isUuid } from '../common/ids';
import type { Principal } from './principal';

export interface ScopedDelivery {
  appId: string;
  networkId: string | null;
}

/** ADMIN: all. SDK: its app's deliveries. PARTNER: its network's deliveries. */
export function canReadDelivery(principal: Principal, delivery: ScopedDelivery): boolean {
  switch (principal.role) {
    case ApiKeyRole.ADMIN:
      return true;
    case ApiKeyRole.SDK:
      return delivery.appId === principal.appId;
    case ApiKeyRole.PARTNER:
      return delivery.networkId === principal.networkId;
  }
}

export function assertCanReadDelivery(principal: Principal, delivery: ScopedDelivery & { id: string }): void {
  if (!canReadDelivery(principal, delivery)) {
    throw new ForbiddenError(
      principal.role === ApiKeyRole.SDK ? `delivery ${delivery.id} belongs to another app` : `delivery ${delivery.id} belongs to another network`,
    );
  }
}

/**
 * Delivery fields an SDK key may not read. An SDK key sees what it recorded (the event, and
 * of each delivery its status and counters), not what was sent to the partner: the rendered
 * url, body and headers, the receiver's answers and the callback configuration may carry the
 * partner's keys.
 */
export const FIELDS_HIDDEN_FROM_SDK_KEYS: ReadonlySet<string> = new Set(['url', 'body', 'headers', 'lastError', 'attemptLog', 'callback']);

export function assertDeliveryFieldVisible(principal: Principal, field: string): void {
  if (principal.role === ApiKeyRole.SDK && FIELDS_HIDDEN_FROM_SDK_KEYS.has(field)) {
    throw new ForbiddenError(`Delivery.${field} is not readable with an SDK key: it may carry the partner's credentials`);
  }
}

/** Under limit ad tracking a partner does not see the device's identifiers. */
export function hidesDeviceIdentifiers(principal: Principal, event: { limitAdTracking: boolean }): boolean {
  return principal.role === ApiKeyRole.PARTNER && event.limitAdTracking;
}

/** The filter a key's scope forces on delivery lists and subscriptions, or FORBIDDEN when it names what the key may not see. */
export interface DeliveryScopeFilter {
  appId?: string | null;
  networkId?: string | null;
}

export function scopeDeliveryFilter<T extends DeliveryScopeFilter>(principal: Principal, filter: T): T {
  switch (principal.role) {
    case ApiKeyRole.ADMIN:
      return filter;
    case ApiKeyRole.SDK:
      if (filter.appId != null && filter.appId !== principal.appId) throw new ForbiddenError('this SDK key is bound to another app');
      return { ...filter, appId: principal.appId };
    case ApiKeyRole.PARTNER:
      if (filter.networkId != null && filter.networkId !== principal.networkId) throw new ForbiddenError('this PARTNER key is bound to another network');
      return { ...filter, networkId: principal.networkId };
  }
}

/** What the access rules need to look up. */
export interface AccessFacts {
  /** Does this network have any delivery of this app? */
  networkHasDeliveriesOfApp(networkId: string, appId: string): Promise<boolean>;
  /** Did this event cause a delivery to this network? */
  eventHasDeliveryToNetwork(eventId: string, networkId: string): Promise<boolean>;
  /** The callback's app and network (soft-deleted ones too); null when there is none. */
  callbackOwner(callbackId: string): Promise<{ appId: string; networkId: string | null } | null>;
}

/**
 * The delivery filter narrowed to what the key may see, for lists and subscriptions alike.
 * Naming another network, an app the partner has no deliveries of, or another tenant's
 * callback is FORBIDDEN rather than an empty result, so a mistake does not look like silence.
 */
export async function authorizeDeliveryFilter<T extends DeliveryScopeFilter & { callbackId?: string | null }>(principal: Principal, filter: T, facts: AccessFacts): Promise<T> {
  const scoped = scopeDeliveryFilter(principal, filter);
  if (principal.role === ApiKeyRole.ADMIN) return scoped;
  if (principal.role === ApiKeyRole.PARTNER && scoped.appId != null) {
    const has = isUuid(scoped.appId) && (await facts.networkHasDeliveriesOfApp(principal.networkId, scoped.appId));
    if (!has) throw new ForbiddenError(`this PARTNER key's network has no deliveries of app ${scoped.appId}`);
  }
  if (scoped.callbackId != null) {
    const owner = isUuid(scoped.callbackId) ? await facts.callbackOwner(scoped.callbackId) : null;
    const own = owner !== null && (principal.role === ApiKeyRole.PARTNER ? owner.networkId === principal.networkId : owner.appId === principal.appId);
    if (!own) throw new ForbiddenError(`callback ${scoped.callbackId} is not one of this key's`);
  }
  return scoped;
}

/** SDK: its app's events. PARTNER: events that sent a postback to its network. */
export async function assertCanReadEvent(principal: Principal, event: { id: string; appId: string }, facts: Pick<AccessFacts, 'eventHasDeliveryToNetwork'>): Promise<void> {
  switch (principal.role) {
    case ApiKeyRole.ADMIN:
      return;
    case ApiKeyRole.SDK:
      if (event.appId !== principal.appId) throw new ForbiddenError(`event ${event.id} belongs to another app`);
      return;
    case ApiKeyRole.PARTNER:
      if (!(await facts.eventHasDeliveryToNetwork(event.id, principal.networkId))) {
        throw new ForbiddenError(`event ${event.id} sent no postback to this PARTNER key's network`);
      }
  }
}

/**
 * Delivery.callback: the callback as configured now. If it has since moved to another
 * network, its headers and URL carry that partner's keys, and this partner may no longer read it.
 */
export function assertCanReadDeliveryCallback(principal: Principal, callback: { id: string; networkId: string | null }): void {
  assertDeliveryFieldVisible(principal, 'callback');
  if (principal.role === ApiKeyRole.PARTNER && callback.networkId !== principal.networkId) {
    throw new ForbiddenError(`callback ${callback.id} now belongs to another network`);
  }
}

/** Callback.signingSecret, App.callbacks, macros, apiKeys: ADMIN only. */
export function assertAdminField(principal: Principal | null, field: string): void {
  if (principal?.role !== ApiKeyRole.ADMIN) throw new ForbiddenError(`${field} is readable by ADMIN keys only`);
}

/**
 * callbackHealthChanged: ADMIN any callback; PARTNER the callbacks of its network (naming
 * another network is FORBIDDEN); SDK keys send events and do not watch partner endpoints.
 */
export function scopeCallbackHealthFilter<T extends DeliveryScopeFilter>(principal: Principal, filter: T): T {
  if (principal.role === ApiKeyRole.SDK) throw new ForbiddenError('callbackHealthChanged is for ADMIN and PARTNER keys');
  return scopeDeliveryFilter(principal, filter);
}

/** Callback.health of a callback reached through a subscription: PARTNER only its network's. */
export function canWatchCallback(principal: Principal, callback: ScopedDelivery): boolean {
  return principal.role !== ApiKeyRole.SDK && canReadDelivery(principal, callback);
}
