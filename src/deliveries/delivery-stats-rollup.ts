// The owner of the delivery statistics tables (delivery_stats_hour, delivery_stats_error):
// the upserts the DeliveryStore runs in the same transaction as what they count (queued
// deliveries, recorded attempts, redelivered ones), and the reads of deliveryStats. The
// arithmetic is delivery-stats.ts.
//
// Each write is one multi-row upsert per table, with one row per (hour, callback) of the batch,
// in key order (so concurrent writers on MySQL lock rows in the same order and do not deadlock).
import type { DataSource } from 'typeorm';
import { dbTime, isMysql } from '../db/data-source';
import type { ScriptStatement } from '../db/transaction-script';
import { StatementTexts } from '../db/statement-texts';
import type { Delivery } from './delivery.entity';
import type { AttemptRollup, RecordedAttempt } from './delivery-store';
import {
  type ErrorDelta,
  LATENCY_COLUMNS,
  type RollupDelta,
  type RollupKey,
  type RollupRow,
  rollupDeltas,
  type StatsEvent,
} from './delivery-stats';
import { DeliveryStatus } from '../common/enums';

export const STATS_HOUR_TABLE = 'delivery_stats_hour';
export const STATS_ERROR_TABLE = 'delivery_stats_error';
/** The same figures per UTC day (its `hour` column holds the day's start): long DAY series read 24 times fewer rows. */
export const STATS_DAY_TABLE = 'delivery_stats_day';
export const STATS_DAY_ERROR_TABLE = 'delivery_stats_day_error';
const DAY_MS = 86_400_000;
/** Error classes read per part of a window before the top ones are chosen. */
const ERRORS_PER_PART = 100;

export type Grain = 'hour' | 'day';
const COUNT_COLUMNS = ['queued', 'delivered', 'failed', 'attempts', ...LATENCY_COLUMNS] as const;

export interface StatsScope {
  appId?: string | null;
  networkId?: string | null;
  callbackId?: string | null;
}

function keyOf(delivery: Delivery): RollupKey {
  return { deliveryCreatedAt: delivery.createdAt, appId: delivery.appId, networkId: delivery.networkId, callbackId: delivery.callbackId };
}

export function statsStatements(dataSource: DataSource) {
  const q = (name: string) => dataSource.driver.escape(name);
  const mysql = isMysql(dataSource);
  const tables = (grain: Grain) => (grain === 'hour' ? { H: q(STATS_HOUR_TABLE), E: q(STATS_ERROR_TABLE) } : { H: q(STATS_DAY_TABLE), E: q(STATS_DAY_ERROR_TABLE) });
  const tuple = (n: number) => `(${Array.from({ length: n }, () => '?').join(', ')})`;
  const hourColumns = ['hour', 'callbackId', 'appId', 'networkId', ...COUNT_COLUMNS];
  const add = (column: string) => (mysql ? `${q(column)} = ${q(column)} + VALUES(${q(column)})` : `${q(column)} = ${q(column)} + excluded.${q(column)}`);
  // Every result flush writes these upserts; their text depends only on the grain and the row
  // count, and a handful of counts recur (one row per callback of the flush).
  const upsertTexts = new StatementTexts<string>(256);
  const where = (scope: StatsScope) =>
    [`${q('hour')} >= ?`, `${q('hour')} < ?`, ...(['appId', 'networkId', 'callbackId'] as const).filter((k) => scope[k] != null).map((k) => `${q(k)} = ?`)].join(' AND ');
  return {
    /** Adds the deltas of `rows` (hour, callbackId, appId, networkId, counts…) to their rows. */
    UPSERT_HOURS: (rows: number, grain: Grain = 'hour') =>
      upsertTexts.get(`hours ${grain} ${rows}`, () =>
        `INSERT INTO ${tables(grain).H} (${hourColumns.map(q).join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple(hourColumns.length)).join(', ')} ` +
        (mysql ? 'ON DUPLICATE KEY UPDATE ' : `ON CONFLICT (${q('hour')}, ${q('callbackId')}) DO UPDATE SET `) +
        COUNT_COLUMNS.map(add).join(', ')),
    /** Parameters per row: hour, callbackId, error, appId, networkId, count. */
    UPSERT_ERRORS: (rows: number, grain: Grain = 'hour') =>
      upsertTexts.get(`errors ${grain} ${rows}`, () =>
        `INSERT INTO ${tables(grain).E} (${['hour', 'callbackId', 'error', 'appId', 'networkId', 'count'].map(q).join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple(6)).join(', ')} ` +
        (mysql ? 'ON DUPLICATE KEY UPDATE ' : `ON CONFLICT (${q('hour')}, ${q('callbackId')}, ${q('error')}) DO UPDATE SET `) +
        add('count')),
    /** Sums per hour of the window. Parameters: from, to, then the scope's ids in order appId, networkId, callbackId. */
    HOURS: (scope: StatsScope, grain: Grain = 'hour') =>
      `SELECT ${q('hour')} AS hour, ${COUNT_COLUMNS.map((c) => `SUM(${q(c)}) AS ${q(c)}`).join(', ')} FROM ${tables(grain).H} WHERE ${where(scope)} GROUP BY ${q('hour')}`,
    /** Error counts of the window, largest first. Parameters as HOURS, then the limit. */
    ERRORS: (scope: StatsScope, grain: Grain = 'hour') =>
      `SELECT ${q('error')} AS error, SUM(${q('count')}) AS n FROM ${tables(grain).E} WHERE ${where(scope)} GROUP BY ${q('error')} ORDER BY n DESC LIMIT ?`,
  };
}

export class DeliveryStatsRollup implements AttemptRollup {
  private readonly sql: ReturnType<typeof statsStatements>;

  constructor(private readonly dataSource: DataSource) {
    this.sql = statsStatements(dataSource);
  }

  statementsFor(recorded: readonly RecordedAttempt[]): ScriptStatement[] {
    const events: StatsEvent[] = [];
    for (const { delivery, attempt } of recorded) {
      const key = keyOf(delivery);
      events.push({ kind: 'attempt', key, latencyMs: attempt.latencyMs, statusCode: attempt.statusCode, error: attempt.error });
      if (delivery.status === DeliveryStatus.DELIVERED || delivery.status === DeliveryStatus.FAILED) events.push({ kind: 'final', key, status: delivery.status });
    }
    return this.statements(events);
  }

  statementsForQueued(deliveries: readonly Delivery[]): ScriptStatement[] {
    return this.statements(deliveries.map((d) => ({ kind: 'queued', key: keyOf(d) })));
  }

  statementsForReopened(reopened: readonly { delivery: Delivery; from: DeliveryStatus }[]): ScriptStatement[] {
    const events: StatsEvent[] = [];
    for (const { delivery, from } of reopened) {
      if (from === DeliveryStatus.DELIVERED || from === DeliveryStatus.FAILED) events.push({ kind: 'reopened', key: keyOf(delivery), from });
    }
    return this.statements(events);
  }

  private statements(events: StatsEvent[]): ScriptStatement[] {
    if (events.length === 0) return [];
    const byDay = events.map((e) => ({ ...e, key: { ...e.key, deliveryCreatedAt: new Date(Math.floor(e.key.deliveryCreatedAt.getTime() / DAY_MS) * DAY_MS) } }));
    return [...this.upserts(events, 'hour'), ...this.upserts(byDay, 'day')];
  }

  private upserts(events: StatsEvent[], grain: Grain): ScriptStatement[] {
    const { rows, errors } = rollupDeltas(events);
    const t = (d: Date) => dbTime(this.dataSource, d);
    const byKey = <T extends { hour: Date; callbackId: string }>(a: T, b: T) => a.hour.getTime() - b.hour.getTime() || (a.callbackId < b.callbackId ? -1 : a.callbackId > b.callbackId ? 1 : 0);
    const statements: ScriptStatement[] = [];
    const sortedRows = [...rows].sort(byKey);
    statements.push({
      sql: this.sql.UPSERT_HOURS(sortedRows.length, grain),
      parameters: sortedRows.flatMap((r: RollupDelta) => [t(r.hour), r.callbackId, r.appId, r.networkId, r.queued, r.delivered, r.failed, r.attempts, ...r.latency]),
    });
    if (errors.length > 0) {
      const sortedErrors = [...errors].sort((a, b) => byKey(a, b) || (a.error < b.error ? -1 : a.error > b.error ? 1 : 0));
      statements.push({
        sql: this.sql.UPSERT_ERRORS(sortedErrors.length, grain),
        parameters: sortedErrors.flatMap((e: ErrorDelta) => [t(e.hour), e.callbackId, e.error, e.appId, e.networkId, e.count]),
      });
    }
    return statements;
  }

  /**
   * The rollup rows of [from, to) (summed per hour, or per day for the whole UTC days of a
   * `byDay` read) over the scope, and the window's error counts (the largest of each part).
   */
  async read(scope: StatsScope, window: { from: Date; to: Date }, errorLimit: number, byDay = false): Promise<{ rows: RollupRow[]; errors: { error: string; count: number }[] }> {
    const firstDay = Math.ceil(window.from.getTime() / DAY_MS) * DAY_MS;
    const lastDay = Math.floor(window.to.getTime() / DAY_MS) * DAY_MS;
    if (!byDay || firstDay >= lastDay) return this.readPart(scope, window, errorLimit, 'hour');
    const parts = await Promise.all([
      this.readPart(scope, { from: window.from, to: new Date(firstDay) }, ERRORS_PER_PART, 'hour'),
      this.readPart(scope, { from: new Date(firstDay), to: new Date(lastDay) }, ERRORS_PER_PART, 'day'),
      this.readPart(scope, { from: new Date(lastDay), to: window.to }, ERRORS_PER_PART, 'hour'),
    ]);
    return { rows: parts.flatMap((p) => p.rows), errors: parts.flatMap((p) => p.errors) };
  }

  private async readPart(scope: StatsScope, window: { from: Date; to: Date }, errorLimit: number, grain: Grain): Promise<{ rows: RollupRow[]; errors: { error: string; count: number }[] }> {
    if (window.from.getTime() >= window.to.getTime()) return { rows: [], errors: [] };
    const t = (d: Date) => dbTime(this.dataSource, d);
    const parameters = [t(window.from), t(window.to), ...(['appId', 'networkId', 'callbackId'] as const).filter((k) => scope[k] != null).map((k) => scope[k])];
    const [hours, errors] = await Promise.all([
      this.dataSource.query(this.sql.HOURS(scope, grain), parameters) as Promise<Record<string, unknown>[]>,
      this.dataSource.query(this.sql.ERRORS(scope, grain), [...parameters, errorLimit]) as Promise<{ error: string; n: unknown }[]>,
    ]);
    return {
      rows: hours.map((h) => ({
        hour: parseHour(h.hour as Date | string),
        queued: Number(h.queued ?? 0),
        delivered: Number(h.delivered ?? 0),
        failed: Number(h.failed ?? 0),
        attempts: Number(h.attempts ?? 0),
        latency: LATENCY_COLUMNS.map((c) => Number(h[c] ?? 0)),
      })),
      errors: errors.map((e) => ({ error: e.error, count: Number(e.n) })),
    };
  }
}

function parseHour(value: Date | string): Date {
  if (value instanceof Date) return value;
  return new Date(`${value.replace(' ', 'T')}Z`);
}
