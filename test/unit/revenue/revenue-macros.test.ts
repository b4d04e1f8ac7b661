import { BUILT_IN_MACRO_NAMES, builtInMacroValue } from '../../../src/macros/built-in-macros';
import { REVENUE_MACRO_NAMES, roundTo } from '../../../src/revenue/revenue-macros';
import { makeContext } from '../macros/fixtures';

describe('revenue built-ins', () => {
  it('are built-ins', () => {
    for (const name of REVENUE_MACRO_NAMES) expect(BUILT_IN_MACRO_NAMES.has(name)).toBe(true);
  });

  const value = (name: string, overrides: Parameters<typeof makeContext>[0]) => {
    const ctx = makeContext({ renderNotes: [], ...overrides });
    return { value: builtInMacroValue(name, ctx), notes: ctx.renderNotes };
  };

  it.each([
    // 4.99 EUR at 0.92 EUR per USD = 5.42391304347826... USD
    ['revenue_usd', 4.99, 'EUR', 0.92, '5.423913'],
    ['revenue_usd_cents', 4.99, 'EUR', 0.92, '542'],
    ['revenue_usd_micros', 4.99, 'EUR', 0.92, '5423913'],
    ['revenue_usd', 1000, 'JPY', 150, '6.666667'],
    ['revenue_usd_cents', 1000, 'JPY', 150, '667'],
    ['revenue_usd', 4.99, 'USD', null, '4.99'],
    ['revenue_usd_cents', 4.99, 'USD', null, '499'],
    ['revenue_usd_cents', 1.005, 'USD', null, '101'],
    ['revenue_usd_micros', 4.99, 'USD', null, '4990000'],
    ['revenue_usd', 2.5, null, null, '2.5'],
    ['revenue_usd', -3, 'EUR', 0.5, '-6'],
    ['revenue_usd_cents', -0.005, 'USD', null, '-1'],
    ['revenue_usd', 0, 'EUR', 0.92, '0'],
    ['revenue_usd_micros', 1e15, 'USD', null, '1000000000000000000000'],
  ] as const)('%s of %p %s at %p per USD is %p', (name, revenue, currency, usdRate, expected) => {
    const out = value(name, { revenue, currency, usdRate });
    expect(out.value).toBe(expected);
    expect(out.notes).toEqual([]);
  });

  it.each(['revenue_usd', 'revenue_usd_cents', 'revenue_usd_micros', 'revenue_usd_net'])('%s renders empty with a note when no rate is in force', (name) => {
    const out = value(name, { revenue: 4.99, currency: 'EUR', usdRate: null, occurredAt: new Date('2026-11-28T23:59:59.999Z') });
    expect(out.value).toBeNull();
    expect(out.notes).toEqual([`${name}: no USD rate for EUR on 2026-11-28`]);
  });

  it('notes each reason once however often it is rendered', () => {
    const ctx = makeContext({ revenue: 1, currency: 'GBP', usdRate: undefined, renderNotes: [] });
    builtInMacroValue('revenue_usd', ctx);
    builtInMacroValue('revenue_usd', ctx);
    expect(ctx.renderNotes).toEqual([`revenue_usd: no USD rate for GBP on ${ctx.occurredAt.toISOString().slice(0, 10)}`]);
  });

  it('renders empty without a note when there is no revenue', () => {
    for (const name of REVENUE_MACRO_NAMES) expect(value(name, { revenue: null, currency: 'EUR', usdRate: null })).toEqual({ value: null, notes: [] });
  });

  it('takes the store cut off for the net macros', () => {
    expect(value('revenue_net', { revenue: 4.99, currency: 'EUR', storeCutPercent: 30 }).value).toBe('3.493');
    expect(value('revenue_usd_net', { revenue: 4.99, currency: 'EUR', usdRate: 0.92, storeCutPercent: 30 }).value).toBe('3.796739');
    expect(value('revenue_usd_net', { revenue: 10, currency: 'USD', storeCutPercent: 15 }).value).toBe('8.5');
    expect(value('revenue_net', { revenue: 10, currency: 'EUR' }).value).toBe('10');
    expect(value('revenue_net', { revenue: 10, currency: 'EUR', storeCutPercent: 100 }).value).toBe('0');
    expect(value('revenue_net', { revenue: 10, currency: 'EUR', storeCutPercent: 250 }).value).toBe('0');
    expect(value('revenue_net', { revenue: 10, currency: 'EUR', storeCutPercent: -5 }).value).toBe('10');
  });

  it('rounds half away from zero on the decimal digits', () => {
    expect(roundTo(1.005, 2)).toBe(1.01);
    expect(roundTo(-1.005, 2)).toBe(-1.01);
    expect(roundTo(2.5, 0)).toBe(3);
    expect(roundTo(-2.5, 0)).toBe(-3);
    expect(Object.is(roundTo(-0.0000001, 2), 0)).toBe(true);
    expect(roundTo(5.423913043478261, 6)).toBe(5.423913);
  });
});
