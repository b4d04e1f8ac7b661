import type { DataSource } from 'typeorm';
import type { Clock } from '../common/clock';
import { ProblemList } from '../common/errors';
import { withTransaction } from '../db/transactions';
import { CONFIG_CACHE_TTL_MS } from '../events/routing-cache';
import { oldestDateInForce, ratesInForce, validateRateDate, validateRates, type RateRow } from './exchange-rates';
import { DELETE_RATES_OF_DAY, insertRates, rateFromRow, SELECT_RATES_BETWEEN, SELECT_RATES_OF_DAY } from './exchange-rate.statements';
import { utcDate } from './revenue-macros';

/** Units of `currency` per 1 USD in force at `occurredAt`'s UTC date; null when none is. */
export type UsdRateLookup = (currency: string | null, occurredAt: Date) => number | null;

export const NO_USD_RATES: UsdRateLookup = () => null;

/** What the record path needs: the rates for a batch of events, looked up once per batch. */
export interface UsdRateSource {
  usdRates(events: ReadonlyArray<{ revenue: number | null; currency: string | null; occurredAt: Date }>): Promise<UsdRateLookup>;
}

/** Dates whose rates in force are kept per process; events mostly fall on today and yesterday. */
const CACHED_DATES = 32;

/**
 * Exchange rates: setting a day's rates, reading the rates in force on a date, and a per-process
 * cache of the rates in force by date for recording events (one query per date and
 * CONFIG_CACHE_TTL_MS at most, none per event). setExchangeRates clears this process's cache at
 * once and the others' through `onChange` (the configuration pub/sub).
 */
export class ExchangeRateService implements UsdRateSource {
  private readonly inForceByDate = new Map<string, { rates: Map<string, number>; expiresAt: number }>();
  /** Bumped by every invalidation, so a load that raced with a change is not stored. */
  private generation = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly onChange: () => void = () => undefined,
    private readonly ttlMs: number = CONFIG_CACHE_TTL_MS,
  ) {}

  /** Replaces the whole set of `date`'s rates (an empty list removes them) and returns what is stored for that day. */
  async setDay(date: string, rates: ReadonlyArray<{ currency: string; perUsd: number }>): Promise<RateRow[]> {
    const problems = new ProblemList();
    const day = validateRateDate(problems, 'date', date);
    const valid = validateRates(problems, 'rates', rates);
    problems.throwIfAny();
    await withTransaction(this.dataSource, async (manager) => {
      await manager.query(DELETE_RATES_OF_DAY, [day]);
      if (valid.length > 0) await manager.query(insertRates(valid.length), valid.flatMap((r) => [day, r.currency, r.perUsd]));
    });
    this.invalidate();
    this.onChange();
    const rows: Array<Parameters<typeof rateFromRow>[0]> = await this.dataSource.query(SELECT_RATES_OF_DAY, [day]);
    return rows.map(rateFromRow);
  }

  /** Each currency's newest rate on or before `date`, at most 7 days old. */
  async inForce(date: string): Promise<RateRow[]> {
    const problems = new ProblemList();
    const day = validateRateDate(problems, 'date', date);
    problems.throwIfAny();
    return this.load(day);
  }

  invalidate(): void {
    this.generation++;
    this.inForceByDate.clear();
  }

  async usdRates(events: ReadonlyArray<{ revenue: number | null; currency: string | null; occurredAt: Date }>): Promise<UsdRateLookup> {
    const dates = new Set<string>();
    for (const e of events) if (e.revenue !== null && e.currency !== null && e.currency !== 'USD') dates.add(utcDate(e.occurredAt));
    if (dates.size === 0) return NO_USD_RATES;
    const now = this.clock.now().getTime();
    const byDate = new Map<string, Map<string, number>>();
    for (const date of dates) {
      const cached = this.inForceByDate.get(date);
      if (cached && cached.expiresAt > now) {
        byDate.set(date, cached.rates);
        continue;
      }
      const generation = this.generation;
      const rates = new Map((await this.load(date)).map((r) => [r.currency, r.perUsd]));
      byDate.set(date, rates);
      if (generation === this.generation) {
        if (this.inForceByDate.size >= CACHED_DATES) this.inForceByDate.delete(this.inForceByDate.keys().next().value as string);
        this.inForceByDate.set(date, { rates, expiresAt: now + this.ttlMs });
      }
    }
    return (currency, occurredAt) => (currency === null ? null : (byDate.get(utcDate(occurredAt))?.get(currency) ?? null));
  }

  private async load(date: string): Promise<RateRow[]> {
    const rows: Array<Parameters<typeof rateFromRow>[0]> = await this.dataSource.query(SELECT_RATES_BETWEEN, [oldestDateInForce(date), date]);
    return ratesInForce(rows.map(rateFromRow), date);
  }
}
