import { ProblemList } from '../../../src/common/errors';
import { daysBefore, isIsoDate, ratesInForce, validateRateDate, validateRates } from '../../../src/revenue/exchange-rates';

describe('exchange rate rules', () => {
  it.each([
    ['2026-11-28', true],
    ['2024-02-29', true],
    ['2026-02-29', false],
    ['2026-13-01', false],
    ['2026-1-1', false],
    ['2026-11-28T00:00:00Z', false],
    ['', false],
  ])('isIsoDate(%p) is %p', (text, expected) => {
    expect(isIsoDate(text)).toBe(expected);
  });

  it('counts days back across months and years', () => {
    expect(daysBefore('2026-03-02', 7)).toBe('2026-02-23');
    expect(daysBefore('2026-01-03', 7)).toBe('2025-12-27');
  });

  const rows = [
    { currency: 'EUR', perUsd: 0.9, date: '2026-11-20' },
    { currency: 'EUR', perUsd: 0.92, date: '2026-11-25' },
    { currency: 'EUR', perUsd: 0.95, date: '2026-11-29' },
    { currency: 'GBP', perUsd: 0.8, date: '2026-11-21' },
    { currency: 'JPY', perUsd: 150, date: '2026-11-28' },
  ];

  it('takes each currency\'s newest rate on or before the date, at most 7 days old', () => {
    expect(ratesInForce(rows, '2026-11-28')).toEqual([
      { currency: 'EUR', perUsd: 0.92, date: '2026-11-25' },
      { currency: 'GBP', perUsd: 0.8, date: '2026-11-21' },
      { currency: 'JPY', perUsd: 150, date: '2026-11-28' },
    ]);
    // 2026-11-21 is 8 days before 2026-11-29: GBP has expired.
    expect(ratesInForce(rows, '2026-11-29').map((r) => `${r.currency}@${r.date}`)).toEqual(['EUR@2026-11-29', 'JPY@2026-11-28']);
    expect(ratesInForce(rows, '2026-11-19')).toEqual([]);
    expect(ratesInForce(rows, '2026-11-27').map((r) => `${r.currency}@${r.date}`)).toEqual(['EUR@2026-11-25', 'GBP@2026-11-21']);
  });

  it('accepts a day of rates, upper-casing codes', () => {
    const problems = new ProblemList();
    expect(validateRates(problems, 'rates', [{ currency: ' eur ', perUsd: 0.92 }, { currency: 'USD', perUsd: 1 }])).toEqual([
      { currency: 'EUR', perUsd: 0.92 },
      { currency: 'USD', perUsd: 1 },
    ]);
    expect(problems.problems).toEqual([]);
  });

  it.each([
    [[{ currency: 'XYZ', perUsd: 1 }], 'rates.0.currency'],
    [[{ currency: 'EURO', perUsd: 1 }], 'rates.0.currency'],
    [[{ currency: 'EUR', perUsd: 0 }], 'rates.0.perUsd'],
    [[{ currency: 'EUR', perUsd: -1 }], 'rates.0.perUsd'],
    [[{ currency: 'EUR', perUsd: Number.NaN }], 'rates.0.perUsd'],
    [[{ currency: 'EUR', perUsd: 1e13 }], 'rates.0.perUsd'],
    [[{ currency: 'USD', perUsd: 1.1 }], 'rates.0.perUsd'],
    [[{ currency: 'EUR', perUsd: 1 }, { currency: 'eur', perUsd: 2 }], 'rates.1.currency'],
  ])('refuses %j at %s', (rates, field) => {
    const problems = new ProblemList();
    validateRates(problems, 'rates', rates);
    expect(problems.problems.map((p) => p.field)).toEqual([field]);
  });

  it.each(['2026-02-30', '28.11.2026', '1999-12-31', 'today'])('refuses the date %p', (date) => {
    const problems = new ProblemList();
    validateRateDate(problems, 'date', date);
    expect(problems.problems.map((p) => p.field)).toEqual(['date']);
  });
});
