import { Platform } from '../../../src/common/enums';
import { ProblemList } from '../../../src/common/errors';
import { EventInput, validateEventInput } from '../../../src/events/event-validation';

const NOW = new Date('2026-11-25T12:00:00.000Z');
const APP = '0191c1d2-0000-7000-8000-000000000001';

function check(overrides: Partial<EventInput>) {
  const problems = new ProblemList();
  const event = validateEventInput({ appId: APP, name: 'install', ...overrides }, 'input', NOW, problems);
  return { event, problems: problems.problems };
}

/** `{ a: { a: … } }`: an object holding `levels` more objects inside it. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

describe('validateEventInput', () => {
  it('accepts a minimal event and leaves optional fields null', () => {
    const { event, problems } = check({});
    expect(problems).toEqual([]);
    expect(event).toEqual({
      appId: APP, eventId: null, name: 'install', occurredAt: null, advertisingId: null, ipAddress: null, userAgent: null,
      country: null, platform: null, campaignId: null, networkSlug: null, revenue: null, currency: null, limitAdTracking: false, params: null,
      customerUserId: null, deviceId: null, osVersion: null, appVersion: null, attribution: null,
    });
  });

  it('normalises: trims, upper-cases codes, blanks to null, the zero IDFA to null, -0 to 0', () => {
    const { event, problems } = check({
      name: '  purchase ', country: 'de', currency: ' usd', advertisingId: '00000000-0000-0000-0000-000000000000', campaignId: '   ',
      network: ' adnet ', revenue: -0, platform: Platform.ANDROID, ipAddress: ' 2001:db8::1 ',
    });
    expect(problems).toEqual([]);
    expect(event).toMatchObject({ name: 'purchase', country: 'DE', currency: 'USD', advertisingId: null, campaignId: null, networkSlug: 'adnet', platform: Platform.ANDROID, ipAddress: '2001:db8::1' });
    expect(Object.is(event.revenue, 0)).toBe(true);
  });

  it('trims the idempotency key (MySQL would ignore trailing spaces in the unique key anyway), keeping inner spaces and case', () => {
    expect(check({ eventId: ' Order 1 ' }).event.eventId).toBe('Order 1');
    expect(check({ eventId: '   ' }).problems.map((p) => p.field)).toEqual(['input.eventId']);
  });

  it.each<[string, Partial<EventInput>, string, RegExp]>([
    ['app id not a UUID', { appId: 'app-1' }, 'input.appId', /UUID/],
    ['empty name', { name: '' }, 'input.name', /empty/],
    ['name too long', { name: 'n'.repeat(129) }, 'input.name', /128/],
    ['name with a newline', { name: 'a\nb' }, 'input.name', /control/],
    ['empty eventId', { eventId: '' }, 'input.eventId', /empty/],
    ['eventId too long', { eventId: 'e'.repeat(129) }, 'input.eventId', /128/],
    ['IPv4 out of range', { ipAddress: '256.0.0.1' }, 'input.ipAddress', /IPv4 or IPv6/],
    ['IP with a port', { ipAddress: '1.2.3.4:80' }, 'input.ipAddress', /IPv4 or IPv6/],
    ['host name as IP', { ipAddress: 'example.com' }, 'input.ipAddress', /IPv4 or IPv6/],
    ['country of three letters', { country: 'DEU' }, 'input.country', /alpha-2/],
    ['unassigned country', { country: 'XX' }, 'input.country', /alpha-2/],
    ['currency symbol', { currency: '$' }, 'input.currency', /4217/],
    ['unknown currency', { currency: 'ABC' }, 'input.currency', /4217/],
    ['revenue NaN', { revenue: Number.NaN }, 'input.revenue', /finite/],
    ['revenue Infinity', { revenue: Number.POSITIVE_INFINITY }, 'input.revenue', /finite/],
    ['occurredAt 25 h ahead', { occurredAt: new Date(NOW.getTime() + 25 * 3600_000) }, 'input.occurredAt', /future/],
    ['occurredAt in 1970', { occurredAt: new Date(86_400_000) }, 'input.occurredAt', /seconds/],
    ['advertisingId too long', { advertisingId: 'a'.repeat(129) }, 'input.advertisingId', /128/],
    ['userAgent too long', { userAgent: 'u'.repeat(1025) }, 'input.userAgent', /1024/],
    ['campaignId too long', { campaignId: 'c'.repeat(256) }, 'input.campaignId', /255/],
    ['network slug too long', { network: 's'.repeat(65) }, 'input.network', /64/],
    ['params over 16 KB', { params: { v: 'x'.repeat(16 * 1024) } }, 'input.params', /16 KB/],
    ['params of multi-byte characters over 16 KB in bytes', { params: { v: 'é'.repeat(8200) } }, 'input.params', /bytes/],
    ['params an array', { params: [1] as unknown as Record<string, unknown> }, 'input.params', /object/],
    ['params nested 33 levels', { params: nested(32) }, 'input.params', /deeper than 32/],
    ['params nested 100,000 levels (JSON.stringify would overflow the stack)', { params: nested(100_000) }, 'input.params', /deeper than 32/],
    ['eventId with a lone surrogate', { eventId: 'order-\ud800' }, 'input.eventId', /lone UTF-16 surrogate/],
    ['name with a lone low surrogate', { name: '\udc00x' }, 'input.name', /lone UTF-16 surrogate/],
    ['campaignId with a lone surrogate', { campaignId: 'c\udbff' }, 'input.campaignId', /lone UTF-16 surrogate/],
  ])('rejects %s', (_label, overrides, field, reason) => {
    const { problems } = check(overrides);
    expect(problems.map((p) => p.field)).toEqual([field]);
    expect(problems[0].reason).toMatch(reason);
  });

  it('accepts the edges of each limit', () => {
    const { problems } = check({
      name: 'n'.repeat(128), eventId: 'e'.repeat(128), occurredAt: new Date(NOW.getTime() + 24 * 3600_000), ipAddress: '::ffff:1.2.3.4',
      params: { v: 'x'.repeat(16 * 1024 - 8) }, revenue: -12.5, currency: 'JPY', country: 'gb',
    });
    expect(problems).toEqual([]);
    expect(check({ params: nested(31) }).problems).toEqual([]); // 32 levels with the outer object
    expect(check({ eventId: 'order-🧩', name: 'kauf 🛒' }).problems).toEqual([]); // surrogate pairs are fine
  });

  it('reports every problem of an input at once, under the given field prefix', () => {
    const problems = new ProblemList();
    validateEventInput({ appId: 'x', name: '', country: 'ZZ', currency: 'ZZZ' }, 'inputs.7', NOW, problems);
    expect(problems.problems.map((p) => p.field)).toEqual(['inputs.7.appId', 'inputs.7.name', 'inputs.7.country', 'inputs.7.currency']);
  });
});
