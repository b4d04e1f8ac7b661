import { isUuid, newId } from '../../../src/common/ids';

describe('newId', () => {
  it('makes distinct, increasing UUIDv7s, also across refills of the random pool', () => {
    const now = Date.now();
    const ids = Array.from({ length: 2000 }, () => newId(now));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) {
      expect(isUuid(id)).toBe(true);
      expect(id[14]).toBe('7');
      expect('89ab').toContain(id[19] as string);
    }
  });

  it('puts the millisecond time in the first 48 bits', () => {
    const at = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
    const id = newId(at + 10_000_000);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBeGreaterThanOrEqual(at);
  });
});
