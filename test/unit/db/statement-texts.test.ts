import { StatementTexts } from '../../../src/db/statement-texts';

describe('statement texts kept per key', () => {
  it('builds a text once per key, and past the bound builds odd keys each time without keeping them', () => {
    const texts = new StatementTexts<number>(2);
    const built: number[] = [];
    const get = (n: number) => texts.get(n, () => (built.push(n), `INSERT … ${n} rows`));
    expect([get(1), get(1), get(5), get(5)]).toEqual(['INSERT … 1 rows', 'INSERT … 1 rows', 'INSERT … 5 rows', 'INSERT … 5 rows']);
    expect(get(7)).toBe('INSERT … 7 rows');
    get(7);
    get(1);
    expect(built).toEqual([1, 5, 7, 7]);
  });
});
