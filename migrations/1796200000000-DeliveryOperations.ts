import { MigrationInterface, QueryRunner, TableColumn, TableColumnOptions } from 'typeorm';
import { withCharset } from '../src/db/schema-tools';

/**
 * The callback's health (circuit breaker, auto-disable), its send limit and the rotated-out
 * signing secret. Safe to run again after a failure: only missing columns are added. On MySQL
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
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of this.columns().reverse()) {
      if (await queryRunner.hasColumn('callback', column.name)) await queryRunner.dropColumn('callback', column.name);
    }
  }
}
