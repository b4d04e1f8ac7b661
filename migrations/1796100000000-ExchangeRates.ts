import { MigrationInterface, QueryRunner, Table, TableColumn, TableColumnOptions } from 'typeorm';

/**
 * exchange_rate (one row per day and currency, for the revenue_usd macros) and
 * delivery.renderNotes (why a macro of the delivery rendered empty). Safe to run again after a
 * failure: what exists is left alone. On MySQL every string column names its charset and
 * collation, whatever the database's default is.
 */
export class ExchangeRates1796100000000 implements MigrationInterface {
  name = 'ExchangeRates1796100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const mysql = queryRunner.connection.options.type !== 'better-sqlite3';
    const text = mysql ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' } : {};
    const str = (name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name, type: 'varchar', length: String(length), isNullable: false, ...text, ...extra,
    });

    if (!(await queryRunner.hasTable('exchange_rate'))) {
      await queryRunner.createTable(
        new Table({
          name: 'exchange_rate',
          columns: [
            str('date', 10, { isPrimary: true }),
            str('currency', 3, { isPrimary: true }),
            { name: 'perUsd', type: 'double', isNullable: false },
          ],
          ...(mysql ? { engine: 'InnoDB' } : {}),
        }),
        true,
      );
    }

    if (!(await queryRunner.hasColumn('delivery', 'renderNotes'))) {
      await queryRunner.addColumn('delivery', new TableColumn({ name: 'renderNotes', type: 'text', isNullable: true, ...text }));
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    if (await queryRunner.hasColumn('delivery', 'renderNotes')) await queryRunner.dropColumn('delivery', 'renderNotes');
    await queryRunner.dropTable('exchange_rate', true);
  }
}
