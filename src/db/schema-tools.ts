import { QueryRunner, Table, TableColumnOptions, TableIndex } from 'typeorm';

// Helpers for migrations that must run on MySQL/MariaDB and SQLite, in any MySQL database an
// operator created (whatever its default character set, latin1 included), and again after a
// run that failed or was killed halfway: MySQL DDL is not transactional, so each step creates
// what is missing and skips what already exists as it should.

export const MYSQL_CHARSET = 'utf8mb4';
export const MYSQL_COLLATION = 'utf8mb4_bin';

export function isMysqlRunner(queryRunner: QueryRunner): boolean {
  return queryRunner.connection.options.type !== 'better-sqlite3';
}

/**
 * The table options clause for MySQL. TypeORM writes `ENGINE=<engine>` at the end of its
 * CREATE TABLE and has no table charset option, so the default charset rides along there:
 * the table is created in utf8mb4_bin in one statement, never in the database's default.
 */
export const MYSQL_TABLE_ENGINE = `InnoDB DEFAULT CHARSET=${MYSQL_CHARSET} COLLATE=${MYSQL_COLLATION}`;

/** Gives a string column its explicit charset and collation on MySQL (SQLite has neither). */
export function withCharset(queryRunner: QueryRunner, column: TableColumnOptions): TableColumnOptions {
  if (!isMysqlRunner(queryRunner)) return column;
  const type = String(column.type).toLowerCase();
  if (!['varchar', 'char', 'text', 'mediumtext', 'longtext', 'tinytext'].includes(type)) return column;
  return { ...column, charset: MYSQL_CHARSET, collation: MYSQL_COLLATION };
}

const STRING_TYPES = new Set(['varchar', 'char', 'text', 'mediumtext', 'longtext', 'tinytext']);

/**
 * Creates the table unless it exists. On MySQL an existing table must have every column of the
 * definition, and its string columns must be utf8mb4_bin; one that does not (left behind by an
 * older, broken run that created tables in the database's default collation) is dropped and
 * created again when it holds no rows. A table with rows that does not match is an error
 * naming what is wrong: nothing is dropped that holds data.
 */
export async function createTableOnce(queryRunner: QueryRunner, table: Table): Promise<void> {
  const mysql = isMysqlRunner(queryRunner);
  if (mysql) table.engine = MYSQL_TABLE_ENGINE;
  if (!(await queryRunner.hasTable(table.name))) {
    await queryRunner.createTable(table, false, true, true);
    return;
  }
  if (!mysql) return;
  const problems = await mysqlTableMismatches(queryRunner, table);
  if (problems.length === 0) return;
  const [{ n }] = await queryRunner.query(`SELECT COUNT(*) AS n FROM \`${table.name}\``);
  if (Number(n) > 0) {
    throw new Error(`table ${table.name} exists but does not match the schema (${problems.join('; ')}) and holds rows: fix or drop it by hand`);
  }
  await queryRunner.query(`DROP TABLE \`${table.name}\``);
  await queryRunner.createTable(table, false, true, true);
}

async function mysqlTableMismatches(queryRunner: QueryRunner, table: Table): Promise<string[]> {
  const rows: Array<{ name: string; collation: string | null }> = await queryRunner.query(
    'SELECT COLUMN_NAME AS name, COLLATION_NAME AS collation FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    [table.name],
  );
  const existing = new Map(rows.map((row) => [row.name, row.collation]));
  const problems: string[] = [];
  for (const column of table.columns) {
    if (!existing.has(column.name)) problems.push(`column ${column.name} is missing`);
    else if (STRING_TYPES.has(String(column.type).toLowerCase()) && existing.get(column.name) !== MYSQL_COLLATION) {
      problems.push(`column ${column.name} is ${existing.get(column.name)}, not ${MYSQL_COLLATION}`);
    }
  }
  return problems;
}

/** Creates the index unless one of that name exists on the table. */
export async function createIndexOnce(queryRunner: QueryRunner, tableName: string, index: TableIndex): Promise<void> {
  const table = await queryRunner.getTable(tableName);
  if (table?.indices.some((existing) => existing.name === index.name)) return;
  await queryRunner.createIndex(tableName, index);
}
