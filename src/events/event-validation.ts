// Checking and normalising one recorded event, before anything touches the database.
// Pure: the caller passes `now` and collects problems for the whole batch.
import net from 'node:net';
import { AttributionType, Platform } from '../common/enums';
import { ProblemList } from '../common/errors';
import { isUuid } from '../common/ids';
import { hasLoneSurrogate } from '../common/unicode';
import { COUNTRY_CODES, CURRENCY_CODES } from './iso-codes';

export const EVENT_LIMITS = {
  nameLength: 128,
  eventIdLength: 128,
  advertisingIdLength: 128,
  userAgentLength: 1024,
  campaignIdLength: 255,
  networkSlugLength: 64,
  customerUserIdLength: 128,
  deviceIdLength: 128,
  versionLength: 64,
  /** `params` serialised as JSON, in UTF-8 bytes. */
  paramsBytes: 16 * 1024,
  /** Objects and arrays inside `params`, counting `params` itself as level 1. */
  paramsDepth: 32,
  /** Device clocks drift; an event stamped further ahead than this is a bug on the sender's side. */
  futureSkewMs: 24 * 60 * 60 * 1000,
  batchSize: 500,
} as const;

/** Nothing we send postbacks for happened before this; earlier stamps are zeroed or unit-confused clocks. */
export const EARLIEST_OCCURRED_AT = new Date('2000-01-01T00:00:00.000Z');

/** iOS reports this IDFA when the user denied tracking: it identifies nobody, so it is stored as missing. */
export const ZERO_ADVERTISING_ID = '00000000-0000-0000-0000-000000000000';

/** The event as a client sends it (RecordEventInput). */
export interface EventInput {
  appId: string;
  eventId?: string | null;
  name: string;
  occurredAt?: Date | null;
  advertisingId?: string | null;
  ipAddress?: string | null;
  userAgent?: string | null;
  country?: string | null;
  platform?: Platform | null;
  campaignId?: string | null;
  network?: string | null;
  revenue?: number | null;
  currency?: string | null;
  limitAdTracking?: boolean | null;
  params?: Record<string, unknown> | null;
  customerUserId?: string | null;
  deviceId?: string | null;
  osVersion?: string | null;
  appVersion?: string | null;
  attribution?: AttributionType | null;
}

/** The event after validation: trimmed, optional blanks as null, codes upper-cased. */
export interface ValidEvent {
  appId: string;
  eventId: string | null;
  name: string;
  /** null: the time it is received. */
  occurredAt: Date | null;
  advertisingId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  country: string | null;
  /** null: the app's platform. */
  platform: Platform | null;
  campaignId: string | null;
  networkSlug: string | null;
  revenue: number | null;
  currency: string | null;
  limitAdTracking: boolean;
  params: Record<string, unknown> | null;
  customerUserId: string | null;
  deviceId: string | null;
  osVersion: string | null;
  appVersion: string | null;
  attribution: AttributionType | null;
}

// C0 controls and DEL: they have no business in names or identifiers and break logs and CSV exports.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
// Stored, a lone surrogate would turn into U+FFFD, and an eventId would no longer find itself.
const NOT_UNICODE = 'must be valid Unicode text (it holds a lone UTF-16 surrogate)';

/**
 * Validates one input, adding every problem to `problems` under `field` (e.g. `input` or
 * `inputs.3`). Returns the normalised event; it is meaningful only if no problem was added.
 */
export function validateEventInput(input: EventInput, field: string, now: Date, problems: ProblemList): ValidEvent {
  const at = (name: string) => `${field}.${name}`;

  const appId = (input.appId ?? '').trim();
  if (!isUuid(appId)) problems.add(at('appId'), `must be an app id (a UUID), got ${JSON.stringify(input.appId)}`);

  const name = (input.name ?? '').trim();
  if (name.length === 0) problems.add(at('name'), 'must not be empty');
  else if (name.length > EVENT_LIMITS.nameLength) problems.add(at('name'), `must be at most ${EVENT_LIMITS.nameLength} characters`);
  else if (CONTROL_CHARACTERS.test(name)) problems.add(at('name'), 'must not contain control characters');
  else if (hasLoneSurrogate(name)) problems.add(at('name'), NOT_UNICODE);

  // Trimmed: MySQL's collations ignore trailing spaces in unique keys, so "order-1" and
  // "order-1 " would be one key there and two on SQLite. Trimming makes them one key everywhere.
  let eventId: string | null = null;
  if (input.eventId != null) {
    eventId = input.eventId.trim();
    if (eventId.length === 0) problems.add(at('eventId'), 'must not be empty (leave it out to record without idempotency)');
    else if (eventId.length > EVENT_LIMITS.eventIdLength) problems.add(at('eventId'), `must be at most ${EVENT_LIMITS.eventIdLength} characters`);
    else if (CONTROL_CHARACTERS.test(eventId)) problems.add(at('eventId'), 'must not contain control characters');
    else if (hasLoneSurrogate(eventId)) problems.add(at('eventId'), NOT_UNICODE);
  }

  let occurredAt: Date | null = null;
  if (input.occurredAt != null) {
    occurredAt = input.occurredAt;
    if (occurredAt.getTime() > now.getTime() + EVENT_LIMITS.futureSkewMs) {
      problems.add(at('occurredAt'), `is more than 24 hours in the future (${occurredAt.toISOString()}; now is ${now.toISOString()})`);
    } else if (occurredAt.getTime() < EARLIEST_OCCURRED_AT.getTime()) {
      problems.add(at('occurredAt'), `is before ${EARLIEST_OCCURRED_AT.toISOString()} (${occurredAt.toISOString()}); is it in seconds instead of a date?`);
    }
  }

  let advertisingId = optionalText(problems, at('advertisingId'), input.advertisingId, EVENT_LIMITS.advertisingIdLength);
  if (advertisingId === ZERO_ADVERTISING_ID) advertisingId = null;

  const ipAddress = optionalText(problems, at('ipAddress'), input.ipAddress, 45);
  if (ipAddress !== null && net.isIP(ipAddress) === 0) problems.add(at('ipAddress'), `must be an IPv4 or IPv6 address, got ${JSON.stringify(ipAddress)}`);

  const userAgent = optionalText(problems, at('userAgent'), input.userAgent, EVENT_LIMITS.userAgentLength);

  let country = optionalText(problems, at('country'), input.country, 64);
  if (country !== null) {
    country = country.toUpperCase();
    if (!COUNTRY_CODES.has(country)) problems.add(at('country'), `must be an ISO 3166-1 alpha-2 country code such as DE or US, got ${JSON.stringify(input.country)}`);
  }

  let currency = optionalText(problems, at('currency'), input.currency, 64);
  if (currency !== null) {
    currency = currency.toUpperCase();
    if (!CURRENCY_CODES.has(currency)) problems.add(at('currency'), `must be an ISO 4217 currency code such as EUR or USD, got ${JSON.stringify(input.currency)}`);
  }

  let revenue: number | null = null;
  if (input.revenue != null) {
    revenue = input.revenue;
    if (!Number.isFinite(revenue)) problems.add(at('revenue'), 'must be a finite number');
    // -0 would render as "0" anyway; store the plain zero.
    if (Object.is(revenue, -0)) revenue = 0;
  }

  const campaignId = optionalText(problems, at('campaignId'), input.campaignId, EVENT_LIMITS.campaignIdLength);
  const networkSlug = optionalText(problems, at('network'), input.network, EVENT_LIMITS.networkSlugLength);

  const customerUserId = optionalText(problems, at('customerUserId'), input.customerUserId, EVENT_LIMITS.customerUserIdLength);
  let deviceId = optionalText(problems, at('deviceId'), input.deviceId, EVENT_LIMITS.deviceIdLength);
  // An all-zero IDFV identifies nobody either; as a key it would join every such device into one user.
  if (deviceId === ZERO_ADVERTISING_ID) deviceId = null;
  const osVersion = optionalText(problems, at('osVersion'), input.osVersion, EVENT_LIMITS.versionLength);
  const appVersion = optionalText(problems, at('appVersion'), input.appVersion, EVENT_LIMITS.versionLength);

  let params: Record<string, unknown> | null = null;
  if (input.params != null) {
    params = input.params;
    if (typeof params !== 'object' || Array.isArray(params)) {
      problems.add(at('params'), 'must be a JSON object');
    } else if (jsonDepth(params, EVENT_LIMITS.paramsDepth) > EVENT_LIMITS.paramsDepth) {
      // Checked first: JSON.stringify recurses, and thousands of levels overflow the stack.
      problems.add(at('params'), `nests deeper than ${EVENT_LIMITS.paramsDepth} levels`);
    } else {
      const bytes = Buffer.byteLength(JSON.stringify(params), 'utf8');
      if (bytes > EVENT_LIMITS.paramsBytes) {
        problems.add(at('params'), `is ${bytes} bytes as JSON; the limit is ${EVENT_LIMITS.paramsBytes} bytes (16 KB)`);
      }
    }
  }

  return {
    appId,
    eventId,
    name,
    occurredAt,
    advertisingId,
    ipAddress,
    userAgent,
    country,
    platform: input.platform ?? null,
    campaignId,
    networkSlug,
    revenue,
    currency,
    limitAdTracking: input.limitAdTracking ?? false,
    params,
    customerUserId,
    deviceId,
    osVersion,
    appVersion,
    attribution: input.attribution ?? null,
  };
}

/** Trimmed text, or null when absent or blank (SDKs send "" for "unknown"). */
function optionalText(problems: ProblemList, field: string, value: string | null | undefined, maxLength: number): string | null {
  if (value == null) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (trimmed.length > maxLength) problems.add(field, `must be at most ${maxLength} characters`);
  else if (CONTROL_CHARACTERS.test(trimmed)) problems.add(field, 'must not contain control characters');
  else if (hasLoneSurrogate(trimmed)) problems.add(field, NOT_UNICODE);
  return trimmed;
}

/** How deep objects and arrays nest in `value` (a scalar is 0), counted without recursion and no further than `limit` + 1. */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop() as { value: unknown; depth: number };
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push({ value: child, depth: depth + 1 });
  }
  return deepest;
}
