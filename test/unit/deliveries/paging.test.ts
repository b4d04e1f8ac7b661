import { BadUserInputError } from '../../../src/common/errors';
import { newId } from '../../../src/common/ids';
import { decodeCursor, encodeCursor, pageSize } from '../../../src/deliveries/delivery.service';

describe('delivery paging', () => {
  it('round-trips a cursor and refuses anything else', () => {
    const id = newId();
    expect(decodeCursor(encodeCursor(id))).toBe(id);
    for (const forged of ['', 'abc', Buffer.from('delivery:not-a-uuid').toString('base64url'), Buffer.from(id).toString('base64url')]) {
      expect(() => decodeCursor(forged)).toThrow(BadUserInputError);
    }
  });

  it('defaults to 20 and caps at 100', () => {
    expect(pageSize(undefined)).toBe(20);
    expect(pageSize(null)).toBe(20);
    expect(pageSize(0)).toBe(0);
    expect(pageSize(100)).toBe(100);
    for (const bad of [101, -1, 1.5]) expect(() => pageSize(bad)).toThrow(/first/);
  });

  it('orders ids by creation time, so newest-first paging is by id', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => newId(1_700_000_000_000 + Math.floor(i / 10)));
    expect([...ids].sort()).toEqual(ids);
  });
});
