import { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner, MYSQL_CHARSET, MYSQL_COLLATION } from '../src/db/schema-tools';

/**
 * delivery.leaseRoom: room a waiting delivery's record keeps for the lease owner its claim will
 * write (Delivery.leaseRoom says why). A nullable column at the end of the table: MariaDB adds
 * it without copying the table (instant ADD COLUMN, 10.3+), SQLite's ADD COLUMN only rewrites
 * the schema; rows already stored keep NULL. Safe to run again: skipped when the column exists.
 */
export class DeliveryLeaseRoom1796300000000 implements MigrationInterface {
  name = 'DeliveryLeaseRoom1796300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    if (await queryRunner.hasColumn('delivery', 'leaseRoom')) return;
    // Not TypeORM's addColumn: on SQLite it copies the whole table into a new one.
    await queryRunner.query(
      isMysqlRunner(queryRunner)
        ? `ALTER TABLE \`delivery\` ADD COLUMN \`leaseRoom\` varchar(64) CHARACTER SET ${MYSQL_CHARSET} COLLATE ${MYSQL_COLLATION} NULL`
        : 'ALTER TABLE "delivery" ADD COLUMN "leaseRoom" varchar(64)',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(isMysqlRunner(queryRunner) ? 'ALTER TABLE `delivery` DROP COLUMN `leaseRoom`' : 'ALTER TABLE "delivery" DROP COLUMN "leaseRoom"');
  }
}
