import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';
import { createIndexOnce } from '../src/db/schema-tools';

/**
 * Retention (src/retention/) deletes, in small batches, the oldest finished deliveries
 * (`createdAt < cutoff`, oldest first) and the oldest events (`receivedAt < cutoff`). Without
 * these indexes every batch would scan the whole table. Each is skipped when it exists, so a
 * run stopped between the two completes when started again.
 */
export class RetentionIndexes1795700000000 implements MigrationInterface {
  name = 'RetentionIndexes1795700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await createIndexOnce(queryRunner, 'delivery', new TableIndex({ name: 'IDX_delivery_created', columnNames: ['createdAt'] }));
    await createIndexOnce(queryRunner, 'event', new TableIndex({ name: 'IDX_event_received', columnNames: ['receivedAt'] }));
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('event', 'IDX_event_received');
    await queryRunner.dropIndex('delivery', 'IDX_delivery_created');
  }
}
