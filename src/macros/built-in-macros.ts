// The built-in macros of the contract and their values for one event and delivery.

import { AttributionType, Platform } from '../common/enums';
import { revenueMacros } from '../revenue/revenue-macros';

/** What a postback is rendered from: the event, its app and the delivery being queued. */
export interface PostbackEventContext {
  eventUuid: string;
  eventId: string | null;
  name: string;
  occurredAt: Date;
  receivedAt: Date;
  advertisingId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  country: string | null;
  platform: Platform | null;
  campaignId: string | null;
  networkSlug: string | null;
  revenue: number | null;
  currency: string | null;
  limitAdTracking: boolean;
  params: Record<string, unknown> | null;
  app: { id: string; name: string; bundleId: string; platform: Platform };
  deliveryId: string;

  // Attribution and partner rules. networkSlug, campaignId, attribution and attributedAt arrive
  // already masked for a partner the event is not attributed to (see renderFor in event.service.ts).
  customerUserId: string | null;
  deviceId: string | null;
  osVersion: string | null;
  appVersion: string | null;
  attribution: AttributionType | null;
  attributedAt: Date | null;
  /** Attributed to this callback's network; for a callback without one, to any configured network. */
  isAttributed: boolean;
  /** The callback's eventMappings name for this event, else the event's own name. */
  partnerEventName: string;

  // Revenue macros (src/revenue/revenue-macros.ts): found when the event is recorded.
  /** Units of the event's currency per 1 USD in force on its UTC date; null or absent: none. */
  usdRate?: number | null;
  /** The app's storeCutPercent (0..100) for the *_net macros; absent: 0. */
  storeCutPercent?: number | null;
  /** Filled while rendering with why a value rendered empty (the delivery's renderNotes). */
  renderNotes?: string[];
}

interface BuiltInMacro {
  name: string;
  description: string;
  example: string | null;
  value: (ctx: PostbackEventContext) => string | null;
}

const BUILT_INS: readonly BuiltInMacro[] = [
  {
    name: 'advertising_id',
    description: "The device's advertising identifier (IDFA or GAID); empty under limit ad tracking on a network's callback.",
    example: '6d92078a-8246-4ba4-ae5b-76104861e7dc',
    value: (c) => c.advertisingId,
  },
  {
    name: 'ip_address',
    description: "The device's IP address; empty under limit ad tracking on a network's callback.",
    example: '203.0.113.7',
    value: (c) => c.ipAddress,
  },
  {
    name: 'user_agent',
    description: "The device's User-Agent; empty under limit ad tracking on a network's callback.",
    example: 'MyApp/3.2 (iPhone; iOS 17.4)',
    value: (c) => c.userAgent,
  },
  { name: 'bundle_id', description: "The app's bundle id or package name.", example: 'com.example.game', value: (c) => c.app.bundleId },
  { name: 'app_id', description: "The app's id in this service.", example: '3f1c9a52-5a3e-4a8e-9a7b-2c4d1e0f6a11', value: (c) => c.app.id },
  { name: 'app_name', description: "The app's name.", example: 'Example Game', value: (c) => c.app.name },
  {
    name: 'platform',
    description: "The event's platform, else the app's, in lowercase (ios, android, web, other).",
    example: 'ios',
    value: (c) => (c.platform ?? c.app.platform).toLowerCase(),
  },
  { name: 'event_name', description: "The event's name.", example: 'purchase', value: (c) => c.name },
  { name: 'event_id', description: "The sender's idempotency key for the event (eventId).", example: 'order-1234', value: (c) => c.eventId },
  { name: 'event_uuid', description: "The event's id in this service (Event.id).", example: '0b8e8f0e-3c1a-4f7e-9d7e-5f6b2a1c9d40', value: (c) => c.eventUuid },
  { name: 'campaign_id', description: "The campaign the event is attributed to (sent or inherited); empty to a network the event is not attributed to.", example: 'summer-sale', value: (c) => c.campaignId },
  {
    name: 'network',
    description: "The event's attribution network slug as the sender gave it (or as the inherited touchpoint's sender gave it); empty when unattributed, and to a network the event is not attributed to.",
    example: 'adnet',
    value: (c) => c.networkSlug,
  },
  { name: 'country', description: "The event's country code.", example: 'DE', value: (c) => c.country },
  {
    name: 'revenue',
    description: 'The revenue as the shortest plain decimal that reads back as the same number (1.5, never 1.500000 or an exponent).',
    example: '4.99',
    value: (c) => (c.revenue === null || !Number.isFinite(c.revenue) ? null : formatRevenue(c.revenue)),
  },
  { name: 'currency', description: 'The revenue currency code.', example: 'EUR', value: (c) => c.currency },
  {
    name: 'occurred_at',
    description: 'When the event occurred, ISO-8601 UTC with milliseconds.',
    example: '2024-05-01T12:34:56.789Z',
    value: (c) => c.occurredAt.toISOString(),
  },
  {
    name: 'occurred_at_unix',
    description: 'When the event occurred, Unix time in whole seconds.',
    example: '1714566896',
    value: (c) => unixSeconds(c.occurredAt),
  },
  {
    name: 'received_at_unix',
    description: 'When this service received the event, Unix time in whole seconds.',
    example: '1714566897',
    value: (c) => unixSeconds(c.receivedAt),
  },
  {
    name: 'delivery_id',
    description: "This postback's delivery id, the same as its webhook-id header.",
    example: '7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    value: (c) => c.deliveryId,
  },
  {
    name: 'limit_ad_tracking',
    description: '1 when the user limited ad tracking, else 0.',
    example: '0',
    value: (c) => (c.limitAdTracking ? '1' : '0'),
  },
  ...revenueMacros(formatRevenue),
];

// Attribution and partner rules.
const ATTRIBUTION_BUILT_INS: readonly BuiltInMacro[] = [
  {
    name: 'is_attributed',
    description: "1 when the event is attributed to this callback's network (for a callback without a network: to any configured network), else 0.",
    example: '1',
    value: (c) => (c.isAttributed ? '1' : '0'),
  },
  {
    name: 'attribution_type',
    description: 'install, reinstall or reengagement: the type of the touchpoint the event is attributed through; empty when unattributed or attributed to another network.',
    example: 'install',
    value: (c) => (c.attribution === null ? null : c.attribution.toLowerCase()),
  },
  {
    name: 'attributed_at',
    description: "When the event's touchpoint occurred (its own time when it is one), ISO-8601 UTC; empty when unattributed or attributed to another network.",
    example: '2024-04-28T09:15:00.000Z',
    value: (c) => (c.attributedAt === null ? null : c.attributedAt.toISOString()),
  },
  {
    name: 'attributed_at_unix',
    description: "When the event's touchpoint occurred, Unix time in whole seconds; empty like attributed_at.",
    example: '1714295700',
    value: (c) => (c.attributedAt === null ? null : unixSeconds(c.attributedAt)),
  },
  {
    name: 'days_since_attribution',
    description: 'Whole days from the touchpoint to the event (0 on the day of the install); empty like attributed_at.',
    example: '3',
    value: (c) => (c.attributedAt === null ? null : String(Math.max(0, Math.floor((c.occurredAt.getTime() - c.attributedAt.getTime()) / 86_400_000)))),
  },
  { name: 'customer_user_id', description: "The advertiser's own user id.", example: 'user-8812', value: (c) => c.customerUserId },
  { name: 'device_id', description: 'The developer device id (IDFV, app set id).', example: 'e3b1c4d2-7f6a-4e2b-9c1d-0a2b3c4d5e6f', value: (c) => c.deviceId },
  { name: 'os_version', description: "The device's OS version.", example: '17.4', value: (c) => c.osVersion },
  { name: 'app_version', description: "The app's version.", example: '3.2.0', value: (c) => c.appVersion },
  {
    name: 'partner_event_name',
    description: "The partner's name for the event (the callback's eventMappings), else the event's own name.",
    example: 'af_purchase',
    value: (c) => c.partnerEventName,
  },
  {
    name: 'params_json',
    description: "The event's params as one JSON object; empty when the callback's value sharing is NONE or the event has none.",
    example: '{"sku":"gems_100"}',
    value: (c) => (c.params === null ? null : JSON.stringify(c.params)),
  },
];

const BY_NAME = new Map([...BUILT_INS, ...ATTRIBUTION_BUILT_INS].map((m) => [m.name, m]));

export const BUILT_IN_MACROS: ReadonlyArray<{ name: string; description: string; example: string | null }> =
  [...BUILT_INS, ...ATTRIBUTION_BUILT_INS].map(({ name, description, example }) => Object.freeze({ name, description, example }));

export const BUILT_IN_MACRO_NAMES: ReadonlySet<string> = new Set(BY_NAME.keys());

/** Blanked under limit ad tracking on a callback that has a network. */
export const DEVICE_IDENTIFIER_MACROS: readonly string[] = ['advertising_id', 'ip_address', 'user_agent'];

/** The built-in's value for this event, or null when the event lacks it (or the name is no built-in). */
export function builtInMacroValue(name: string, ctx: PostbackEventContext): string | null {
  const macro = BY_NAME.get(name);
  return macro ? macro.value(ctx) : null;
}

function unixSeconds(date: Date): string {
  return String(Math.floor(date.getTime() / 1000));
}

/**
 * The shortest decimal that reads back as the same number, never with an exponent:
 * 1.5 → "1.5", 1e21 → "1000000000000000000000", 1e-7 → "0.0000001", -0 → "0".
 * Throws RangeError for NaN and ±Infinity, which have no decimal form.
 */
export function formatRevenue(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`${n} has no decimal form`);
  // String() already gives the shortest round-tripping digits; only the layout may need fixing.
  const s = String(n);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!match) return s;
  const [, sign, intPart, fracPart = '', exp] = match;
  const digits = intPart + fracPart;
  const point = intPart.length + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
