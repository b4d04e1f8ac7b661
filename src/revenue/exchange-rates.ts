// Pure rules of exchange rates: which rate is in force on a date, and what setExchangeRates
// accepts. No I/O.

import { ProblemList } from '../common/errors';
import { CURRENCY_CODES } from '../events/iso-codes';

/** A rate is used for events up to this many days after its own date (dates in UTC). */
export const EXCHANGE_RATE_MAX_AGE_DAYS = 7;
/** Currencies one setExchangeRates call may carry: ISO 4217 has fewer than 200 in use. */
export const MAX_RATES_PER_DAY = 500;
/** perUsd above this is a typo (the weakest currencies are in the hundreds of thousands). */
export const MAX_PER_USD = 1e12;

export interface RateRow {
  currency: string;
  perUsd: number;
  /** YYYY-MM-DD */
  date: string;
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `text` is a real calendar date written YYYY-MM-DD (2026-02-30 is not). */
export function isIsoDate(text: string): boolean {
  const match = DATE_PATTERN.exec(text);
  if (!match) return false;
  const at = new Date(`${text}T00:00:00.000Z`);
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === text;
}

/** The date `days` days before `date` (YYYY-MM-DD, UTC). */
export function daysBefore(date: string, days: number): string {
  const at = new Date(`${date}T00:00:00.000Z`);
  at.setUTCDate(at.getUTCDate() - days);
  return at.toISOString().slice(0, 10);
}

/** The first date whose rates may still be in force on `date`. */
export function oldestDateInForce(date: string): string {
  return daysBefore(date, EXCHANGE_RATE_MAX_AGE_DAYS);
}

/**
 * Each currency's newest rate dated on or before `date` and at most EXCHANGE_RATE_MAX_AGE_DAYS
 * older, sorted by currency. Rows outside that window are ignored.
 */
export function ratesInForce(rows: Iterable<RateRow>, date: string): RateRow[] {
  const oldest = oldestDateInForce(date);
  const newest = new Map<string, RateRow>();
  for (const row of rows) {
    if (row.date > date || row.date < oldest) continue;
    const seen = newest.get(row.currency);
    if (!seen || row.date > seen.date) newest.set(row.currency, row);
  }
  return [...newest.values()].sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
}

/** Checks a `date` argument; returns it trimmed or adds a problem. */
export function validateRateDate(problems: ProblemList, field: string, date: string): string {
  const trimmed = (date ?? '').trim();
  if (!isIsoDate(trimmed)) problems.add(field, `must be a date written YYYY-MM-DD, got ${JSON.stringify(date)}`);
  else if (trimmed < '2000-01-01' || trimmed > '2199-12-31') problems.add(field, 'must be between 2000-01-01 and 2199-12-31');
  return trimmed;
}

/**
 * The rates of one setExchangeRates call, normalised (codes upper-cased): every code ISO 4217
 * and given once, every perUsd a positive finite number. USD may appear only as 1.
 */
export function validateRates(problems: ProblemList, field: string, rates: ReadonlyArray<{ currency: string; perUsd: number }>): { currency: string; perUsd: number }[] {
  if (rates.length > MAX_RATES_PER_DAY) problems.add(field, `holds ${rates.length} rates; at most ${MAX_RATES_PER_DAY} per day`);
  const seen = new Set<string>();
  return rates.map((rate, i) => {
    const currency = (rate.currency ?? '').trim().toUpperCase();
    if (!CURRENCY_CODES.has(currency)) {
      problems.add(`${field}.${i}.currency`, `must be an ISO 4217 currency code such as EUR, got ${JSON.stringify(rate.currency)}`);
    } else if (seen.has(currency)) {
      problems.add(`${field}.${i}.currency`, `${currency} is given more than once`);
    }
    seen.add(currency);
    if (typeof rate.perUsd !== 'number' || !Number.isFinite(rate.perUsd) || rate.perUsd <= 0 || rate.perUsd > MAX_PER_USD) {
      problems.add(`${field}.${i}.perUsd`, `must be a positive number of ${currency || 'the currency'} per 1 USD (at most ${MAX_PER_USD}), got ${rate.perUsd}`);
    } else if (currency === 'USD' && rate.perUsd !== 1) {
      problems.add(`${field}.${i}.perUsd`, 'USD is 1 per USD; revenue in USD needs no rate');
    }
    return { currency, perUsd: rate.perUsd };
  });
}
