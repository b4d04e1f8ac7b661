// Every statement on attribution_touchpoint (its one owner module).
import type { DataSource } from 'typeorm';
import { AttributionType } from '../common/enums';
import { dbTime, isMysql } from '../db/data-source';
import { serialized } from '../db/transactions';
import type { Identifier, RememberedTouchpoint } from './attribution';
import { Touchpoint } from './touchpoint.entity';

/** One SQL statement with its bound parameters. */
export interface TouchpointStatement {
  sql: string;
  parameters: unknown[];
}

const TABLE = 'attribution_touchpoint';

/** Does the app have any touchpoint at all (the prefix of IDX_touchpoint_lookup). */
export const SELECT_APP_HAS_TOUCHPOINTS = `SELECT 1 AS found FROM ${TABLE} WHERE appId = ? LIMIT 1`;

const REMEMBERED_COLUMNS = 'eventUuid, occurredAt, networkId, networkSlug, campaignId, attribution';
/** One identifier's range of IDX_touchpoint_lookup (appId, identifierKind, identifierValue, occurredAt). */
const LOOKUP_TERM = '(appId = ? AND identifierKind = ? AND identifierValue = ? AND occurredAt >= ? AND occurredAt <= ?)';

/**
 * The touchpoints remembered under any of `identifiers` of one app that occurred in [from, to];
 * with `newestOnly` only the newest (one event's lookup), else all of them (a batch's, chosen
 * from per event). One statement, one indexed range per identifier.
 */
export function selectRememberedStatement(
  dataSource: DataSource,
  appId: string,
  identifiers: readonly Identifier[],
  from: Date,
  to: Date,
  newestOnly: boolean,
): TouchpointStatement {
  const parameters: unknown[] = [];
  for (const id of identifiers) parameters.push(appId, id.kind, id.value, dbTime(dataSource, from), dbTime(dataSource, to));
  const where = identifiers.map(() => LOOKUP_TERM).join(' OR ');
  const limit = newestOnly ? ' ORDER BY occurredAt DESC, eventUuid DESC LIMIT 1' : '';
  return { sql: `SELECT identifierKind, identifierValue, ${REMEMBERED_COLUMNS} FROM ${TABLE} WHERE ${where}${limit}`, parameters };
}

export interface RememberedRow extends RememberedTouchpoint {
  identifierKind: string;
  identifierValue: string;
}

export function rememberedFromRow(row: Record<string, unknown>): RememberedRow {
  return {
    identifierKind: String(row.identifierKind),
    identifierValue: String(row.identifierValue),
    eventUuid: String(row.eventUuid),
    occurredAt: timeFromRow(row.occurredAt),
    networkId: String(row.networkId),
    networkSlug: String(row.networkSlug),
    campaignId: row.campaignId === null || row.campaignId === undefined ? null : String(row.campaignId),
    attribution: String(row.attribution) as AttributionType,
  };
}

/** mysql2 (timezone 'Z') gives Dates; SQLite gives TypeORM's 'YYYY-MM-DD HH:MM:SS.SSS' UTC text. */
function timeFromRow(value: unknown): Date {
  if (value instanceof Date) return value;
  return new Date(`${String(value).replace(' ', 'T')}Z`);
}

/**
 * For retention: deletes at most `limit` touchpoints whose memory ended before `before`, by
 * IDX_touchpoint_expires, and returns how many. (MySQL allows no LIMIT in an IN subquery, SQLite
 * no LIMIT on DELETE as built by default.)
 */
export async function deleteExpiredTouchpoints(dataSource: DataSource, before: Date, limit: number): Promise<number> {
  const at = dbTime(dataSource, before);
  if (isMysql(dataSource)) {
    const result = (await dataSource.query(`DELETE FROM ${TABLE} WHERE expiresAt < ? ORDER BY expiresAt LIMIT ?`, [at, limit])) as { affectedRows?: number };
    return result.affectedRows ?? 0;
  }
  return serialized(dataSource, async () => {
    const runner = dataSource.createQueryRunner();
    try {
      const result = await runner.query(`DELETE FROM ${TABLE} WHERE id IN (SELECT id FROM ${TABLE} WHERE expiresAt < ? LIMIT ?)`, [at, limit], true);
      return result.affected ?? 0;
    } finally {
      await runner.release();
    }
  });
}
