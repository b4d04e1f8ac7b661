import { Counter, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { RetentionConfig } from '../config/config';
import { Clock } from '../common/clock';
import { Logger } from '../common/logger';
import { isMysql } from '../db/data-source';
import { namedLockName, withNamedLock } from '../db/named-lock';
import { PURGE_STEPS, PurgeStep } from './purge-steps';

const DAY_MS = 86_400_000;

/** The first pass waits this long after start, so a deploy's start is not slowed by a purge. */
const FIRST_PASS_DELAY_MS = 30_000;

export type PurgedRows = Record<string, number>;

export interface RetentionDeps {
  dataSource: DataSource;
  config: RetentionConfig;
  clock: Clock;
  logger: Logger;
  /** postbacks_purged_rows_total{table} is registered here. */
  registry: Registry;
  steps?: readonly PurgeStep[];
  /** Waits between batches; tests pass one that does not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

/** Where the cutoff falls: rows older than `days` before now; null when everything is kept. */
export function retentionCutoff(now: Date, days: number): Date | null {
  return days <= 0 ? null : new Date(now.getTime() - days * DAY_MS);
}

/**
 * Deletes events, deliveries and attempts older than RETENTION_DAYS in bounded batches, paced
 * by RETENTION_PAUSE_MS, and soft-deleted configuration whose history is gone. Any number of
 * processes may run one: on MySQL a pass runs only in the process holding the deployment-wide
 * lock (GET_LOCK, named after the database; the others skip that pass). SQLite has one writer.
 */
export class Retention {
  readonly purgedRows: Counter<'table'>;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PurgedRows | null> | null = null;
  private stopped = false;
  private readonly steps: readonly PurgeStep[];
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: RetentionDeps) {
    this.steps = deps.steps ?? PURGE_STEPS;
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    const existing = deps.registry.getSingleMetric('postbacks_purged_rows_total') as Counter<'table'> | undefined;
    this.purgedRows =
      existing ??
      new Counter({ name: 'postbacks_purged_rows_total', help: 'Rows deleted by retention (RETENTION_DAYS), by table', labelNames: ['table'], registers: [deps.registry] });
  }

  /** Schedules passes every RETENTION_INTERVAL_MS; nothing with RETENTION_DAYS=0. */
  start(): void {
    if (this.deps.config.days <= 0 || this.timer) return;
    const schedule = (delay: number) => {
      this.timer = setTimeout(() => {
        void this.runPass()
          .catch((error) => this.deps.logger.warn({ err: error }, 'retention pass failed; trying again next interval'))
          .finally(() => {
            if (!this.stopped) schedule(this.deps.config.intervalMs);
          });
      }, delay);
      this.timer.unref();
    };
    schedule(Math.min(FIRST_PASS_DELAY_MS, this.deps.config.intervalMs));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One whole pass; null when another process holds the lock or retention is off. */
  runPass(): Promise<PurgedRows | null> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<PurgedRows | null> {
    const cutoff = retentionCutoff(this.deps.clock.now(), this.deps.config.days);
    if (!cutoff) return null;
    return this.withLock(async () => {
      const totals: PurgedRows = {};
      const started = Date.now();
      for (const step of this.steps) {
        for (;;) {
          if (this.stopped) return totals;
          const purged = await step.runBatch({ dataSource: this.deps.dataSource, cutoff, now: this.deps.clock.now(), limit: this.deps.config.batchSize });
          for (const [table, rows] of Object.entries(purged)) {
            if (rows > 0) this.purgedRows.inc({ table }, rows);
            totals[table] = (totals[table] ?? 0) + rows;
          }
          if ((purged[step.table] ?? 0) < this.deps.config.batchSize) break;
          if (this.deps.config.pauseMs > 0) await this.sleep(this.deps.config.pauseMs);
        }
      }
      if (Object.values(totals).some((rows) => rows > 0)) {
        this.deps.logger.info({ cutoff: cutoff.toISOString(), purged: totals, ms: Date.now() - started }, 'retention purged rows older than the window');
      }
      return totals;
    });
  }

  private async withLock(work: () => Promise<PurgedRows>): Promise<PurgedRows | null> {
    const { dataSource } = this.deps;
    if (!isMysql(dataSource)) return work();
    return withNamedLock(dataSource, retentionLockName(String(dataSource.options.database)), 0, work);
  }
}

export function retentionLockName(database: string): string {
  return namedLockName('retention', database);
}
