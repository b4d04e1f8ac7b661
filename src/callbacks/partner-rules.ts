// A callback's partner rules: event mappings with value sharing, conditions, the postback
// window and the delay. Validation (at save, every problem named by its field) and evaluation
// (per event) are pure.
import { Platform, ValueSharing } from '../common/enums';
import type { ProblemList } from '../common/errors';
import { COUNTRY_CODES } from '../events/iso-codes';
import { paramValue } from '../macros/macro-resolution';
import type { CallbackConditions, EventMapping, ParamCondition } from './callback.entity';

export const PARTNER_RULE_LIMITS = {
  postbackWindowDays: { min: 1, max: 365 },
  delaySeconds: { min: 0, max: 86_400 },
  eventMappings: 100,
  partnerEventNameLength: 128,
  countries: 250,
  paramConditions: 20,
  paramConditionValues: 100,
  paramPathLength: 255,
  paramValueLength: 1024,
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;
const PARAM_PATH_SEGMENT = /^[A-Za-z0-9_-]+$/;

export interface EventMappingInput {
  eventName: string;
  partnerEventName?: string | null;
  share?: ValueSharing | null;
}

export interface CallbackConditionsInput {
  countries?: string[] | null;
  excludeCountries?: string[] | null;
  platforms?: Platform[] | null;
  minRevenue?: number | null;
  params?: { path: string; values: string[] }[] | null;
}

/**
 * Checks and normalises event mappings (names trimmed, share defaulted to VALUES_AND_REVENUE).
 * A mapping for a name that a non-empty `eventNames` does not hold, or a name mapped twice, is a
 * problem on `${field}.N.eventName`.
 */
export function normalizeEventMappings(problems: ProblemList, field: string, input: readonly EventMappingInput[], eventNames: readonly string[]): EventMapping[] {
  if (input.length > PARTNER_RULE_LIMITS.eventMappings) problems.add(field, `may hold at most ${PARTNER_RULE_LIMITS.eventMappings} mappings`);
  const seen = new Set<string>();
  return input.map((m, i) => {
    const eventName = (m.eventName ?? '').trim();
    if (eventName.length === 0 || eventName.length > 128) problems.add(`${field}.${i}.eventName`, 'must be 1 to 128 characters');
    else if (seen.has(eventName)) problems.add(`${field}.${i}.eventName`, `${eventName} is mapped more than once`);
    else if (eventNames.length > 0 && !eventNames.includes(eventName)) {
      problems.add(`${field}.${i}.eventName`, `${eventName} is not one of the callback's eventNames (${eventNames.join(', ')}); it would never fire`);
    }
    seen.add(eventName);
    let partnerEventName = m.partnerEventName == null ? null : m.partnerEventName.trim();
    if (partnerEventName === '') partnerEventName = null;
    if (partnerEventName !== null && partnerEventName.length > PARTNER_RULE_LIMITS.partnerEventNameLength) {
      problems.add(`${field}.${i}.partnerEventName`, `must be at most ${PARTNER_RULE_LIMITS.partnerEventNameLength} characters`);
    } else if (partnerEventName !== null && /[\u0000-\u001f\u007f]/.test(partnerEventName)) {
      problems.add(`${field}.${i}.partnerEventName`, 'must not contain control characters');
    }
    const share = m.share ?? ValueSharing.VALUES_AND_REVENUE;
    if (!Object.values(ValueSharing).includes(share)) problems.add(`${field}.${i}.share`, `must be one of ${Object.values(ValueSharing).join(', ')}`);
    return { eventName, partnerEventName, share };
  });
}

/** Checks and normalises conditions: country codes upper-cased and unique, params paths as PARAM macros take them. */
export function normalizeConditions(problems: ProblemList, field: string, input: CallbackConditionsInput): CallbackConditions {
  const countries = (name: 'countries' | 'excludeCountries'): string[] => {
    const list = [...new Set((input[name] ?? []).map((c) => c.trim().toUpperCase()))];
    if (list.length > PARTNER_RULE_LIMITS.countries) problems.add(`${field}.${name}`, `may hold at most ${PARTNER_RULE_LIMITS.countries} codes`);
    list.forEach((code, i) => {
      if (!COUNTRY_CODES.has(code)) problems.add(`${field}.${name}.${i}`, `must be an ISO 3166-1 alpha-2 country code such as DE or US, got ${JSON.stringify(code)}`);
    });
    return list;
  };
  const included = countries('countries');
  const excluded = countries('excludeCountries');
  const both = included.filter((c) => excluded.includes(c));
  if (both.length > 0) problems.add(`${field}.excludeCountries`, `${both.join(', ')} is also in countries; the callback would never fire for it`);

  const platforms = [...new Set(input.platforms ?? [])];
  platforms.forEach((p, i) => {
    if (!Object.values(Platform).includes(p)) problems.add(`${field}.platforms.${i}`, `must be one of ${Object.values(Platform).join(', ')}`);
  });

  const minRevenue = input.minRevenue ?? null;
  if (minRevenue !== null && !Number.isFinite(minRevenue)) problems.add(`${field}.minRevenue`, 'must be a finite number');

  const params: ParamCondition[] = (input.params ?? []).map((p, i) => {
    const at = `${field}.params.${i}`;
    const path = (p.path ?? '').trim();
    if (path === '') problems.add(`${at}.path`, 'must be a dot path into the event params (e.g. items.0.sku)');
    else if (path.length > PARTNER_RULE_LIMITS.paramPathLength) problems.add(`${at}.path`, `must be at most ${PARTNER_RULE_LIMITS.paramPathLength} characters`);
    else if (!path.split('.').every((s) => PARAM_PATH_SEGMENT.test(s))) problems.add(`${at}.path`, 'must be dot-separated keys of A-Z, a-z, 0-9, _ and - (e.g. items.0.sku)');
    const values = [...new Set(p.values ?? [])];
    if (values.length === 0) problems.add(`${at}.values`, 'must hold at least one value');
    else if (values.length > PARTNER_RULE_LIMITS.paramConditionValues) problems.add(`${at}.values`, `may hold at most ${PARTNER_RULE_LIMITS.paramConditionValues} values`);
    values.forEach((v, j) => {
      if (v.length > PARTNER_RULE_LIMITS.paramValueLength) problems.add(`${at}.values.${j}`, `must be at most ${PARTNER_RULE_LIMITS.paramValueLength} characters`);
    });
    return { path, values };
  });
  if (params.length > PARTNER_RULE_LIMITS.paramConditions) problems.add(`${field}.params`, `may hold at most ${PARTNER_RULE_LIMITS.paramConditions} conditions`);

  return { countries: included, excludeCountries: excluded, platforms, minRevenue, params };
}

/** What the conditions and the window look at. */
export interface RuleEvent {
  country: string | null;
  platform: Platform | null;
  revenue: number | null;
  params: Record<string, unknown> | null;
  occurredAt: Date;
  attributedAt: Date | null;
}

/**
 * The first condition that fails, as `field: reason` with the field name of the contract
 * (countries, excludeCountries, platforms, minRevenue, params, postbackWindowDays); null when
 * every one holds.
 */
export function failedRule(rules: { conditions: CallbackConditions; postbackWindowDays: number | null }, event: RuleEvent): string | null {
  const c = rules.conditions;
  if (c.countries.length > 0 && (event.country === null || !c.countries.includes(event.country))) {
    return `countries: the event's country (${event.country ?? 'none'}) is not one of ${c.countries.join(', ')}`;
  }
  if (event.country !== null && c.excludeCountries.includes(event.country)) {
    return `excludeCountries: the event's country ${event.country} is excluded`;
  }
  if (c.platforms.length > 0 && (event.platform === null || !c.platforms.includes(event.platform))) {
    return `platforms: the event's platform (${event.platform ?? 'none'}) is not one of ${c.platforms.join(', ')}`;
  }
  if (c.minRevenue !== null && (event.revenue === null || event.revenue < c.minRevenue)) {
    return `minRevenue: the event's revenue (${event.revenue ?? 'none'}) is below ${c.minRevenue}`;
  }
  for (const p of c.params) {
    const value = paramValue(event.params, p.path);
    if (value === null || !p.values.includes(value)) {
      return `params: the event's params.${p.path} (${value === null ? 'absent' : JSON.stringify(value)}) is not one of ${p.values.map((v) => JSON.stringify(v)).join(', ')}`;
    }
  }
  if (rules.postbackWindowDays !== null) {
    if (event.attributedAt === null) return `postbackWindowDays: the event has no touchpoint to count ${rules.postbackWindowDays} days from`;
    if (event.occurredAt.getTime() - event.attributedAt.getTime() > rules.postbackWindowDays * DAY_MS) {
      return `postbackWindowDays: the event occurred more than ${rules.postbackWindowDays} days after its touchpoint (${event.attributedAt.toISOString()})`;
    }
  }
  return null;
}

/** The mapping of this event name, if the callback has one. */
export function mappingFor(mappings: readonly EventMapping[], eventName: string): EventMapping | null {
  for (const m of mappings) if (m.eventName === eventName) return m;
  return null;
}
