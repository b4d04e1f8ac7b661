import type { DataSource } from 'typeorm';
import { ExchangeRateService } from '../../../src/revenue/exchange-rate.service';

describe('the rates in force, cached per process for recording events', () => {
  const rows = [
    { date: '2026-11-27', currency: 'EUR', perUsd: 0.92 },
    { date: '2026-11-20', currency: 'GBP', perUsd: 0.8 },
  ];
  let queries: unknown[][];
  let now: number;
  let service: ExchangeRateService;
  beforeEach(() => {
    queries = [];
    now = Date.parse('2026-11-28T12:00:00Z');
    const dataSource = { query: async (_sql: string, params: unknown[]) => (queries.push(params), rows) } as unknown as DataSource;
    service = new ExchangeRateService(dataSource, { now: () => new Date(now) }, undefined, 5000);
  });
  const purchase = (currency: string | null, at = '2026-11-28T10:00:00Z', revenue: number | null = 1) => ({ revenue, currency, occurredAt: new Date(at) });

  it('asks the database once per date for a whole batch, and not again while cached', async () => {
    const lookup = await service.usdRates(Array.from({ length: 500 }, () => purchase('EUR')));
    expect(queries).toEqual([['2026-11-21', '2026-11-28']]);
    expect(lookup('EUR', new Date('2026-11-28T23:59:59Z'))).toBe(0.92);
    expect(lookup('GBP', new Date('2026-11-28T00:00:00Z'))).toBeNull(); // 8 days old on the 28th
    expect(lookup('JPY', new Date('2026-11-28T00:00:00Z'))).toBeNull();
    await service.usdRates([purchase('EUR'), purchase('GBP')]);
    expect(queries).toHaveLength(1);
  });

  it('asks once more for each other date in a batch', async () => {
    const lookup = await service.usdRates([purchase('EUR'), purchase('GBP', '2026-11-25T00:00:00Z'), purchase('EUR', '2026-11-25T08:00:00Z')]);
    expect(queries).toEqual([['2026-11-21', '2026-11-28'], ['2026-11-18', '2026-11-25']]);
    expect(lookup('GBP', new Date('2026-11-25T12:00:00Z'))).toBe(0.8);
  });

  it('asks nothing when no event needs a rate', async () => {
    await service.usdRates([purchase('USD'), purchase(null), purchase('EUR', undefined, null)]);
    expect(queries).toEqual([]);
  });

  it('asks again after an invalidation (setExchangeRates anywhere) or once the entry is 5 s old', async () => {
    await service.usdRates([purchase('EUR')]);
    service.invalidate();
    await service.usdRates([purchase('EUR')]);
    expect(queries).toHaveLength(2);
    now += 4999;
    await service.usdRates([purchase('EUR')]);
    expect(queries).toHaveLength(2);
    now += 2;
    await service.usdRates([purchase('EUR')]);
    expect(queries).toHaveLength(3);
  });
});
