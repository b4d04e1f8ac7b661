import { MacroSource, Platform, ValueSharing } from '../../../src/common/enums';
import { ProblemList } from '../../../src/common/errors';
import { noConditions } from '../../../src/callbacks/callback.entity';
import { failedRule, mappingFor, normalizeConditions, normalizeEventMappings, type RuleEvent } from '../../../src/callbacks/partner-rules';
import { matchCallback } from '../../../src/events/callback-matching';
import { isWithheld } from '../../../src/macros/value-sharing';
import { createMacroLookup } from '../../../src/macros/macro-resolution';
import { macro, makeContext } from '../macros/fixtures';

const DAY = 24 * 60 * 60 * 1000;
const problemsOf = (fn: (p: ProblemList) => unknown) => {
  const problems = new ProblemList();
  const value = fn(problems);
  return { value, fields: problems.problems.map((p) => p.field) };
};

describe('normalizeEventMappings', () => {
  it('trims, defaults share to VALUES_AND_REVENUE and an empty partner name to null', () => {
    const { value, fields } = problemsOf((p) => normalizeEventMappings(p, 'input.eventMappings', [{ eventName: ' purchase ', partnerEventName: 'af_purchase' }, { eventName: 'login', partnerEventName: ' ', share: ValueSharing.NONE }], []));
    expect(fields).toEqual([]);
    expect(value).toEqual([
      { eventName: 'purchase', partnerEventName: 'af_purchase', share: ValueSharing.VALUES_AND_REVENUE },
      { eventName: 'login', partnerEventName: null, share: ValueSharing.NONE },
    ]);
  });

  it('refuses a name that a non-empty eventNames does not hold, a name mapped twice, and an empty name', () => {
    const { fields } = problemsOf((p) => normalizeEventMappings(p, 'input.eventMappings', [{ eventName: 'purchase' }, { eventName: 'install' }, { eventName: 'purchase' }, { eventName: '' }], ['purchase']));
    expect(fields).toEqual(['input.eventMappings.1.eventName', 'input.eventMappings.2.eventName', 'input.eventMappings.3.eventName']);
  });

  it('refuses an over-long partner name', () => {
    const { fields } = problemsOf((p) => normalizeEventMappings(p, 'f', [{ eventName: 'a', partnerEventName: 'x'.repeat(129) }], []));
    expect(fields).toEqual(['f.0.partnerEventName']);
  });
});

describe('normalizeConditions', () => {
  it('upper-cases and de-duplicates countries and keeps the rest', () => {
    const { value, fields } = problemsOf((p) =>
      normalizeConditions(p, 'input.conditions', { countries: ['us', 'US', 'de'], platforms: [Platform.IOS], minRevenue: 0.5, params: [{ path: 'tier', values: ['gold'] }] }),
    );
    expect(fields).toEqual([]);
    expect(value).toEqual({ countries: ['US', 'DE'], excludeCountries: [], platforms: [Platform.IOS], minRevenue: 0.5, params: [{ path: 'tier', values: ['gold'] }] });
  });

  it('names every bad field', () => {
    const { fields } = problemsOf((p) =>
      normalizeConditions(p, 'input.conditions', {
        countries: ['USA', 'FR'],
        excludeCountries: ['fr'],
        minRevenue: Number.POSITIVE_INFINITY,
        params: [{ path: 'a..b', values: ['x'] }, { path: 'ok', values: [] }],
      }),
    );
    expect(fields).toEqual([
      'input.conditions.countries.0',
      'input.conditions.excludeCountries',
      'input.conditions.minRevenue',
      'input.conditions.params.0.path',
      'input.conditions.params.1.values',
    ]);
  });
});

describe('failedRule', () => {
  const event = (fields: Partial<RuleEvent> = {}): RuleEvent => ({
    country: 'US', platform: Platform.IOS, revenue: 4.99, params: { tier: 'gold', level: 7 },
    occurredAt: new Date('2026-03-10T00:00:00Z'), attributedAt: new Date('2026-03-01T00:00:00Z'), ...fields,
  });
  const rules = (conditions: Partial<ReturnType<typeof noConditions>> = {}, postbackWindowDays: number | null = null) => ({ conditions: { ...noConditions(), ...conditions }, postbackWindowDays });
  const field = (r: string | null) => (r === null ? null : r.slice(0, r.indexOf(':')));

  it.each<[string, ReturnType<typeof rules>, Partial<RuleEvent>, string | null]>([
    ['no conditions', rules(), {}, null],
    ['countries holds', rules({ countries: ['US', 'CA'] }), {}, null],
    ['countries fails', rules({ countries: ['DE'] }), {}, 'countries'],
    ['countries fails without a country', rules({ countries: ['US'] }), { country: null }, 'countries'],
    ['excludeCountries fails', rules({ excludeCountries: ['US'] }), {}, 'excludeCountries'],
    ['excludeCountries holds without a country', rules({ excludeCountries: ['US'] }), { country: null }, null],
    ['platforms holds', rules({ platforms: [Platform.IOS] }), {}, null],
    ['platforms fails', rules({ platforms: [Platform.ANDROID] }), {}, 'platforms'],
    ['minRevenue is inclusive', rules({ minRevenue: 4.99 }), {}, null],
    ['minRevenue fails below', rules({ minRevenue: 5 }), {}, 'minRevenue'],
    ['minRevenue fails without revenue', rules({ minRevenue: 0 }), { revenue: null }, 'minRevenue'],
    ['params compare as strings', rules({ params: [{ path: 'level', values: ['7'] }] }), {}, null],
    ['params fail on another value', rules({ params: [{ path: 'tier', values: ['silver'] }] }), {}, 'params'],
    ['params fail when absent', rules({ params: [{ path: 'missing', values: ['x'] }] }), {}, 'params'],
    ['every param must hold', rules({ params: [{ path: 'tier', values: ['gold'] }, { path: 'level', values: ['8'] }] }), {}, 'params'],
    ['the window holds inside', rules({}, 9), {}, null],
    ['the window fails outside', rules({}, 8), {}, 'postbackWindowDays'],
    ['the window fails without attributedAt', rules({}, 365), { attributedAt: null }, 'postbackWindowDays'],
  ])('%s', (_label, r, fields, expected) => {
    expect(field(failedRule(r, event(fields)))).toBe(expected);
  });

  it('counts the window to the millisecond', () => {
    const attributedAt = new Date('2026-03-01T00:00:00Z');
    expect(failedRule(rules({}, 1), event({ attributedAt, occurredAt: new Date(attributedAt.getTime() + DAY) }))).toBeNull();
    expect(failedRule(rules({}, 1), event({ attributedAt, occurredAt: new Date(attributedAt.getTime() + DAY + 1) }))).not.toBeNull();
  });
});

describe('matchCallback with partner rules', () => {
  const callback = { enabled: true, eventNames: [], attributedOnly: false, networkId: null, conditions: { ...noConditions(), countries: ['US'] }, postbackWindowDays: null };
  it('names the failed condition after the existing rules', () => {
    expect(matchCallback(callback, { name: 'purchase', networkId: null, country: 'US' })).toEqual({ fires: true });
    const verdict = matchCallback(callback, { name: 'purchase', networkId: null, country: 'FR' });
    expect(verdict.fires).toBe(false);
    expect(!verdict.fires && verdict.reason.startsWith('countries:')).toBe(true);
    const disabled = matchCallback({ ...callback, enabled: false }, { name: 'purchase', networkId: null, country: 'FR' });
    expect(!disabled.fires && disabled.reason).toBe('the callback is disabled');
  });
});

describe('mappingFor', () => {
  it('finds the mapping of the event name', () => {
    const mappings = [{ eventName: 'purchase', partnerEventName: 'af_purchase', share: ValueSharing.NONE }];
    expect(mappingFor(mappings, 'purchase')?.partnerEventName).toBe('af_purchase');
    expect(mappingFor(mappings, 'install')).toBeNull();
  });
});

describe('value sharing', () => {
  it.each<[ValueSharing, string | null, MacroSource | null, boolean]>([
    [ValueSharing.VALUES_AND_REVENUE, 'revenue', null, false],
    [ValueSharing.VALUES_AND_REVENUE, null, MacroSource.PARAM, false],
    [ValueSharing.VALUES, 'revenue', null, true],
    [ValueSharing.VALUES, 'currency', null, true],
    [ValueSharing.VALUES, 'revenue_usd', null, true],
    [ValueSharing.VALUES, 'params_json', null, false],
    [ValueSharing.VALUES, null, MacroSource.PARAM, false],
    [ValueSharing.NONE, 'revenue', null, true],
    [ValueSharing.NONE, 'params_json', null, true],
    [ValueSharing.NONE, null, MacroSource.PARAM, true],
    [ValueSharing.NONE, 'event_name', null, false],
    [ValueSharing.NONE, null, MacroSource.CONSTANT, false],
  ])('%s withholds %s/%s: %s', (share, builtIn, source, expected) => {
    expect(isWithheld(share, builtIn, source)).toBe(expected);
  });

  it('renders a withheld macro as its default, else empty', () => {
    const scope = {
      appMacros: new Map([
        ['sku', macro('sku', { source: MacroSource.PARAM, path: 'sku' })],
        ['tier', macro('tier', { source: MacroSource.PARAM, path: 'sku', defaultValue: 'hidden' })],
        ['amount', macro('amount', { source: MacroSource.FIELD, path: 'revenue', defaultValue: '0' })],
      ]),
      globalMacros: new Map(),
    };
    const ctx = makeContext();
    const none = createMacroLookup(scope, ctx, { blankDeviceIdentifiers: false, share: ValueSharing.NONE });
    expect(['revenue', 'currency', 'params_json', 'sku', 'tier', 'amount', 'event_name'].map(none)).toEqual(['', '', '', '', 'hidden', '0', 'purchase']);
    const values = createMacroLookup(scope, ctx, { blankDeviceIdentifiers: false, share: ValueSharing.VALUES });
    expect(['revenue', 'sku', 'amount'].map(values)).toEqual(['', 'A-1', '0']);
    const all = createMacroLookup(scope, ctx, { blankDeviceIdentifiers: false });
    expect(['revenue', 'currency', 'sku', 'amount'].map(all)).toEqual(['4.99', 'EUR', 'A-1', '4.99']);
  });
});

