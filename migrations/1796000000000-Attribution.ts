import { MigrationInterface, QueryRunner, Table, TableColumn, TableColumnOptions, TableIndex } from 'typeorm';

/**
 * Attribution memory and partner rules: the attribution_touchpoint table, the new event
 * columns (user and device identifiers, versions, attribution), the app's memory and store cut,
 * and the callback's mappings, conditions, window and delay.
 *
 * Safe to run again after a failure part-way: it creates what is missing and skips what exists.
 * On MySQL every string column names utf8mb4/utf8mb4_bin itself, whatever the database's
 * default collation.
 */
export class Attribution1796000000000 implements MigrationInterface {
  name = 'Attribution1796000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const mysql = queryRunner.connection.options.type !== 'better-sqlite3';
    const utf8 = mysql ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' } : {};
    const str = (name: string, length: number, nullable = true, dflt?: string): TableColumnOptions => ({
      name, type: 'varchar', length: String(length), isNullable: nullable, ...(dflt !== undefined ? { default: `'${dflt}'` } : {}), ...utf8,
    });
    const text = (name: string): TableColumnOptions => ({ name, type: 'text', isNullable: true, ...utf8 });
    const int = (name: string, nullable: boolean, dflt?: number): TableColumnOptions => ({ name, type: 'int', isNullable: nullable, ...(dflt !== undefined ? { default: dflt } : {}) });
    const time = (name: string, nullable: boolean): TableColumnOptions => ({ name, type: 'datetime', precision: mysql ? 3 : undefined, isNullable: nullable });

    await this.addMissingColumns(queryRunner, 'event', [
      str('customerUserId', 128), str('deviceId', 128), str('osVersion', 64), str('appVersion', 64),
      str('attribution', 16), str('attributionSource', 16, false, 'NONE'), time('attributedAt', true),
    ]);
    await this.addMissingColumns(queryRunner, 'app', [
      int('attributionMemoryDays', false, 90),
      { name: 'storeCutPercent', type: 'double', isNullable: false, default: 0 },
    ]);
    await this.addMissingColumns(queryRunner, 'callback', [
      text('eventMappings'), text('conditions'), int('postbackWindowDays', true), int('delaySeconds', false, 0),
    ]);

    if (!(await queryRunner.hasTable('attribution_touchpoint'))) {
      await queryRunner.createTable(
        new Table({
          name: 'attribution_touchpoint',
          columns: [
            { ...str('id', 36, false), isPrimary: true }, str('appId', 36, false), str('identifierKind', 1, false), str('identifierValue', 128, false),
            time('occurredAt', false), time('expiresAt', false), str('eventUuid', 36, false), str('networkId', 36, false),
            str('networkSlug', 64, false), str('campaignId', 255), str('attribution', 16, false),
          ],
          ...(mysql ? { engine: 'InnoDB' } : {}),
        }),
        true,
      );
    }
    const table = await queryRunner.getTable('attribution_touchpoint');
    // The lookup: one range per identifier, newest first. Retention: rows past their memory.
    for (const index of [
      new TableIndex({ name: 'IDX_touchpoint_lookup', columnNames: ['appId', 'identifierKind', 'identifierValue', 'occurredAt'] }),
      new TableIndex({ name: 'IDX_touchpoint_expires', columnNames: ['expiresAt'] }),
    ]) {
      if (!table?.indices.some((i) => i.name === index.name)) await queryRunner.createIndex('attribution_touchpoint', index);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('attribution_touchpoint', true);
    await this.dropExistingColumns(queryRunner, 'callback', ['eventMappings', 'conditions', 'postbackWindowDays', 'delaySeconds']);
    await this.dropExistingColumns(queryRunner, 'app', ['attributionMemoryDays', 'storeCutPercent']);
    await this.dropExistingColumns(queryRunner, 'event', ['customerUserId', 'deviceId', 'osVersion', 'appVersion', 'attribution', 'attributionSource', 'attributedAt']);
  }

  private async addMissingColumns(queryRunner: QueryRunner, tableName: string, columns: TableColumnOptions[]): Promise<void> {
    const table = await queryRunner.getTable(tableName);
    if (!table) throw new Error(`table ${tableName} is missing; run the earlier migrations first`);
    const missing = columns.filter((c) => !table.findColumnByName(c.name)).map((c) => new TableColumn(c));
    // One call: SQLite rebuilds the table once for all of them.
    if (missing.length > 0) await queryRunner.addColumns(table, missing);
  }

  private async dropExistingColumns(queryRunner: QueryRunner, tableName: string, names: string[]): Promise<void> {
    const table = await queryRunner.getTable(tableName);
    const present = names.filter((n) => table?.findColumnByName(n));
    if (table && present.length > 0) await queryRunner.dropColumns(table, present);
  }
}
