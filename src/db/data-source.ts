import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, MigrationInterface } from 'typeorm';
import { DatabaseConfig } from '../config/config';
import { App } from '../apps/app.entity';
import { Network } from '../networks/network.entity';
import { Callback } from '../callbacks/callback.entity';
import { Macro } from '../macros/macro.entity';
import { Event } from '../events/event.entity';
import { Delivery } from '../deliveries/delivery.entity';
import { DeliveryAttempt } from '../deliveries/delivery-attempt.entity';
import { ApiKey } from '../auth/api-key.entity';
import { Touchpoint } from '../attribution/touchpoint.entity';
import { ExchangeRate } from '../revenue/exchange-rate.entity';
import { InitialSchema1764093600000 } from '../../migrations/1764093600000-InitialSchema';
import { DeliveryDueAtIndex1795639200000 } from '../../migrations/1795639200000-DeliveryDueAtIndex';
import { WiderRenderedColumns1795650000000 } from '../../migrations/1795650000000-WiderRenderedColumns';
import { RetentionIndexes1795700000000 } from '../../migrations/1795700000000-RetentionIndexes';
import { Attribution1796000000000 } from '../../migrations/1796000000000-Attribution';
import { ExchangeRates1796100000000 } from '../../migrations/1796100000000-ExchangeRates';
import { DeliveryOperations1796200000000 } from '../../migrations/1796200000000-DeliveryOperations';
import { DeliveryLeaseRoom1796300000000 } from '../../migrations/1796300000000-DeliveryLeaseRoom';
import { AuditTimesSubscriber } from './audit-times';

export const ENTITIES = [App, Network, Callback, Macro, Event, Delivery, DeliveryAttempt, ApiKey, Touchpoint, ExchangeRate];
export const MIGRATIONS = [
  InitialSchema1764093600000,
  DeliveryDueAtIndex1795639200000,
  WiderRenderedColumns1795650000000,
  RetentionIndexes1795700000000,
  Attribution1796000000000,
  ExchangeRates1796100000000,
  DeliveryOperations1796200000000,
  DeliveryLeaseRoom1796300000000,
];

export const SUBSCRIBERS = [AuditTimesSubscriber];

export function createDataSource(
  db: DatabaseConfig,
  options: { poolSize?: number; migrations?: Array<new () => MigrationInterface> } = {},
): DataSource {
  const migrations = options.migrations ?? MIGRATIONS;
  if (db.type === 'sqlite') {
    if (db.path !== ':memory:') mkdirSync(dirname(db.path), { recursive: true });
    return new DataSource({
      type: 'better-sqlite3',
      database: db.path,
      entities: ENTITIES,
      subscribers: SUBSCRIBERS,
      migrations,
      migrationsRun: false,
      synchronize: false,
      // WAL lets readers run beside the single writer; NORMAL sync is durable across
      // process crashes (not power loss), the usual trade for an embedded default.
      prepareDatabase: (database: { pragma(sql: string): unknown }) => {
        database.pragma('journal_mode = WAL');
        database.pragma('synchronous = NORMAL');
        database.pragma('busy_timeout = 5000');
        database.pragma('foreign_keys = ON');
      },
    });
  }
  return new DataSource({
    type: 'mysql',
    host: db.host,
    port: db.port,
    username: db.user,
    password: db.password,
    database: db.database,
    entities: ENTITIES,
    subscribers: SUBSCRIBERS,
    migrations,
    synchronize: false,
    timezone: 'Z',
    charset: 'utf8mb4_bin',
    poolSize: options.poolSize ?? 16,
    // Several statements per query: the hot write paths send a whole transaction in one round
    // trip (transaction-script.ts). Every value in the service's SQL is a bound parameter and
    // every identifier comes from entity metadata; nothing is pasted in from input.
    multipleStatements: true,
    // trace: mysql2's promise API (which TypeORM uses) otherwise captures a stack trace on
    // every query, for errors that TypeORM wraps in its own QueryFailedError anyway.
    extra: { connectionLimit: options.poolSize ?? 16, trace: false },
  });
}

export function isMysql(dataSource: DataSource): boolean {
  return dataSource.options.type === 'mysql';
}

/**
 * `column` (an SQL expression) as the query planner cannot use an index for, on SQLite: a
 * unary +. For statements meant to go by primary key (`id IN (…)`) that also check a status or
 * a time: without statistics SQLite's planner prefers IDX_delivery_due (status, dueAt) or
 * IDX_delivery_due_at for those and walks every PENDING (or due) row. MySQL plans them by
 * primary key on its own, and its unary + would turn a string into a number.
 */
export function notIndexed(dataSource: DataSource, column: string): string {
  return isMysql(dataSource) ? column : `+${column}`;
}

/**
 * A Date as a query parameter: mysql2 binds Date (in UTC, with timezone 'Z'); better-sqlite3
 * cannot bind Date, and TypeORM stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.SSS' UTC
 * text, so comparisons must use that same text.
 */
export function dbTime(dataSource: DataSource, date: Date): Date | string {
  if (isMysql(dataSource)) return date;
  return date.toISOString().replace('T', ' ').replace('Z', '');
}
