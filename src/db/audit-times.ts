import { EntitySubscriberInterface, EventSubscriber, InsertEvent, UpdateEvent } from 'typeorm';

/**
 * Fills @CreateDateColumn and @UpdateDateColumn from one clock, with milliseconds.
 *
 * Left to TypeORM, an insert takes the column default (the database's CURRENT_TIMESTAMP(3))
 * and an update through `repository.update()` writes a bare `CURRENT_TIMESTAMP`, which has
 * whole seconds on MySQL and SQLite: updatedAt came back truncated and earlier than createdAt.
 * Here both come from the process clock at millisecond precision, the same clock that
 * `save()` already uses for updatedAt. A value the caller set is kept.
 */
@EventSubscriber()
export class AuditTimesSubscriber implements EntitySubscriberInterface {
  beforeInsert(event: InsertEvent<Record<string, unknown>>): void {
    const entity = event.entity;
    if (!entity || typeof entity !== 'object') return;
    const now = new Date();
    for (const column of [event.metadata.createDateColumn, event.metadata.updateDateColumn]) {
      if (column && entity[column.propertyName] === undefined) entity[column.propertyName] = now;
    }
  }

  beforeUpdate(event: UpdateEvent<Record<string, unknown>>): void {
    const entity = event.entity as Record<string, unknown> | undefined;
    const column = event.metadata.updateDateColumn;
    if (!entity || typeof entity !== 'object' || !column) return;
    // save() computes its own diff and sets updatedAt itself; this covers update(criteria, values).
    if (entity[column.propertyName] === undefined) entity[column.propertyName] = new Date();
  }
}
