// The one owner of the callback row's health columns (the circuit breaker's state, kept by
// dispatch/circuit-breaker.ts rules). Two adapters with one contract: SQL (TypeORM, MySQL and
// SQLite) and memory (the dispatcher's unit tests).
//
// Several processes send to one callback at once, so a health change is read-modify-write in
// one transaction with the row locked (SELECT … FOR UPDATE on MySQL; SQLite has one writer);
// the probe of a PAUSED callback is taken by one atomic UPDATE, so exactly one process sends it.
import { DataSource, EntityManager } from 'typeorm';
import { dbTime, isMysql } from '../db/data-source';
import { withStatementRetries, withTransaction } from '../db/transactions';
import {
  type BreakerSettings,
  type BreakerSignal,
  type BreakerTransition,
  type CallbackHealth,
  CallbackState,
  disableHealth,
  recordBreakerSignal,
  resumeHealth,
} from '../dispatch/circuit-breaker';
import { Callback, CallbackHealthView } from './callback.entity';

/** What the dispatcher knows of one callback before it claims its deliveries. */
export interface CallbackDispatchState {
  callbackId: string;
  appId: string;
  networkId: string | null;
  health: CallbackHealth;
  autoDisableAfterHours: number | null;
  maxRequestsPerSecond: number | null;
}

export interface HealthChange {
  before: CallbackHealth;
  after: CallbackDispatchState;
  /** HEALTHY/PAUSED/DISABLED changed: publish callbackHealthChanged. */
  stateChanged: boolean;
}

export interface CallbackHealthStore {
  /** Callbacks that are not HEALTHY or have a send limit: all the dispatcher must know before claiming. */
  constrained(): Promise<CallbackDispatchState[]>;
  get(callbackId: string): Promise<CallbackDispatchState | null>;
  /** Folds attempts' signals (oldest first) into the stored health; null when the callback is gone. */
  record(callbackId: string, signals: readonly BreakerSignal[], now: Date, settings: BreakerSettings): Promise<HealthChange | null>;
  /** Takes the probe of a PAUSED callback whose pause is over, for this process until `leaseUntil`; false: another holds it or it is not due. */
  takeProbe(callbackId: string, now: Date, leaseUntil: Date): Promise<boolean>;
  /** Gives an unused probe back (nothing was queued to probe with). */
  returnProbe(callbackId: string): Promise<void>;
  /** resumeCallback: HEALTHY and enabled at once. */
  resume(callbackId: string, now: Date): Promise<HealthChange | null>;
  /** An admin switched it off (enabled: false). */
  disable(callbackId: string, reason: string, now: Date): Promise<HealthChange | null>;
}

/** The stored columns as the breaker's health. */
export function healthOf(row: Pick<Callback, 'healthState' | 'consecutiveFailures' | 'consecutiveRefusals' | 'failingSince' | 'lastSuccessAt' | 'lastFailureAt' | 'pausedUntil' | 'pauseMs' | 'disabledReason' | 'healthChangedAt' | 'createdAt'>): CallbackHealth {
  return {
    state: (row.healthState as CallbackState) ?? CallbackState.HEALTHY,
    consecutiveFailures: row.consecutiveFailures ?? 0,
    consecutiveRefusals: row.consecutiveRefusals ?? 0,
    failingSince: row.failingSince ?? null,
    lastSuccessAt: row.lastSuccessAt ?? null,
    lastFailureAt: row.lastFailureAt ?? null,
    pausedUntil: row.pausedUntil ?? null,
    pauseMs: row.pauseMs ?? null,
    disabledReason: row.disabledReason ?? null,
    changedAt: row.healthChangedAt ?? row.createdAt,
  };
}

/** Callback.health as the API shows it. */
export function healthView(callback: Callback): CallbackHealthView {
  const h = healthOf(callback);
  return {
    state: h.state,
    consecutiveFailures: h.consecutiveFailures,
    lastSuccessAt: h.lastSuccessAt,
    lastFailureAt: h.lastFailureAt,
    pausedUntil: h.pausedUntil,
    disabledReason: h.disabledReason,
    changedAt: h.changedAt,
  };
}

type HealthColumns = Pick<
  Callback,
  'healthState' | 'consecutiveFailures' | 'consecutiveRefusals' | 'failingSince' | 'lastSuccessAt' | 'lastFailureAt' | 'pausedUntil' | 'pauseMs' | 'disabledReason' | 'healthChangedAt'
>;

/** The callback columns that hold `health`. */
export function healthColumns(health: CallbackHealth): HealthColumns {
  return {
    healthState: health.state,
    consecutiveFailures: health.consecutiveFailures,
    consecutiveRefusals: health.consecutiveRefusals,
    failingSince: health.failingSince,
    lastSuccessAt: health.lastSuccessAt,
    lastFailureAt: health.lastFailureAt,
    pausedUntil: health.pausedUntil,
    pauseMs: health.pauseMs,
    disabledReason: health.disabledReason,
    healthChangedAt: health.changedAt,
  };
}

function sameHealth(a: CallbackHealth, b: CallbackHealth): boolean {
  const t = (d: Date | null) => (d === null ? null : d.getTime());
  return (
    a.state === b.state &&
    a.consecutiveFailures === b.consecutiveFailures &&
    a.consecutiveRefusals === b.consecutiveRefusals &&
    t(a.failingSince) === t(b.failingSince) &&
    t(a.lastSuccessAt) === t(b.lastSuccessAt) &&
    t(a.lastFailureAt) === t(b.lastFailureAt) &&
    t(a.pausedUntil) === t(b.pausedUntil) &&
    a.pauseMs === b.pauseMs &&
    a.disabledReason === b.disabledReason &&
    t(a.changedAt) === t(b.changedAt)
  );
}

function dispatchState(row: Callback): CallbackDispatchState {
  return {
    callbackId: row.id,
    appId: row.appId,
    networkId: row.networkId,
    health: healthOf(row),
    autoDisableAfterHours: row.autoDisableAfterHours ?? null,
    maxRequestsPerSecond: row.maxRequestsPerSecond ?? null,
  };
}

/** Every signal in order; the state changed if any step changed it. */
export function foldSignals(
  health: CallbackHealth,
  signals: readonly BreakerSignal[],
  now: Date,
  settings: BreakerSettings,
  autoDisableAfterHours: number | null,
): BreakerTransition {
  let current = health;
  let stateChanged = false;
  for (const signal of signals) {
    const t = recordBreakerSignal(current, { signal, now, settings, autoDisableAfterHours });
    current = t.health;
    stateChanged ||= t.stateChanged;
  }
  return { health: current, stateChanged: stateChanged && current.state !== health.state };
}

export class SqlCallbackHealthStore implements CallbackHealthStore {
  private readonly sql: ReturnType<typeof healthStatements>;

  constructor(private readonly dataSource: DataSource) {
    this.sql = healthStatements(dataSource);
  }

  async constrained(): Promise<CallbackDispatchState[]> {
    const rows = await this.dataSource
      .getRepository(Callback)
      .createQueryBuilder('c')
      .where('(c.healthState <> :healthy OR c.maxRequestsPerSecond IS NOT NULL)', { healthy: CallbackState.HEALTHY })
      .andWhere('c.deletedAt IS NULL')
      .getMany();
    return rows.map(dispatchState);
  }

  async get(callbackId: string): Promise<CallbackDispatchState | null> {
    const row = await this.dataSource.getRepository(Callback).findOne({ where: { id: callbackId }, withDeleted: true });
    return row ? dispatchState(row) : null;
  }

  record(callbackId: string, signals: readonly BreakerSignal[], now: Date, settings: BreakerSettings): Promise<HealthChange | null> {
    return this.change(callbackId, (row) => foldSignals(healthOf(row), signals, now, settings, row.autoDisableAfterHours ?? null));
  }

  resume(callbackId: string, now: Date): Promise<HealthChange | null> {
    return this.change(callbackId, (row) => resumeHealth(healthOf(row), now), { enabled: true });
  }

  disable(callbackId: string, reason: string, now: Date): Promise<HealthChange | null> {
    return this.change(callbackId, (row) => disableHealth(healthOf(row), reason, now));
  }

  async takeProbe(callbackId: string, now: Date, leaseUntil: Date): Promise<boolean> {
    const t = (d: Date) => dbTime(this.dataSource, d);
    const affected = await withStatementRetries(this.dataSource, async () => {
      const runner = this.dataSource.createQueryRunner();
      try {
        const result = await runner.query(this.sql.TAKE_PROBE, [t(leaseUntil), callbackId, CallbackState.PAUSED, t(now), t(now)], true);
        return result.affected ?? 0;
      } finally {
        await runner.release();
      }
    });
    return affected > 0;
  }

  async returnProbe(callbackId: string): Promise<void> {
    await withStatementRetries(this.dataSource, () => this.dataSource.query(this.sql.RETURN_PROBE, [callbackId]));
  }

  /** Read (locked), fold, write back when anything changed; an auto-disable also switches `enabled` off. */
  private async change(callbackId: string, step: (row: Callback) => BreakerTransition, extra: Partial<Callback> = {}): Promise<HealthChange | null> {
    return withTransaction(this.dataSource, async (manager: EntityManager) => {
      const query = manager.getRepository(Callback).createQueryBuilder('c').withDeleted().where('c.id = :id', { id: callbackId });
      if (isMysql(this.dataSource)) query.setLock('pessimistic_write');
      const row = await query.getOne();
      if (!row) return null;
      const before = healthOf(row);
      const transition = step(row);
      const enabledChange = transition.health.state === CallbackState.DISABLED && before.state !== CallbackState.DISABLED ? { enabled: false } : {};
      const changes = { ...enabledChange, ...extra };
      const changedEnabled = Object.entries(changes).some(([k, v]) => (row as unknown as Record<string, unknown>)[k] !== v);
      if (!sameHealth(before, transition.health) || changedEnabled) {
        const columns = { ...healthColumns(transition.health), ...changes, ...(transition.health.state === CallbackState.PAUSED ? {} : { probeLeaseUntil: null }) };
        // Health is not configuration: updatedAt keeps meaning "last edited".
        await manager.createQueryBuilder().update(Callback).set(columns).updateEntity(false).callListeners(false).where('id = :id', { id: callbackId }).execute();
      }
      const after = dispatchState({ ...row, ...changes, ...healthColumns(transition.health) } as Callback);
      return { before, after, stateChanged: transition.stateChanged };
    });
  }
}

/** The health statements written out as SQL, by name. */
export function healthStatements(dataSource: DataSource) {
  const q = (name: string) => dataSource.driver.escape(name);
  const C = q(dataSource.getMetadata(Callback).tableName);
  return {
    /** Parameters: leaseUntil, id, PAUSED, now (pause over), now (no live probe lease). */
    TAKE_PROBE:
      `UPDATE ${C} SET ${q('probeLeaseUntil')} = ? WHERE ${q('id')} = ? AND ${q('healthState')} = ? ` +
      `AND ${q('pausedUntil')} <= ? AND (${q('probeLeaseUntil')} IS NULL OR ${q('probeLeaseUntil')} < ?)`,
    /** Live callbacks per state other than HEALTHY (the metrics gauge). Parameters: HEALTHY. */
    COUNT_NOT_HEALTHY: `SELECT ${q('healthState')} AS state, COUNT(*) AS n FROM ${C} WHERE ${q('deletedAt')} IS NULL AND ${q('healthState')} <> ? GROUP BY ${q('healthState')}`,
    /** Parameters: id. */
    RETURN_PROBE: `UPDATE ${C} SET ${q('probeLeaseUntil')} = NULL WHERE ${q('id')} = ?`,
  };
}

/** The same contract in memory, for the dispatcher's unit tests. */
export class MemoryCallbackHealthStore implements CallbackHealthStore {
  readonly rows = new Map<string, CallbackDispatchState & { probeLeaseUntil: Date | null; enabled: boolean }>();

  put(state: Partial<CallbackDispatchState> & { callbackId: string; health: CallbackHealth }): void {
    this.rows.set(state.callbackId, {
      appId: 'app',
      networkId: null,
      autoDisableAfterHours: null,
      maxRequestsPerSecond: null,
      probeLeaseUntil: null,
      enabled: true,
      ...state,
    });
  }

  async constrained(): Promise<CallbackDispatchState[]> {
    return [...this.rows.values()].filter((r) => r.health.state !== CallbackState.HEALTHY || r.maxRequestsPerSecond !== null).map(copy);
  }

  async get(callbackId: string): Promise<CallbackDispatchState | null> {
    const row = this.rows.get(callbackId);
    return row ? copy(row) : null;
  }

  async record(callbackId: string, signals: readonly BreakerSignal[], now: Date, settings: BreakerSettings): Promise<HealthChange | null> {
    return this.change(callbackId, (row) => foldSignals(row.health, signals, now, settings, row.autoDisableAfterHours));
  }

  async resume(callbackId: string, now: Date): Promise<HealthChange | null> {
    const change = await this.change(callbackId, (row) => resumeHealth(row.health, now));
    const row = this.rows.get(callbackId);
    if (row) row.enabled = true;
    return change;
  }

  async disable(callbackId: string, reason: string, now: Date): Promise<HealthChange | null> {
    return this.change(callbackId, (row) => disableHealth(row.health, reason, now));
  }

  async takeProbe(callbackId: string, now: Date, leaseUntil: Date): Promise<boolean> {
    const row = this.rows.get(callbackId);
    if (!row || row.health.state !== CallbackState.PAUSED || row.health.pausedUntil === null || row.health.pausedUntil > now) return false;
    if (row.probeLeaseUntil !== null && row.probeLeaseUntil >= now) return false;
    row.probeLeaseUntil = leaseUntil;
    return true;
  }

  async returnProbe(callbackId: string): Promise<void> {
    const row = this.rows.get(callbackId);
    if (row) row.probeLeaseUntil = null;
  }

  private async change(callbackId: string, step: (row: CallbackDispatchState) => BreakerTransition): Promise<HealthChange | null> {
    const row = this.rows.get(callbackId);
    if (!row) return null;
    const before = row.health;
    const t = step(row);
    row.health = t.health;
    if (t.health.state !== CallbackState.PAUSED) row.probeLeaseUntil = null;
    if (t.health.state === CallbackState.DISABLED) row.enabled = false;
    return { before, after: copy(row), stateChanged: t.stateChanged };
  }
}

function copy(row: CallbackDispatchState): CallbackDispatchState {
  return {
    callbackId: row.callbackId,
    appId: row.appId,
    networkId: row.networkId,
    health: { ...row.health },
    autoDisableAfterHours: row.autoDisableAfterHours,
    maxRequestsPerSecond: row.maxRequestsPerSecond,
  };
}
