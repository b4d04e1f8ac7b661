// What one dispatcher knows of its callbacks' health: the ones to leave alone when claiming
// (PAUSED, DISABLED), the paused ones whose probe is due, and the attempts' signals on their
// way to the stored health (callbacks/callback-health.ts).
//
// The stored row is the truth; this process keeps a copy of the few callbacks that are not
// HEALTHY, refreshed every `refreshMs` and at once when any process announces a change. Signals
// are batched per callback and written by one flush at a time; a run of successes of a callback
// already known healthy is written at most once per CLEAN_WRITE_INTERVAL_MS (it only moves
// lastSuccessAt), so the hot path of a healthy deployment costs no write per attempt.
import type { Clock } from '../common/clock';
import type { Logger } from '../common/logger';
import type { CallbackDispatchState, CallbackHealthStore, HealthChange } from '../callbacks/callback-health';
import { type BreakerSettings, type BreakerSignal, CallbackState } from './circuit-breaker';

export const CLEAN_WRITE_INTERVAL_MS = 1000;
export const DEFAULT_HEALTH_REFRESH_MS = 1000;

export interface HealthMonitorDeps {
  store: CallbackHealthStore;
  clock: Clock;
  logger: Logger;
  settings: BreakerSettings;
  /** Every committed state change (to publish callbackHealthChanged, update metrics). */
  onChange?: (change: HealthChange) => void;
  refreshMs?: number;
}

export class CallbackHealthMonitor {
  /** Callbacks not HEALTHY, or with a send limit, as last read or written. */
  private readonly states = new Map<string, CallbackDispatchState>();
  private readonly pending = new Map<string, BreakerSignal[]>();
  /** Callbacks known healthy with no failures, and when their health was last written. */
  private readonly cleanSince = new Map<string, number>();
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private listeners: Array<() => void> = [];
  /** The first read is done (well or not): until then nothing is claimed. */
  ready = false;

  constructor(private readonly deps: HealthMonitorDeps) {}

  get settings(): BreakerSettings {
    return this.deps.settings;
  }

  /** Reads the constrained callbacks now, then every refreshMs. */
  async start(): Promise<void> {
    await this.refresh();
    const every = this.deps.refreshMs ?? DEFAULT_HEALTH_REFRESH_MS;
    this.timer = setInterval(() => void this.refresh(), every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Called after each refresh or change (the dispatcher claims again: a callback may be sendable now). */
  onUpdate(listener: () => void): void {
    this.listeners.push(listener);
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.deps.store
      .constrained()
      .then((rows) => {
        this.states.clear();
        for (const row of rows) this.states.set(row.callbackId, row);
        for (const row of rows) if (row.health.state !== CallbackState.HEALTHY || row.health.consecutiveFailures > 0) this.cleanSince.delete(row.callbackId);
        this.updated();
      })
      .catch((error) => this.deps.logger.warn({ err: error }, 'could not read callback health; keeping what is known'))
      .finally(() => {
        this.refreshing = null;
        this.ready = true;
      });
    return this.refreshing;
  }

  /** Callbacks whose deliveries must not be claimed for a normal send. */
  heldIds(): Set<string> {
    const held = new Set<string>();
    for (const [id, s] of this.states) if (s.health.state !== CallbackState.HEALTHY) held.add(id);
    return held;
  }

  isHeld(callbackId: string): boolean {
    const s = this.states.get(callbackId);
    return s !== undefined && s.health.state !== CallbackState.HEALTHY;
  }

  state(callbackId: string): CallbackDispatchState | undefined {
    return this.states.get(callbackId);
  }

  /** Send limits of the callbacks that have one. */
  limits(): Map<string, number> {
    const limits = new Map<string, number>();
    for (const [id, s] of this.states) if (s.maxRequestsPerSecond !== null) limits.set(id, s.maxRequestsPerSecond);
    return limits;
  }

  /** PAUSED callbacks whose pause is over: each needs one probe. */
  dueProbes(now: Date): string[] {
    const due: string[] = [];
    for (const [id, s] of this.states) {
      if (s.health.state === CallbackState.PAUSED && s.health.pausedUntil !== null && s.health.pausedUntil.getTime() <= now.getTime()) due.push(id);
    }
    return due;
  }

  /** When the earliest pause ends (the dispatcher wakes then for the probe); null when none is paused. */
  nextProbeAt(): Date | null {
    let next: Date | null = null;
    for (const s of this.states.values()) {
      if (s.health.state !== CallbackState.PAUSED || s.health.pausedUntil === null) continue;
      if (next === null || s.health.pausedUntil < next) next = s.health.pausedUntil;
    }
    return next;
  }

  takeProbe(callbackId: string, leaseMs: number): Promise<boolean> {
    const now = this.deps.clock.now();
    return this.deps.store.takeProbe(callbackId, now, new Date(now.getTime() + leaseMs));
  }

  returnProbe(callbackId: string): Promise<void> {
    return this.deps.store.returnProbe(callbackId);
  }

  /**
   * One attempt's signal. `probe`: it was the probe of a paused callback. Results of attempts
   * started before the circuit opened say nothing new about a paused callback and are dropped
   * (a failure would otherwise count as a failed probe).
   */
  observe(callbackId: string, signal: BreakerSignal, probe: boolean): void {
    if (signal === 'neutral') return;
    if (!probe && this.isHeld(callbackId)) return;
    if ((signal === 'success' || signal === 'reachable') && !probe) {
      const clean = this.cleanSince.get(callbackId);
      if (clean !== undefined && this.deps.clock.now().getTime() - clean < CLEAN_WRITE_INTERVAL_MS && !this.pending.has(callbackId)) return;
    }
    const list = this.pending.get(callbackId);
    if (list) list.push(signal);
    else this.pending.set(callbackId, [signal]);
    if (signal !== 'success' && signal !== 'reachable') this.cleanSince.delete(callbackId);
    void this.flush();
  }

  /** A change made elsewhere (resumeCallback, another process): apply it and re-read. */
  changedElsewhere(): void {
    void this.refresh();
  }

  /** Writes what is pending; one flush at a time, the next one takes what came in meanwhile. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.pending.size > 0 ? this.flush() : undefined));
    if (this.pending.size === 0) return Promise.resolve();
    this.flushing = this.writePending().finally(() => {
      this.flushing = null;
      if (this.pending.size > 0) void this.flush();
    });
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    const batch = [...this.pending];
    this.pending.clear();
    for (const [callbackId, signals] of batch) {
      const now = this.deps.clock.now();
      let change: HealthChange | null;
      try {
        change = await this.deps.store.record(callbackId, signals, now, this.deps.settings);
      } catch (error) {
        this.deps.logger.error({ err: error, callbackId }, 'could not record callback health');
        continue;
      }
      if (!change) continue;
      this.remember(change.after, now);
      if (change.stateChanged) {
        this.deps.logger.warn({ callbackId, from: change.before.state, to: change.after.health.state, pausedUntil: change.after.health.pausedUntil, reason: change.after.health.disabledReason }, 'callback health changed');
        try {
          this.deps.onChange?.(change);
        } catch (error) {
          this.deps.logger.error({ err: error }, 'a callback health listener failed');
        }
      }
      if (change.after.health.state !== change.before.state) this.updated();
    }
  }

  private remember(state: CallbackDispatchState, now: Date): void {
    const h = state.health;
    if (h.state !== CallbackState.HEALTHY || state.maxRequestsPerSecond !== null) this.states.set(state.callbackId, state);
    else this.states.delete(state.callbackId);
    if (h.state === CallbackState.HEALTHY && h.consecutiveFailures === 0) this.cleanSince.set(state.callbackId, now.getTime());
    else this.cleanSince.delete(state.callbackId);
  }

  private updated(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.deps.logger.error({ err: error }, 'a health update listener failed');
      }
    }
  }
}
