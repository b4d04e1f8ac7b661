// Every statement on the exchange_rate table. Backticks quote identifiers on MySQL and SQLite alike.

const COLUMNS = '`date`, `currency`, `perUsd`';

export const SELECT_RATES_BETWEEN = `SELECT ${COLUMNS} FROM \`exchange_rate\` WHERE \`date\` >= ? AND \`date\` <= ?`;

export const SELECT_RATES_OF_DAY = `SELECT ${COLUMNS} FROM \`exchange_rate\` WHERE \`date\` = ? ORDER BY \`currency\``;

export const DELETE_RATES_OF_DAY = 'DELETE FROM `exchange_rate` WHERE `date` = ?';

/** One statement for a whole day (at most MAX_RATES_PER_DAY rows, 3 parameters each). */
export function insertRates(rowCount: number): string {
  return `INSERT INTO \`exchange_rate\` (${COLUMNS}) VALUES ${Array.from({ length: rowCount }, () => '(?, ?, ?)').join(', ')}`;
}

/** A raw row: MySQL's DOUBLE comes back as a number, but a driver may give a string. */
export function rateFromRow(row: { date: string; currency: string; perUsd: number | string }): { date: string; currency: string; perUsd: number } {
  return { date: String(row.date), currency: String(row.currency), perUsd: Number(row.perUsd) };
}
