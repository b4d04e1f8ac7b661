import { ExchangeRates1796100000000 } from '../../migrations/1796100000000-ExchangeRates';
import { testDatabases } from '../support/databases';
import { startTestService, TestService } from '../support/test-service';

describe.each(testDatabases())('migration 1796100000000-ExchangeRates on %s', (kind) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService(kind);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('runs again over what it made, after a partial run, and after a rollback', async () => {
    const dataSource = t.service.services.dataSource;
    const runner = dataSource.createQueryRunner();
    try {
      const migration = new ExchangeRates1796100000000();
      await migration.up(runner); // everything exists: nothing to do
      await runner.dropColumn('delivery', 'renderNotes'); // as if it had stopped half-way
      await migration.up(runner);
      expect(await runner.hasColumn('delivery', 'renderNotes')).toBe(true);
      await migration.down(runner);
      expect(await runner.hasTable('exchange_rate')).toBe(false);
      await migration.up(runner);
      expect(await runner.hasTable('exchange_rate')).toBe(true);
    } finally {
      await runner.release();
    }
  });

  (kind === 'mysql' ? it : it.skip)('gives every string column utf8mb4_bin on MySQL, whatever the database default', async () => {
    const dataSource = t.service.services.dataSource;
    await dataSource.query('ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci');
    const runner = dataSource.createQueryRunner();
    try {
      const migration = new ExchangeRates1796100000000();
      await migration.down(runner);
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    const rows: { TABLE_NAME: string; COLUMN_NAME: string; COLLATION_NAME: string }[] = await dataSource.query(
      `SELECT TABLE_NAME, COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS
       WHERE TABLE_SCHEMA = DATABASE() AND ((TABLE_NAME = 'exchange_rate' AND COLUMN_NAME IN ('date', 'currency')) OR (TABLE_NAME = 'delivery' AND COLUMN_NAME = 'renderNotes'))
       ORDER BY TABLE_NAME, COLUMN_NAME`,
    );
    expect(rows.map((r) => `${r.TABLE_NAME}.${r.COLUMN_NAME}:${r.COLLATION_NAME}`)).toEqual([
      'delivery.renderNotes:utf8mb4_bin',
      'exchange_rate.currency:utf8mb4_bin',
      'exchange_rate.date:utf8mb4_bin',
    ]);
  });
});
