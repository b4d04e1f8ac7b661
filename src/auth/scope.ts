// What each kind of key may read of deliveries and events (contract: Authentication).
// Pure checks, called where the fields resolve, so the scope holds through nested fields and
// not only at the root of a query.
import { ApiKeyRole } from '../common/enums';
import { ForbiddenError } from '../common/errors';
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
