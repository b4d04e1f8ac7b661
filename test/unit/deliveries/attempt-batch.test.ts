import { guardedAttemptUpdate, type GuardedAttemptUpdate } from '../../../src/deliveries/attempt-batch';

const dialect = { quote: (n: string) => `\`${n}\``, time: (d: Date) => `T${d.getTime()}` };
const at = new Date(1_000);

function row(id: string, changes: GuardedAttemptUpdate['changes'], attempts = 0, leaseOwner: string | null = 'w1'): GuardedAttemptUpdate {
  return { id, leaseOwner, attempts, changes };
}

describe('guardedAttemptUpdate', () => {
  it('sets a column to one value when every row gets the same', () => {
    const { sql, parameters } = guardedAttemptUpdate('`delivery`', [row('a', { status: 'DELIVERED' as never, updatedAt: at }), row('b', { status: 'DELIVERED' as never, updatedAt: at })], 'SENDING', dialect);
    expect(sql).toBe('UPDATE `delivery` SET `status` = ?, `updatedAt` = ? WHERE `id` IN (?, ?) AND `status` = ? AND `leaseOwner` = ? AND `attempts` = ?');
    expect(parameters).toEqual(['DELIVERED', 'T1000', 'a', 'b', 'SENDING', 'w1', 0]);
  });

  it('sets differing values per row with CASE id', () => {
    const { sql, parameters } = guardedAttemptUpdate(
      '`delivery`',
      [row('a', { attempts: 1, lastError: null }, 0), row('b', { attempts: 3, lastError: 'refused' }, 2, 'w2')],
      'SENDING',
      dialect,
    );
    expect(sql).toBe(
      'UPDATE `delivery` SET `attempts` = CASE `id` WHEN ? THEN ? WHEN ? THEN ? END, `lastError` = CASE `id` WHEN ? THEN ? WHEN ? THEN ? END ' +
        'WHERE `id` IN (?, ?) AND `status` = ? AND `leaseOwner` = CASE `id` WHEN ? THEN ? WHEN ? THEN ? END AND `attempts` = CASE `id` WHEN ? THEN ? WHEN ? THEN ? END',
    );
    expect(parameters).toEqual(['a', 1, 'b', 3, 'a', null, 'b', 'refused', 'a', 'b', 'SENDING', 'a', 'w1', 'b', 'w2', 'a', 0, 'b', 2]);
  });

  it('compares dates by time and binds them through the dialect', () => {
    const same = guardedAttemptUpdate('t', [row('a', { dueAt: new Date(5) }), row('b', { dueAt: new Date(5) })], 'SENDING', dialect);
    expect(same.sql).toContain('`dueAt` = ?');
    expect(same.parameters[0]).toBe('T5');
    const differ = guardedAttemptUpdate('t', [row('a', { dueAt: new Date(5) }), row('b', { dueAt: null })], 'SENDING', dialect);
    expect(differ.parameters.slice(0, 4)).toEqual(['a', 'T5', 'b', null]);
  });

  it('treats a missing value as NULL, and NULL equal to NULL', () => {
    const { sql, parameters } = guardedAttemptUpdate('t', [row('a', { deliveredAt: null }), row('b', { deliveredAt: undefined })], 'SENDING', dialect);
    expect(sql).toContain('`deliveredAt` = ?');
    expect(parameters[0]).toBeNull();
  });

  it('refuses an empty batch and rows that change different columns', () => {
    expect(() => guardedAttemptUpdate('t', [], 'SENDING', dialect)).toThrow();
    expect(() => guardedAttemptUpdate('t', [row('a', { attempts: 1 }), row('b', { lastError: 'x' })], 'SENDING', dialect)).toThrow(/same columns/);
    expect(() => guardedAttemptUpdate('t', [row('a', { attempts: 1 }), row('b', { attempts: 1, lastError: 'x' })], 'SENDING', dialect)).toThrow(/same columns/);
  });
});

describe('guardedAttemptUpdate with a dialect that keeps the guards off indexes', () => {
  it('wraps every guard column, not the id', () => {
    const { sql } = guardedAttemptUpdate('t', [row('a', { attempts: 1 })], 'SENDING', { ...dialect, notIndexed: (c) => `+${c}` });
    expect(sql).toBe('UPDATE t SET `attempts` = ? WHERE `id` IN (?) AND +`status` = ? AND +`leaseOwner` = ? AND +`attempts` = ?');
  });
});
