import { ColumnOptions } from 'typeorm';

// Column shapes shared by every entity, so both databases store the same thing:
// ids are UUID strings (v7, time-ordered), times have millisecond precision.
export const ID_COLUMN = { type: 'varchar', length: 36 } as const;
export const TIME_COLUMN = { type: 'datetime', precision: 3 } as const;

/**
 * Soft-deleted rows keep their history readable; `isLive` is 1 while a row is live and NULL
 * once deleted, so a unique index over (key, isLive) binds only live rows (NULLs never collide).
 */
export const LIVE_MARKER_COLUMN: ColumnOptions = { type: 'boolean', nullable: true, default: true };

/** JSON kept in a text column: portable across MySQL and SQLite, and never queried inside. */
export const jsonTransformer = {
  to: (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value)),
  from: (value: string | null) => (value === null || value === undefined ? null : JSON.parse(value)),
};
