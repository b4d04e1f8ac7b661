import { MigrationInterface, QueryRunner, Table, TableColumn, TableColumnOptions, TableIndex } from 'typeorm';
import { createIndexOnce, createTableOnce, withCharset } from '../src/db/schema-tools';
import { LATENCY_COLUMNS } from '../src/deliveries/delivery-stats';

/**
 * The callback's health (circuit breaker, auto-disable), its send limit and the rotated-out
 * signing secret; the hourly delivery statistics (delivery_stats_hour, delivery_stats_error),
 * kept up to date as attempts are recorded. Safe to run again after a failure: only missing columns are added. On MySQL
 * every string column names utf8mb4/utf8mb4_bin, whatever the database's default is.
 */
export class DeliveryOperations1796200000000 implements MigrationInterface {
  name = 'DeliveryOperations1796200000000';

  private columns(): TableColumnOptions[] {
    const time = (name: string): TableColumnOptions => ({ name, type: 'datetime', precision: 3, isNullable: true });
    const int = (name: string, nullable: boolean, dflt?: number): TableColumnOptions => ({
      name, type: 'int', isNullable: nullable, ...(dflt !== undefined ? { default: dflt } : {}),
    });
    return [
      { name: 'healthState', type: 'varchar', length: '16', isNullable: false, default: "'HEALTHY'" },
      int('consecutiveFailures', false, 0),
      int('consecutiveRefusals', false, 0),
      time('failingSince'),
      time('lastSuccessAt'),
      time('lastFailureAt'),
      time('pausedUntil'),
      int('pauseMs', true),
      { name: 'disabledReason', type: 'varchar', length: '500', isNullable: true },
      time('healthChangedAt'),
      time('probeLeaseUntil'),
      int('maxRequestsPerSecond', true),
      int('autoDisableAfterHours', true),
      { name: 'previousSigningSecret', type: 'varchar', length: '100', isNullable: true },
      time('previousSecretExpiresAt'),
    ];
  }

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const column of this.columns()) {
      if (await queryRunner.hasColumn('callback', column.name)) continue;
      await queryRunner.addColumn('callback', new TableColumn(withCharset(queryRunner, column)));
    }
    const id = (name: string, nullable = false): TableColumnOptions => withCharset(queryRunner, { name, type: 'varchar', length: '36', isNullable: nullable });
    const count = (name: string): TableColumnOptions => ({ name, type: 'bigint', isNullable: false, default: 0 });
    const hour: TableColumnOptions = { name: 'hour', type: 'datetime', precision: 3, isNullable: false, isPrimary: true };
    await createTableOnce(
      queryRunner,
      new Table({
        name: 'delivery_stats_hour',
        columns: [
          hour,
          { ...id('callbackId'), isPrimary: true },
          id('appId'),
          id('networkId', true),
          ...['queued', 'delivered', 'failed', 'attempts', ...LATENCY_COLUMNS].map(count),
        ],
      }),
    );
    await createTableOnce(
      queryRunner,
      new Table({
        name: 'delivery_stats_error',
        columns: [
          hour,
          { ...id('callbackId'), isPrimary: true },
          { ...withCharset(queryRunner, { name: 'error', type: 'varchar', length: '120', isNullable: false }), isPrimary: true },
          id('appId'),
          id('networkId', true),
          count('count'),
        ],
      }),
    );
    // The same figures per UTC day (`hour` holds the day's start), for long DAY series.
    await createTableOnce(
      queryRunner,
      new Table({
        name: 'delivery_stats_day',
        columns: [hour, { ...id('callbackId'), isPrimary: true }, id('appId'), id('networkId', true), ...['queued', 'delivered', 'failed', 'attempts', ...LATENCY_COLUMNS].map(count)],
      }),
    );
    await createTableOnce(
      queryRunner,
      new Table({
        name: 'delivery_stats_day_error',
        columns: [
          hour,
          { ...id('callbackId'), isPrimary: true },
          { ...withCharset(queryRunner, { name: 'error', type: 'varchar', length: '120', isNullable: false }), isPrimary: true },
          id('appId'),
          id('networkId', true),
          count('count'),
        ],
      }),
    );
    for (const table of ['delivery_stats_day', 'delivery_stats_day_error']) {
      for (const column of ['appId', 'networkId', 'callbackId']) {
        await createIndexOnce(queryRunner, table, new TableIndex({ name: `IDX_${table.replace('delivery_', '')}_${column}`, columnNames: [column, 'hour'] }));
      }
    }
    await createIndexOnce(queryRunner, 'delivery_stats_hour', new TableIndex({ name: 'IDX_stats_hour_app', columnNames: ['appId', 'hour'] }));
    await createIndexOnce(queryRunner, 'delivery_stats_hour', new TableIndex({ name: 'IDX_stats_hour_network', columnNames: ['networkId', 'hour'] }));
    await createIndexOnce(queryRunner, 'delivery_stats_error', new TableIndex({ name: 'IDX_stats_error_app', columnNames: ['appId', 'hour'] }));
    await createIndexOnce(queryRunner, 'delivery_stats_error', new TableIndex({ name: 'IDX_stats_error_network', columnNames: ['networkId', 'hour'] }));
    await createIndexOnce(queryRunner, 'delivery_stats_hour', new TableIndex({ name: 'IDX_stats_hour_callback', columnNames: ['callbackId', 'hour'] }));
    await createIndexOnce(queryRunner, 'delivery_stats_error', new TableIndex({ name: 'IDX_stats_error_callback', columnNames: ['callbackId', 'hour'] }));
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('delivery_stats_day_error', true);
    await queryRunner.dropTable('delivery_stats_day', true);
    await queryRunner.dropTable('delivery_stats_error', true);
    await queryRunner.dropTable('delivery_stats_hour', true);
    for (const column of this.columns().reverse()) {
      if (await queryRunner.hasColumn('callback', column.name)) await queryRunner.dropColumn('callback', column.name);
    }
  }
}
