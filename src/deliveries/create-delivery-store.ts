import type { DataSource } from 'typeorm';
import type { Clock } from '../common/clock';
import type { Logger } from '../common/logger';
import { isMysql } from '../db/data-source';
import type { DeliveryStore, DeliveryStoreOptions } from './delivery-store';
import { MysqlDeliveryStore } from './mysql-delivery-store';
import { TypeOrmDeliveryStore } from './typeorm-delivery-store';
import { DeliveryStatsRollup } from './delivery-stats-rollup';

/** The store for this database: MySQL's fast paths on MySQL/MariaDB, the portable adapter elsewhere. */
export function createDeliveryStore(dataSource: DataSource, clock: Clock, logger: Logger, options: DeliveryStoreOptions): DeliveryStore {
  // deliveryStats' rollup is kept by every SQL store unless the caller brings its own.
  options = { ...options, rollup: options.rollup ?? new DeliveryStatsRollup(dataSource) };
  return isMysql(dataSource) ? new MysqlDeliveryStore(dataSource, clock, logger, options) : new TypeOrmDeliveryStore(dataSource, clock, logger, options);
}
