import type { DataSource } from 'typeorm';
import type { Clock } from '../common/clock';
import type { Logger } from '../common/logger';
import { isMysql } from '../db/data-source';
import type { DeliveryStore, DeliveryStoreOptions } from './delivery-store';
import { MysqlDeliveryStore } from './mysql-delivery-store';
import { TypeOrmDeliveryStore } from './typeorm-delivery-store';

/** The store for this database: MySQL's fast paths on MySQL/MariaDB, the portable adapter elsewhere. */
export function createDeliveryStore(dataSource: DataSource, clock: Clock, logger: Logger, options: DeliveryStoreOptions): DeliveryStore {
  return isMysql(dataSource) ? new MysqlDeliveryStore(dataSource, clock, logger, options) : new TypeOrmDeliveryStore(dataSource, clock, logger, options);
}
