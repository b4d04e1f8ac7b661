import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { estimatedStatementBytes, estimatedValueBytes, PACKET_BUDGET_BYTES } from './packet-size';
import { StatementTexts } from './statement-texts';

/**
 * Multi-row INSERTs for the hot write paths (events, deliveries, attempts), written by hand
 * instead of through InsertQueryBuilder: the builder names one parameter per value and looks
 * each new name up among all the earlier ones, so a 500-row insert of ~20 columns spent most
 * of recordEvents' CPU building SQL. Here the statement is a string of `?` placeholders, made
 * once per shape, and the values go through the driver's own preparePersistentValue (column
 * transformers, dates, booleans), exactly as TypeORM would store them.
 *
 * Every mapped column is written; the caller provides every value (undefined is stored as
 * NULL, so a missing value of a NOT NULL column fails loudly).
 */

/** Rows per statement: well below MySQL's 65,535 and SQLite's 32,766 bound parameters. */
export const BULK_INSERT_CHUNK_ROWS = 500;
/**
 * Bytes per statement by packet-size.ts's upper bound: rows with large rendered bodies are
 * split into more statements so that none exceeds the server's max_allowed_packet. A single
 * row larger than this still goes alone.
 */
export const BULK_INSERT_CHUNK_BYTES = PACKET_BUDGET_BYTES;

/** `INSERT INTO t (a, b) VALUES (?, ?), (?, ?)` for `rowCount` rows; names already quoted. */
export function insertStatement(table: string, columns: readonly string[], rowCount: number): string {
  if (columns.length === 0 || rowCount < 1) throw new Error('an INSERT needs at least one column and one row');
  const row = `(${columns.map(() => '?').join(', ')})`;
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rowCount }, () => row).join(', ')}`;
}

interface TableShape {
  table: string;
  columns: ColumnMetadata[];
  quotedColumns: string[];
  /** Statements by row count: a hot path repeats the same few sizes (1, a few, a full chunk). */
  statements: StatementTexts<number>;
}

const shapes = new WeakMap<object, Map<unknown, TableShape>>();

function shapeOf(connection: DataSource, target: EntityTarget<ObjectLiteral>): TableShape {
  let byTarget = shapes.get(connection);
  if (!byTarget) {
    byTarget = new Map();
    shapes.set(connection, byTarget);
  }
  let shape = byTarget.get(target);
  if (!shape) {
    const metadata = connection.getMetadata(target);
    const driver = connection.driver;
    const columns = metadata.columns.filter((c) => !c.isVirtual && !c.isGenerated);
    shape = {
      table: driver.escape(metadata.tableName),
      columns,
      quotedColumns: columns.map((c) => driver.escape(c.databaseName)),
      statements: new StatementTexts<number>(64),
    };
    byTarget.set(target, shape);
  }
  return shape;
}

/**
 * The INSERT statements for `rows`, at most `chunkRows` rows and about `chunkBytes` bytes each
 * (for a transaction script, or to run one by one).
 */
export function insertStatements<T extends ObjectLiteral>(
  connection: DataSource,
  target: EntityTarget<T>,
  rows: readonly T[],
  chunkRows: number = BULK_INSERT_CHUNK_ROWS,
  chunkBytes: number = BULK_INSERT_CHUNK_BYTES,
): { sql: string; parameters: unknown[] }[] {
  const statements: { sql: string; parameters: unknown[] }[] = [];
  if (rows.length === 0) return statements;
  const shape = shapeOf(connection, target);
  const driver = connection.driver;
  const statementFor = (rowCount: number): string => shape.statements.get(rowCount, () => insertStatement(shape.table, shape.quotedColumns, rowCount));
  // The statement text's own share: the column list plus, per row, its placeholders.
  const textBytes = estimatedStatementBytes(statementFor(1), []);
  const rowTextBytes = shape.columns.length * 3 * 3;
  let parameters: unknown[] = [];
  let rowCount = 0;
  let bytes = textBytes;
  for (const row of rows) {
    const first = parameters.length;
    let rowBytes = rowTextBytes;
    for (const column of shape.columns) {
      const prepared = driver.preparePersistentValue(column.getEntityValue(row), column);
      const value = prepared === undefined ? null : prepared;
      rowBytes += estimatedValueBytes(value);
      parameters.push(value);
    }
    if (rowCount > 0 && (rowCount === chunkRows || bytes + rowBytes > chunkBytes)) {
      // This row starts the next statement.
      const carried = parameters.splice(first);
      statements.push({ sql: statementFor(rowCount), parameters });
      parameters = carried;
      rowCount = 0;
      bytes = textBytes;
    }
    rowCount++;
    bytes += rowBytes;
  }
  statements.push({ sql: statementFor(rowCount), parameters });
  return statements;
}
