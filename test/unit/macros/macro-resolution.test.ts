import { MacroSource, MacroTransform } from '../../../src/common/enums';
import { BUILT_IN_MACROS } from '../../../src/macros/built-in-macros';
import {
  applyTransform,
  createMacroLookup,
  findUnknownMacroNames,
  paramValue,
  validateMacroDefinition,
  type MacroDefinition,
  type MacroScope,
} from '../../../src/macros/macro-resolution';
import { macro, makeContext } from './fixtures';

function scopeOf(app: MacroDefinition[] = [], global: MacroDefinition[] = []): MacroScope {
  return {
    appMacros: new Map(app.map((m) => [m.name, m])),
    globalMacros: new Map(global.map((m) => [m.name, m])),
  };
}

const ctx = makeContext();
const open = { blankDeviceIdentifiers: false };
const blank = { blankDeviceIdentifiers: true };

describe('createMacroLookup: order and sources', () => {
  it('prefers the app macro over the global one', () => {
    const lookup = createMacroLookup(
      scopeOf([macro('partner_key', { value: 'app-key' })], [macro('partner_key', { value: 'global-key' })]),
      ctx,
      open,
    );
    expect(lookup('partner_key')).toBe('app-key');
  });

  it('falls back to the global macro, then to built-ins', () => {
    const lookup = createMacroLookup(scopeOf([], [macro('partner_key', { value: 'global-key' })]), ctx, open);
    expect(lookup('partner_key')).toBe('global-key');
    expect(lookup('event_name')).toBe('purchase');
  });

  it.each(BUILT_IN_MACROS.map((m) => m.name))('built-in %s resolves with no custom macros', (name) => {
    const lookup = createMacroLookup(scopeOf(), ctx, open);
    expect(lookup(name)).not.toBe('');
  });

  it.each(['unknown_macro', 'toString', '__proto__', ''])('unknown name %p renders empty', (name) => {
    expect(createMacroLookup(scopeOf(), ctx, open)(name)).toBe('');
  });

  it('a missing built-in renders empty', () => {
    const lookup = createMacroLookup(scopeOf(), makeContext({ revenue: null, networkSlug: null }), open);
    expect(lookup('revenue')).toBe('');
    expect(lookup('network')).toBe('');
  });

  it.each<[string, Partial<MacroDefinition>, string]>([
    ['FIELD alias of a built-in', { source: MacroSource.FIELD, path: 'country' }, 'DE'],
    ['FIELD with transform', { source: MacroSource.FIELD, path: 'country', transform: MacroTransform.LOWERCASE }, 'de'],
    ['FIELD of revenue', { source: MacroSource.FIELD, path: 'revenue' }, '4.99'],
    ['FIELD with an unknown path', { source: MacroSource.FIELD, path: 'nope', defaultValue: 'd' }, 'd'],
    ['PARAM top-level', { source: MacroSource.PARAM, path: 'sku' }, 'A-1'],
    ['PARAM nested', { source: MacroSource.PARAM, path: 'nested.deep.v' }, 'ok'],
    ['PARAM array index', { source: MacroSource.PARAM, path: 'items.1.sku' }, 'X2'],
    ['PARAM number in array', { source: MacroSource.PARAM, path: 'items.0.qty' }, '2'],
    ['PARAM object as JSON', { source: MacroSource.PARAM, path: 'nested' }, '{"deep":{"v":"ok"}}'],
    ['PARAM array as JSON', { source: MacroSource.PARAM, path: 'items.0' }, '{"sku":"X1","qty":2}'],
    ['CONSTANT', { source: MacroSource.CONSTANT, value: 'k-123' }, 'k-123'],
    ['CONSTANT uppercased', { source: MacroSource.CONSTANT, value: 'k-abc', transform: MacroTransform.UPPERCASE }, 'K-ABC'],
  ])('%s', (_label, fields, expected) => {
    expect(createMacroLookup(scopeOf([macro('m', fields)]), ctx, open)('m')).toBe(expected);
  });

  it('returns the raw value: encoding is the renderer\'s job', () => {
    const lookup = createMacroLookup(scopeOf([macro('m', { value: 'a&b "c"\n{{x}}' })]), ctx, open);
    expect(lookup('m')).toBe('a&b "c"\n{{x}}');
  });
});

describe('createMacroLookup: missing values and defaults', () => {
  const params = { empty: '', nil: null, zero: 0, no: false, list: [] as unknown[], obj: {} };
  const c = makeContext({ params, campaignId: null });
  it.each<[string, Partial<MacroDefinition>, string, string]>([
    ['absent param', { source: MacroSource.PARAM, path: 'absent' }, '', 'dflt'],
    ['null param', { source: MacroSource.PARAM, path: 'nil' }, '', 'dflt'],
    ['empty-string param', { source: MacroSource.PARAM, path: 'empty' }, '', 'dflt'],
    ['path through a string', { source: MacroSource.PARAM, path: 'empty.x' }, '', 'dflt'],
    ['zero is a value', { source: MacroSource.PARAM, path: 'zero' }, '0', '0'],
    ['false is a value', { source: MacroSource.PARAM, path: 'no' }, 'false', 'false'],
    ['empty array is a value', { source: MacroSource.PARAM, path: 'list' }, '[]', '[]'],
    ['empty object is a value', { source: MacroSource.PARAM, path: 'obj' }, '{}', '{}'],
    ['missing built-in via FIELD', { source: MacroSource.FIELD, path: 'campaign_id' }, '', 'dflt'],
    ['null CONSTANT', { source: MacroSource.CONSTANT, value: null }, '', 'dflt'],
    ['empty CONSTANT', { source: MacroSource.CONSTANT, value: '' }, '', 'dflt'],
  ])('%s: without default %p, with default %p', (_label, fields, withoutDefault, withDefault) => {
    expect(createMacroLookup(scopeOf([macro('m', fields)]), c, open)('m')).toBe(withoutDefault);
    expect(createMacroLookup(scopeOf([macro('m', { ...fields, defaultValue: 'dflt' })]), c, open)('m')).toBe(withDefault);
  });

  it('params null: every PARAM macro is missing', () => {
    const lookup = createMacroLookup(
      scopeOf([macro('m', { source: MacroSource.PARAM, path: 'sku', defaultValue: 'none' })]),
      makeContext({ params: null }),
      open,
    );
    expect(lookup('m')).toBe('none');
  });

  it.each([MacroTransform.MD5, MacroTransform.SHA1, MacroTransform.SHA256, MacroTransform.UPPERCASE])(
    'the default is sent as configured, not transformed (%s)',
    (transform) => {
      const lookup = createMacroLookup(
        scopeOf([macro('m', { source: MacroSource.PARAM, path: 'absent', defaultValue: 'abc', transform })]),
        ctx,
        open,
      );
      expect(lookup('m')).toBe('abc');
    },
  );

  it.each([MacroTransform.MD5, MacroTransform.SHA1, MacroTransform.SHA256])('an empty value is not hashed (%s)', (transform) => {
    const lookup = createMacroLookup(scopeOf([macro('m', { source: MacroSource.CONSTANT, value: '', transform })]), ctx, open);
    expect(lookup('m')).toBe('');
  });
});

describe('paramValue', () => {
  const params = {
    s: 'text',
    n: 12.5,
    big: 1e21,
    tiny: 1e-7,
    neg: -3,
    t: true,
    f: false,
    nil: null,
    arr: ['a', { b: [10, 20] }],
    obj: { 'with-dash': 'd', under_score: 'u', '0': 'zero-key' },
    unicode: 'é日本🎉',
  };
  it.each<[string, string | null]>([
    ['s', 'text'],
    ['n', '12.5'],
    ['big', '1000000000000000000000'],
    ['tiny', '0.0000001'],
    ['neg', '-3'],
    ['t', 'true'],
    ['f', 'false'],
    ['nil', null],
    ['absent', null],
    ['arr', '["a",{"b":[10,20]}]'],
    ['arr.0', 'a'],
    ['arr.1.b.1', '20'],
    ['arr.2', null],
    ['arr.01', null],
    ['arr.-1', null],
    ['arr.length', null],
    ['obj.with-dash', 'd'],
    ['obj.under_score', 'u'],
    ['obj.0', 'zero-key'],
    ['s.length', null],
    ['s.0', null],
    ['n.x', null],
    ['obj.constructor', null],
    ['obj.__proto__', null],
    ['toString', null],
    ['unicode', 'é日本🎉'],
  ])('%s → %p', (path, expected) => {
    expect(paramValue(params, path)).toBe(expected);
  });

  it('is null for null params', () => {
    expect(paramValue(null, 'a')).toBeNull();
  });
});

describe('transforms', () => {
  it.each<[MacroTransform, string, string]>([
    [MacroTransform.NONE, 'AbC', 'AbC'],
    [MacroTransform.LOWERCASE, 'AbC-É', 'abc-é'],
    [MacroTransform.UPPERCASE, 'aBc-é', 'ABC-É'],
    [MacroTransform.MD5, 'abc', '900150983cd24fb0d6963f7d28e17f72'],
    [MacroTransform.SHA1, 'abc', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    [MacroTransform.SHA256, 'abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    // the UTF-8 bytes are hashed: md5 of C3 A9, not of the Latin-1 byte E9
    [MacroTransform.MD5, 'é', '66ddcd97cfdeabb2f6fb8a999b4bc76f'],
  ])('%s(%p) = %p', (transform, input, expected) => {
    expect(applyTransform(input, transform)).toBe(expected);
  });

  it.each<[MacroTransform, string]>([
    [MacroTransform.MD5, '900150983cd24fb0d6963f7d28e17f72'],
    [MacroTransform.SHA1, 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    [MacroTransform.SHA256, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ])('a FIELD macro hashes the built-in value (%s of "abc")', (transform, expected) => {
    const lookup = createMacroLookup(
      scopeOf([macro('hashed', { source: MacroSource.FIELD, path: 'advertising_id', transform })]),
      makeContext({ advertisingId: 'abc' }),
      open,
    );
    expect(lookup('hashed')).toBe(expected);
  });

  it('a PARAM macro hashes the param value (SHA256 of "abc")', () => {
    const lookup = createMacroLookup(
      scopeOf([macro('h', { source: MacroSource.PARAM, path: 'x', transform: MacroTransform.SHA256 })]),
      makeContext({ params: { x: 'abc' } }),
      open,
    );
    expect(lookup('h')).toMatch(/^[0-9a-f]{64}$/);
    expect(lookup('h')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('limit ad tracking blanking', () => {
  const scope = scopeOf(
    [
      macro('idfa_hash', { source: MacroSource.FIELD, path: 'advertising_id', transform: MacroTransform.SHA256, defaultValue: 'none' }),
      macro('ip_alias', { source: MacroSource.FIELD, path: 'ip_address', defaultValue: '0.0.0.0' }),
      macro('country_alias', { source: MacroSource.FIELD, path: 'country' }),
    ],
    [macro('ua_alias', { source: MacroSource.FIELD, path: 'user_agent' })],
  );
  const lat = makeContext({ limitAdTracking: true });

  it.each<[string, string, string]>([
    ['advertising_id', '', '6D92078A-8246-4BA4-AE5B-76104861E7DC'],
    ['ip_address', '', '203.0.113.7'],
    ['user_agent', '', 'MyApp/3.2 (iPhone; iOS 17.4)'],
    ['ip_alias', '', '203.0.113.7'],
    ['ua_alias', '', 'MyApp/3.2 (iPhone; iOS 17.4)'],
    ['country_alias', 'DE', 'DE'],
    ['country', 'DE', 'DE'],
    ['limit_ad_tracking', '1', '1'],
  ])('%s: blanked %p, not blanked %p', (name, blanked, notBlanked) => {
    expect(createMacroLookup(scope, lat, blank)(name)).toBe(blanked);
    expect(createMacroLookup(scope, lat, open)(name)).toBe(notBlanked);
  });

  it('without blanking, a FIELD macro on a device identifier is transformed', () => {
    expect(createMacroLookup(scope, lat, open)('idfa_hash')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('defaults do not refill a blanked macro', () => {
    const lookup = createMacroLookup(scope, lat, blank);
    expect(lookup('idfa_hash')).toBe('');
    expect(lookup('ip_alias')).toBe('');
  });

  it('defaults do refill a device identifier that is merely missing', () => {
    const lookup = createMacroLookup(scope, makeContext({ ipAddress: null }), open);
    expect(lookup('ip_alias')).toBe('0.0.0.0');
  });

  it('blanking follows the option, not the event flag alone', () => {
    expect(createMacroLookup(scopeOf(), makeContext({ limitAdTracking: false }), blank)('advertising_id')).toBe('');
    expect(createMacroLookup(scopeOf(), makeContext({ limitAdTracking: true }), open)('advertising_id')).not.toBe('');
  });

  it('a custom macro that somehow carries a device identifier name is blanked too', () => {
    const lookup = createMacroLookup(scopeOf([macro('advertising_id', { value: 'leak' })]), lat, blank);
    expect(lookup('advertising_id')).toBe('');
  });
});

describe('validateMacroDefinition', () => {
  const ok = { name: 'partner_key', source: MacroSource.CONSTANT, path: null, value: 'k', defaultValue: null, transform: MacroTransform.NONE };

  it.each<[string, Record<string, unknown>]>([
    ['CONSTANT', {}],
    ['CONSTANT with an empty value', { value: '' }],
    ['CONSTANT at the value limit', { value: 'v'.repeat(4096) }],
    ['name at 64 characters', { name: 'a'.repeat(64) }],
    ['FIELD on a built-in', { source: MacroSource.FIELD, path: 'advertising_id', value: null, transform: MacroTransform.MD5 }],
    ['PARAM nested', { source: MacroSource.PARAM, path: 'items.0.sku-id_X', value: null }],
    ['PARAM at 255 characters', { source: MacroSource.PARAM, path: 'a'.repeat(255), value: null }],
    ['transform omitted', { transform: undefined }],
    ['with a default', { defaultValue: 'x' }],
  ])('accepts %s', (_label, fields) => {
    expect(validateMacroDefinition({ ...ok, ...fields } as typeof ok, 'input')).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['an uppercase name', { name: 'Partner' }, 'input.name', /lowercase/],
    ['a name with a dash', { name: 'a-b' }, 'input.name', /a-z/],
    ['an empty name', { name: '' }, 'input.name', /lowercase/],
    ['a name of 65 characters', { name: 'a'.repeat(65) }, 'input.name', /64/],
    ['a built-in name', { name: 'advertising_id' }, 'input.name', /built-in/],
    ['another built-in name', { name: 'revenue' }, 'input.name', /built-in/],
    ['FIELD without path', { source: MacroSource.FIELD, path: null }, 'input.path', /built-in/],
    ['FIELD with empty path', { source: MacroSource.FIELD, path: '' }, 'input.path', /built-in/],
    ['FIELD on a non-built-in', { source: MacroSource.FIELD, path: 'idfa' }, 'input.path', /not a built-in/],
    ['FIELD on a param-looking path', { source: MacroSource.FIELD, path: 'params.sku' }, 'input.path', /not a built-in/],
    ['PARAM without path', { source: MacroSource.PARAM, path: null }, 'input.path', /dot path/],
    ['PARAM with empty path', { source: MacroSource.PARAM, path: '' }, 'input.path', /dot path/],
    ['PARAM with an empty segment', { source: MacroSource.PARAM, path: 'a..b' }, 'input.path', /dot-separated/],
    ['PARAM with a trailing dot', { source: MacroSource.PARAM, path: 'a.' }, 'input.path', /dot-separated/],
    ['PARAM with a space', { source: MacroSource.PARAM, path: 'a b' }, 'input.path', /dot-separated/],
    ['PARAM with brackets', { source: MacroSource.PARAM, path: 'items[0]' }, 'input.path', /dot-separated/],
    ['PARAM of 256 characters', { source: MacroSource.PARAM, path: 'a'.repeat(256) }, 'input.path', /255/],
    ['CONSTANT without value', { value: null }, 'input.value', /needs value/],
    ['CONSTANT with value undefined', { value: undefined }, 'input.value', /needs value/],
    ['CONSTANT over 4096', { value: 'v'.repeat(4097) }, 'input.value', /4096/],
    ['a default over 4096', { defaultValue: 'v'.repeat(4097) }, 'input.defaultValue', /4096/],
    ['an unknown transform', { transform: 'ROT13' }, 'input.transform', /MD5/],
    ['an unknown source', { source: 'ENV' }, 'input.source', /FIELD/],
  ])('rejects %s', (_label, fields, field, reason) => {
    const problems = validateMacroDefinition({ ...ok, ...fields } as typeof ok, 'input');
    expect(problems).toHaveLength(1);
    expect(problems[0].field).toBe(field);
    expect(problems[0].reason).toMatch(reason);
  });

  it('reports every problem at once, under the given prefix', () => {
    const problems = validateMacroDefinition(
      { name: 'Bad', source: MacroSource.PARAM, path: '', value: null, defaultValue: 'x'.repeat(5000), transform: MacroTransform.NONE },
      'inputs.2',
    );
    expect(problems.map((p) => p.field)).toEqual(['inputs.2.name', 'inputs.2.path', 'inputs.2.defaultValue']);
  });
});

describe('findUnknownMacroNames', () => {
  const known = new Set(['a', 'event_name']);
  it.each<[string[], string[]]>([
    [[], []],
    [['a', 'event_name'], []],
    [['zeta', 'a', 'alpha', 'zeta', 'mid'], ['alpha', 'mid', 'zeta']],
    [['b', 'b', 'b'], ['b']],
  ])('%p → %p', (names, expected) => {
    expect(findUnknownMacroNames(names, (n) => known.has(n))).toEqual(expected);
  });

  it('accepts any iterable', () => {
    expect(findUnknownMacroNames(new Set(['y', 'x']), () => false)).toEqual(['x', 'y']);
  });
});
