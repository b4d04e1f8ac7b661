import type { QueryRunner } from 'typeorm';
import { withCharset } from '../../../src/db/schema-tools';
import { migrationLockName } from '../../../src/db/open-database';
import { retentionLockName } from '../../../src/retention/retention';

const runner = (type: string) => ({ connection: { options: { type } } }) as unknown as QueryRunner;

describe('withCharset', () => {
  it.each(['varchar', 'text', 'mediumtext'])('gives a MySQL %s column utf8mb4_bin', (type) => {
    expect(withCharset(runner('mysql'), { name: 'x', type })).toMatchObject({ charset: 'utf8mb4', collation: 'utf8mb4_bin' });
  });

  it('leaves numbers, times and every SQLite column alone', () => {
    expect(withCharset(runner('mysql'), { name: 'n', type: 'int' })).toEqual({ name: 'n', type: 'int' });
    expect(withCharset(runner('mysql'), { name: 't', type: 'datetime' })).toEqual({ name: 't', type: 'datetime' });
    expect(withCharset(runner('better-sqlite3'), { name: 's', type: 'varchar' })).toEqual({ name: 's', type: 'varchar' });
  });
});

describe('lock names', () => {
  it('fit GET_LOCK (64 characters), differ per database and per purpose', () => {
    const long = 'd'.repeat(64);
    for (const name of [migrationLockName(long), retentionLockName(long)]) expect(name.length).toBeLessThanOrEqual(64);
    expect(migrationLockName('a')).not.toBe(migrationLockName('b'));
    expect(migrationLockName('a')).not.toBe(retentionLockName('a'));
  });
});
