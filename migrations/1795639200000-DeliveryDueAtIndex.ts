import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';
import { createIndexOnce } from '../src/db/schema-tools';

/**
 * The dispatcher's claim query, `WHERE dueAt <= now ORDER BY dueAt LIMIT n FOR UPDATE SKIP
 * LOCKED`, over every status it may take (PENDING, RETRYING, and SENDING whose lease ran out).
 * dueAt is NULL once a delivery is DELIVERED or FAILED, so an index on dueAt alone holds only
 * live deliveries, in the order they fall due: the scan reads the first n due rows and stops.
 * IDX_delivery_due (status, dueAt) would need one range per status and a sort, and a locking
 * read that sorts locks every due row it read, not only the n it returns.
 */
export class DeliveryDueAtIndex1795639200000 implements MigrationInterface {
  name = 'DeliveryDueAtIndex1795639200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Skipped when present: a run killed after the CREATE INDEX but before it was recorded.
    await createIndexOnce(queryRunner, 'delivery', new TableIndex({ name: 'IDX_delivery_due_at', columnNames: ['dueAt'] }));
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('delivery', 'IDX_delivery_due_at');
  }
}
