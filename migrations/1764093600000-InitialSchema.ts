import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableForeignKey, TableIndex } from 'typeorm';
import { createTableOnce, withCharset } from '../src/db/schema-tools';

// Written with the QueryRunner Table API so one migration runs on MySQL/MariaDB and SQLite.
// The few places where the dialects differ are the helpers below.
//
// On MySQL every string column names its charset and collation (utf8mb4_bin) in the CREATE
// TABLE itself: a table created in the database's default collation and converted afterwards
// no longer matches the foreign keys of the next one, and the operator's database may have any
// default, latin1 included. Each table is one CREATE TABLE statement (indexes and foreign keys
// inline) that is skipped when the table exists, so a run that failed or was killed between
// two tables completes when started again. Databases made by the earlier version of this
// migration (CREATE, then CONVERT TO utf8mb4_bin) have the same columns and collations.

export class InitialSchema1764093600000 implements MigrationInterface {
  name = 'InitialSchema1764093600000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const mysql = queryRunner.connection.options.type !== 'better-sqlite3';
    const id = (name: string, nullable = false): TableColumnOptions => withCharset(queryRunner, { name, type: 'varchar', length: '36', isNullable: nullable });
    const pk = (): TableColumnOptions => ({ ...id('id'), isPrimary: true });
    const str = (name: string, length: number, nullable = false): TableColumnOptions =>
      withCharset(queryRunner, { name, type: 'varchar', length: String(length), isNullable: nullable });
    const text = (name: string, nullable = false): TableColumnOptions => withCharset(queryRunner, { name, type: 'text', isNullable: nullable });
    // A rendered body or response may exceed MySQL's 64 KB TEXT; SQLite has one TEXT.
    const longText = (name: string, nullable = false): TableColumnOptions =>
      withCharset(queryRunner, { name, type: mysql ? 'mediumtext' : 'text', isNullable: nullable });
    const int = (name: string, nullable = false, dflt?: number): TableColumnOptions => ({ name, type: 'int', isNullable: nullable, default: dflt });
    const bool = (name: string, dflt: boolean | null, nullable = false): TableColumnOptions => ({
      name, type: 'boolean', isNullable: nullable, default: dflt === null ? undefined : mysql ? (dflt ? 1 : 0) : dflt ? 1 : 0,
    });
    const time = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'datetime', precision: mysql ? 3 : undefined, isNullable: nullable });
    const stamp = (name: string): TableColumnOptions => ({
      ...time(name),
      default: mysql ? 'CURRENT_TIMESTAMP(3)' : "(strftime('%Y-%m-%d %H:%M:%f', 'now'))",
    });
    const auditColumns = [stamp('createdAt'), stamp('updatedAt')];
    const liveColumns = [time('deletedAt', true), { ...bool('isLive', true, true) }];
    const create = (table: Table) => createTableOnce(queryRunner, table);

    await create(new Table({
      name: 'app',
      columns: [pk(), str('name', 200), str('bundleId', 255), str('platform', 16), ...auditColumns, ...liveColumns],
      indices: [new TableIndex({ name: 'UQ_app_bundle_platform', columnNames: ['bundleId', 'platform', 'isLive'], isUnique: true })],
    }));

    await create(new Table({
      name: 'network',
      columns: [pk(), str('name', 200), str('slug', 64), ...auditColumns, ...liveColumns],
      indices: [new TableIndex({ name: 'UQ_network_slug', columnNames: ['slug', 'isLive'], isUnique: true })],
    }));

    await create(new Table({
      name: 'callback',
      columns: [
        pk(), id('appId'), id('networkId', true), str('name', 200), bool('enabled', true), str('method', 8),
        text('urlTemplate'), longText('bodyTemplate', true), text('headers'), text('eventNames'),
        bool('attributedOnly', false), int('maxAttempts'), int('timeoutMs'), str('signingSecret', 100, true),
        ...auditColumns, time('deletedAt', true),
      ],
      indices: [
        new TableIndex({ name: 'IDX_callback_app', columnNames: ['appId'] }),
        new TableIndex({ name: 'IDX_callback_network', columnNames: ['networkId'] }),
      ],
      foreignKeys: [
        new TableForeignKey({ name: 'FK_callback_app', columnNames: ['appId'], referencedTableName: 'app', referencedColumnNames: ['id'] }),
        new TableForeignKey({ name: 'FK_callback_network', columnNames: ['networkId'], referencedTableName: 'network', referencedColumnNames: ['id'] }),
      ],
    }));

    await create(new Table({
      name: 'macro',
      columns: [
        pk(), id('appId', true), str('scope', 36), str('name', 64), str('source', 16), str('path', 255, true),
        text('value', true), text('defaultValue', true), str('transform', 16), ...auditColumns,
      ],
      indices: [new TableIndex({ name: 'UQ_macro_scope_name', columnNames: ['scope', 'name'], isUnique: true })],
      foreignKeys: [
        new TableForeignKey({ name: 'FK_macro_app', columnNames: ['appId'], referencedTableName: 'app', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
      ],
    }));

    await create(new Table({
      name: 'event',
      columns: [
        pk(), id('appId'), str('eventId', 128, true), str('name', 128), time('occurredAt'), time('receivedAt'),
        str('advertisingId', 128, true), str('ipAddress', 45, true), str('userAgent', 1024, true), str('country', 2, true),
        str('platform', 16, true), str('campaignId', 255, true), id('networkId', true), str('networkSlug', 64, true),
        { name: 'revenue', type: 'double', isNullable: true }, str('currency', 3, true), bool('limitAdTracking', false),
        longText('params', true),
      ],
      indices: [new TableIndex({ name: 'UQ_event_app_event_id', columnNames: ['appId', 'eventId'], isUnique: true })],
      foreignKeys: [
        new TableForeignKey({ name: 'FK_event_app', columnNames: ['appId'], referencedTableName: 'app', referencedColumnNames: ['id'] }),
      ],
    }));

    await create(new Table({
      name: 'delivery',
      columns: [
        pk(), id('eventId'), id('callbackId'), id('appId'), id('networkId', true), str('status', 16), str('method', 8),
        text('url'), longText('body', true), text('headers'), int('timeoutMs'), int('attempts', false, 0), int('maxAttempts'),
        int('lastStatusCode', true), text('lastError', true), time('nextAttemptAt', true), time('dueAt', true),
        str('leaseOwner', 64, true), time('deliveredAt', true), time('createdAt'), time('updatedAt'),
      ],
      indices: [
        new TableIndex({ name: 'IDX_delivery_due', columnNames: ['status', 'dueAt'] }),
        new TableIndex({ name: 'IDX_delivery_event', columnNames: ['eventId'] }),
        new TableIndex({ name: 'IDX_delivery_app', columnNames: ['appId', 'id'] }),
        new TableIndex({ name: 'IDX_delivery_network', columnNames: ['networkId', 'id'] }),
        new TableIndex({ name: 'IDX_delivery_callback', columnNames: ['callbackId', 'id'] }),
      ],
      foreignKeys: [
        new TableForeignKey({ name: 'FK_delivery_event', columnNames: ['eventId'], referencedTableName: 'event', referencedColumnNames: ['id'] }),
        new TableForeignKey({ name: 'FK_delivery_callback', columnNames: ['callbackId'], referencedTableName: 'callback', referencedColumnNames: ['id'] }),
      ],
    }));

    await create(new Table({
      name: 'delivery_attempt',
      columns: [
        pk(), id('deliveryId'), int('number'), time('startedAt'), int('statusCode', true), int('latencyMs'),
        text('error', true), text('responseSnippet', true),
      ],
      indices: [new TableIndex({ name: 'UQ_delivery_attempt_number', columnNames: ['deliveryId', 'number'], isUnique: true })],
      foreignKeys: [
        new TableForeignKey({ name: 'FK_delivery_attempt_delivery', columnNames: ['deliveryId'], referencedTableName: 'delivery', referencedColumnNames: ['id'] }),
      ],
    }));

    await create(new Table({
      name: 'api_key',
      columns: [
        pk(), str('name', 200), str('role', 16), id('appId', true), id('networkId', true),
        str('secretHash', 64), str('secretPrefix', 16),
        stamp('createdAt'), time('lastUsedAt', true), time('revokedAt', true),
      ],
      indices: [new TableIndex({ name: 'UQ_api_key_hash', columnNames: ['secretHash'], isUnique: true })],
    }));
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['api_key', 'delivery_attempt', 'delivery', 'event', 'macro', 'callback', 'network', 'app']) {
      await queryRunner.dropTable(table, true);
    }
  }
}
