// Which callbacks an event fires (contract: "Which callbacks an event fires", and the
// conditions and postback window of Next / partner rules). Pure.
import type { CallbackConditions } from '../callbacks/callback.entity';
import { failedRule, type RuleEvent } from '../callbacks/partner-rules';

export interface MatchableCallback {
  enabled: boolean;
  /** Empty: every event. */
  eventNames: readonly string[];
  attributedOnly: boolean;
  networkId: string | null;
  /** Absent: none (callbacks made before conditions existed, unit tests). */
  conditions?: CallbackConditions;
  postbackWindowDays?: number | null;
}

export interface MatchableEvent extends Partial<RuleEvent> {
  name: string;
  /** The configured network the event is attributed to (sent or inherited); null when unattributed or the slug names none. */
  networkId: string | null;
}

export type MatchVerdict = { fires: true } | { fires: false; reason: string };

/** Why a callback does or does not fire for an event; `callbackFires` is its yes/no. */
export function matchCallback(callback: MatchableCallback, event: MatchableEvent): MatchVerdict {
  if (!callback.enabled) return { fires: false, reason: 'the callback is disabled' };
  if (callback.eventNames.length > 0 && !callback.eventNames.includes(event.name)) {
    return { fires: false, reason: `the callback fires only for ${callback.eventNames.join(', ')}, not for ${event.name}` };
  }
  if (callback.attributedOnly && (event.networkId === null || callback.networkId !== event.networkId)) {
    return {
      fires: false,
      reason:
        event.networkId === null
          ? "the callback fires only for events attributed to its network, and the event is attributed to no configured network"
          : "the callback fires only for events attributed to its network, and the event is attributed to another network",
    };
  }
  if (callback.conditions !== undefined || (callback.postbackWindowDays ?? null) !== null) {
    const failed = failedRule(
      { conditions: callback.conditions ?? NO_CONDITIONS, postbackWindowDays: callback.postbackWindowDays ?? null },
      {
        country: event.country ?? null,
        platform: event.platform ?? null,
        revenue: event.revenue ?? null,
        params: event.params ?? null,
        occurredAt: event.occurredAt ?? new Date(0),
        attributedAt: event.attributedAt ?? null,
      },
    );
    if (failed !== null) return { fires: false, reason: failed };
  }
  return { fires: true };
}

const NO_CONDITIONS: CallbackConditions = { countries: [], excludeCountries: [], platforms: [], minRevenue: null, params: [] };

export function callbackFires(callback: MatchableCallback, event: MatchableEvent): boolean {
  return matchCallback(callback, event).fires;
}

/** The callbacks that fire, in the given order. */
export function matchingCallbacks<T extends MatchableCallback>(callbacks: readonly T[], event: MatchableEvent): T[] {
  return callbacks.filter((callback) => callbackFires(callback, event));
}
