import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MySQL's TEXT holds 64 KB, less than what validation lets through: 32 configured headers of
 * up to 4096 characters (4 bytes each in utf8mb4), and rendered URLs and headers that macros
 * fill with event values. A row that does not fit failed the whole recordEvent with an
 * internal error; as MEDIUMTEXT (16 MB) it is stored, and an over-long URL fails its delivery
 * with the reason, as the contract says. SQLite's TEXT has no such bound: nothing to do there.
 */
const WIDENED: ReadonlyArray<{ table: string; column: string }> = [
  { table: 'callback', column: 'headers' },
  { table: 'delivery', column: 'url' },
  { table: 'delivery', column: 'headers' },
];

export class WiderRenderedColumns1795650000000 implements MigrationInterface {
  name = 'WiderRenderedColumns1795650000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type === 'better-sqlite3') return;
    for (const { table, column } of WIDENED) {
      await queryRunner.query(`ALTER TABLE \`${table}\` MODIFY \`${column}\` MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL`);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type === 'better-sqlite3') return;
    for (const { table, column } of WIDENED) {
      await queryRunner.query(`ALTER TABLE \`${table}\` MODIFY \`${column}\` TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL`);
    }
  }
}
