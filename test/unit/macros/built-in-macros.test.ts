import { Platform } from '../../../src/common/enums';
import {
  BUILT_IN_MACRO_NAMES,
  BUILT_IN_MACROS,
  builtInMacroValue,
  DEVICE_IDENTIFIER_MACROS,
  formatRevenue,
} from '../../../src/macros/built-in-macros';
import { MACRO_NAME_PATTERN } from '../../../src/macros/template';
import { makeContext } from './fixtures';

const CONTRACT_BUILT_INS = [
  'advertising_id', 'ip_address', 'user_agent', 'bundle_id', 'app_id', 'app_name', 'platform',
  'event_name', 'event_id', 'event_uuid', 'campaign_id', 'network', 'country', 'revenue',
  'currency', 'occurred_at', 'occurred_at_unix', 'received_at_unix', 'delivery_id', 'limit_ad_tracking',
  'revenue_usd', 'revenue_usd_cents', 'revenue_usd_micros', 'revenue_net', 'revenue_usd_net',
  ...ATTRIBUTION_BUILT_INS(),
];

/** next.graphql, attribution and partner rules. */
function ATTRIBUTION_BUILT_INS(): string[] {
  return [
    'is_attributed', 'attribution_type', 'attributed_at', 'attributed_at_unix', 'days_since_attribution',
    'customer_user_id', 'device_id', 'os_version', 'app_version', 'partner_event_name', 'params_json',
  ];
}

describe('BUILT_IN_MACROS', () => {
  it('lists exactly the contract built-ins, in order', () => {
    expect(BUILT_IN_MACROS.map((m) => m.name)).toEqual(CONTRACT_BUILT_INS);
    expect([...BUILT_IN_MACRO_NAMES].sort()).toEqual([...CONTRACT_BUILT_INS].sort());
  });

  it.each(BUILT_IN_MACROS.map((m) => [m.name, m] as const))('%s has a valid name, a description and an example', (_n, m) => {
    expect(MACRO_NAME_PATTERN.test(m.name)).toBe(true);
    expect(m.description.length).toBeGreaterThan(10);
    expect(typeof m.example).toBe('string');
    expect(Object.keys(m).sort()).toEqual(['description', 'example', 'name']);
  });

  it('names the device identifiers', () => {
    expect([...DEVICE_IDENTIFIER_MACROS]).toEqual(['advertising_id', 'ip_address', 'user_agent']);
  });
});

describe('builtInMacroValue', () => {
  const ctx = makeContext();

  it.each<[string, string | null]>([
    ['advertising_id', '6D92078A-8246-4BA4-AE5B-76104861E7DC'],
    ['ip_address', '203.0.113.7'],
    ['user_agent', 'MyApp/3.2 (iPhone; iOS 17.4)'],
    ['bundle_id', 'com.example.game'],
    ['app_id', 'app-1'],
    ['app_name', 'Example Game'],
    ['platform', 'ios'],
    ['event_name', 'purchase'],
    ['event_id', 'order-1234'],
    ['event_uuid', '0b8e8f0e-3c1a-4f7e-9d7e-5f6b2a1c9d40'],
    ['campaign_id', 'summer-sale'],
    ['network', 'adnet'],
    ['country', 'DE'],
    ['revenue', '4.99'],
    ['currency', 'EUR'],
    ['occurred_at', '2024-05-01T12:34:56.789Z'],
    ['occurred_at_unix', '1714566896'],
    ['received_at_unix', '1714566901'],
    ['delivery_id', '7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d'],
    ['limit_ad_tracking', '0'],
    ['revenue_usd', '5.423913'],
    ['revenue_usd_cents', '542'],
    ['revenue_usd_micros', '5423913'],
    ['revenue_net', '4.99'],
    ['revenue_usd_net', '5.423913'],
  ])('%s of a full event is %p', (name, expected) => {
    expect(builtInMacroValue(name, ctx)).toBe(expected);
  });

  it('covers every built-in in the table above', () => {
    for (const { name } of BUILT_IN_MACROS) expect(builtInMacroValue(name, ctx)).not.toBeNull();
  });

  const sparse = makeContext({
    eventId: null, advertisingId: null, ipAddress: null, userAgent: null, country: null, platform: null,
    campaignId: null, networkSlug: null, revenue: null, currency: null, limitAdTracking: true,
  });
  it.each<[string, string | null]>([
    ['advertising_id', null],
    ['ip_address', null],
    ['user_agent', null],
    ['event_id', null],
    ['campaign_id', null],
    ['network', null],
    ['country', null],
    ['revenue', null],
    ['currency', null],
    ['platform', 'android'],
    ['limit_ad_tracking', '1'],
    ['event_name', 'purchase'],
  ])('%s of a sparse event is %p', (name, expected) => {
    expect(builtInMacroValue(name, sparse)).toBe(expected);
  });

  it.each<[Platform | null, Platform, string]>([
    [Platform.IOS, Platform.ANDROID, 'ios'],
    [Platform.WEB, Platform.IOS, 'web'],
    [Platform.OTHER, Platform.IOS, 'other'],
    [null, Platform.ANDROID, 'android'],
    [null, Platform.WEB, 'web'],
  ])('platform: event %p, app %p → %p', (eventPlatform, appPlatform, expected) => {
    const c = makeContext({ platform: eventPlatform, app: { ...ctx.app, platform: appPlatform } });
    expect(builtInMacroValue('platform', c)).toBe(expected);
  });

  it.each<[string, string, string]>([
    ['1970-01-01T00:00:00.000Z', '0', '1970-01-01T00:00:00.000Z'],
    ['2024-05-01T12:34:56.999Z', '1714566896', '2024-05-01T12:34:56.999Z'],
    ['2024-05-01T14:34:56.001+02:00', '1714566896', '2024-05-01T12:34:56.001Z'],
    ['1969-12-31T23:59:59.500Z', '-1', '1969-12-31T23:59:59.500Z'],
  ])('times: %s → unix %s, ISO %s (whole seconds, rounded down; UTC)', (iso, unix, utc) => {
    const c = makeContext({ occurredAt: new Date(iso), receivedAt: new Date(iso) });
    expect(builtInMacroValue('occurred_at_unix', c)).toBe(unix);
    expect(builtInMacroValue('received_at_unix', c)).toBe(unix);
    expect(builtInMacroValue('occurred_at', c)).toBe(utc);
  });

  it.each<[number, string]>([
    [0, '0'],
    [1.5, '1.5'],
    [1e21, '1000000000000000000000'],
    [0.000001, '0.000001'],
  ])('revenue %p renders %p', (revenue, expected) => {
    expect(builtInMacroValue('revenue', makeContext({ revenue }))).toBe(expected);
  });

  it('the network slug is given as the sender gave it, configured or not', () => {
    expect(builtInMacroValue('network', makeContext({ networkSlug: 'Unknown-Net' }))).toBe('Unknown-Net');
  });

  it.each(['nope', '', 'ADVERTISING_ID', 'toString', '__proto__', 'constructor'])('unknown name %p is null', (name) => {
    expect(builtInMacroValue(name, ctx)).toBeNull();
  });
});

describe('formatRevenue', () => {
  it.each<[number, string]>([
    [0, '0'],
    [-0, '0'],
    [1, '1'],
    [1.5, '1.5'],
    [-1.5, '-1.5'],
    [4.99, '4.99'],
    [0.1 + 0.2, '0.30000000000000004'],
    [100, '100'],
    [123456789.125, '123456789.125'],
    [1e20, '100000000000000000000'],
    [1e21, '1000000000000000000000'],
    [1.5e21, '1500000000000000000000'],
    [-2.5e22, '-25000000000000000000000'],
    [1.2345678901234566e25, '12345678901234566000000000'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [1e-6, '0.000001'],
    [1e-7, '0.0000001'],
    [1.5e-7, '0.00000015'],
    [-1.23e-10, '-0.000000000123'],
    [5e-324, `0.${'0'.repeat(323)}5`],
  ])('%p → %p', (n, expected) => {
    const s = formatRevenue(n);
    expect(s).toBe(expected);
    expect(s).not.toMatch(/e/i);
    expect(Number(s)).toBe(n === 0 ? 0 : n);
  });

  it('expands the largest double without an exponent and reads back the same', () => {
    const s = formatRevenue(Number.MAX_VALUE);
    expect(s).toMatch(/^17976931348623157\d{292}$/);
    expect(Number(s)).toBe(Number.MAX_VALUE);
  });

  it.each([NaN, Infinity, -Infinity])('%p has no decimal form', (n) => {
    expect(() => formatRevenue(n)).toThrow(RangeError);
  });
});

describe('attribution built-ins', () => {
  const value = (name: string, overrides: Parameters<typeof makeContext>[0] = {}) => builtInMacroValue(name, makeContext(overrides));

  it('render the attribution of the event as the context carries it', () => {
    expect(value('is_attributed')).toBe('1');
    expect(value('is_attributed', { isAttributed: false })).toBe('0');
    expect(value('attribution_type')).toBe('install');
    expect(value('attribution_type', { attribution: null })).toBeNull();
    expect(value('attributed_at')).toBe('2024-04-28T09:15:00.000Z');
    expect(value('attributed_at_unix')).toBe(String(Date.parse('2024-04-28T09:15:00.000Z') / 1000));
    expect(value('attributed_at', { attributedAt: null })).toBeNull();
  });

  it('count whole days since the touchpoint, rounding down', () => {
    // 2024-04-28T09:15 to 2024-05-01T12:34: three days and a bit.
    expect(value('days_since_attribution')).toBe('3');
    expect(value('days_since_attribution', { attributedAt: new Date('2024-05-01T12:34:56.789Z') })).toBe('0');
    expect(value('days_since_attribution', { attributedAt: new Date('2024-04-30T12:34:56.790Z') })).toBe('0');
    expect(value('days_since_attribution', { attributedAt: new Date('2024-04-30T12:34:56.789Z') })).toBe('1');
    expect(value('days_since_attribution', { attributedAt: null })).toBeNull();
  });

  it('carry the user and device fields, the partner event name and the params as JSON', () => {
    expect(value('customer_user_id')).toBe('user-8812');
    expect(value('device_id')).toBe('E3B1C4D2-7F6A-4E2B-9C1D-0A2B3C4D5E6F');
    expect(value('os_version')).toBe('17.4');
    expect(value('app_version')).toBe('3.2.0');
    expect(value('partner_event_name', { partnerEventName: 'af_purchase' })).toBe('af_purchase');
    expect(JSON.parse(value('params_json', { params: { sku: 'gems', n: 2 } }) as string)).toEqual({ sku: 'gems', n: 2 });
    expect(value('params_json', { params: null })).toBeNull();
  });
});
