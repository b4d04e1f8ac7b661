// The dispatch loop's circuit breaker on the in-memory stores (deliveries and callback health),
// with a fake clock (Jest's timers) and a fake sender answered by hand: no database, no HTTP.
import pino from 'pino';
import { DeliveryStatus } from '../../../src/common/enums';
import { DeliveryHub } from '../../../src/deliveries/delivery-hub';
import { MemoryDeliveryStore } from '../../../src/deliveries/memory-delivery-store';
import type { Dispatcher } from '../../../src/dispatch/dispatcher';
import { MemoryCallbackHealthStore } from '../../../src/callbacks/callback-health';
import { CallbackHealthMonitor } from '../../../src/dispatch/callback-health-monitor';
import { CallbackState, FAILURES_TO_PAUSE, healthyState } from '../../../src/dispatch/circuit-breaker';
import { InMemorySendRateLimiter } from '../../../src/dispatch/send-rate-limiter';

import { CALLBACK, FakeSender, pending, RETRY, settle, START, testDispatcher } from '../../support/dispatch-fakes';


const PAUSE_MS = 10_000;

describe('the dispatcher with a circuit breaker', () => {
  let store: MemoryDeliveryStore;
  let health: MemoryCallbackHealthStore;
  let sender: FakeSender;
  let dispatcher: Dispatcher | null;
  let changes: string[];
  let rateLimited = 0;
  let hub: DeliveryHub;

  beforeEach(() => {
    jest.useFakeTimers({ now: START, doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    store = new MemoryDeliveryStore({ now: () => new Date() }, { leaseMs: 60_000, retry: RETRY, random: () => 0.5 });
    store.defineCallback(CALLBACK, { signingSecret: null, maxAttempts: 3 });
    health = new MemoryCallbackHealthStore();
    health.put({ callbackId: CALLBACK, health: healthyState(START) });
    sender = new FakeSender();
    changes = [];
    dispatcher = null;
  });
  afterEach(async () => {
    sender.answerNext(sender.requests.length);
    await dispatcher?.stop();
    jest.useRealTimers();
  });

  const start = (concurrency: number, limited = false) => {
    const clock = { now: () => new Date() };
    const logger = pino({ level: 'silent' });
    const monitor = new CallbackHealthMonitor({
      store: health, clock, logger, settings: { pauseMs: PAUSE_MS, maxPauseMs: 4 * PAUSE_MS },
      onChange: (c) => changes.push(`${c.before.state}->${c.after.health.state}`), refreshMs: 60_000,
    });
    hub = new DeliveryHub();
    dispatcher = testDispatcher({ store, hub, sender, clock, logger, health: monitor, rateLimiter: limited ? new InMemorySendRateLimiter(clock) : undefined, observer: { rateLimited: (_id, n) => (rateLimited += n) }, settings: { concurrency, retry: { ...RETRY, backoffBaseMs: 1, backoffMaxMs: 1 } } });
    dispatcher.start();
    return dispatcher;
  };
  const stateOf = () => health.rows.get(CALLBACK)!.health;
  const sentIds = () => sender.requests.map((r) => r.postback.deliveryId);

  it(`opens after ${FAILURES_TO_PAUSE} failures: the queue waits unsent and uncounted, one probe at pausedUntil resumes it, and the backlog drains once each`, async () => {
    const rows = pending(30);
    await store.queue(rows);
    start(1);
    await settle();
    // 20 failures in a row (5xx), one at a time.
    for (let i = 0; i < FAILURES_TO_PAUSE; i++) {
      expect(sender.requests).toHaveLength(1);
      sender.answerNext(1, 503);
      await settle();
      await jest.advanceTimersByTimeAsync(5);
      await settle();
    }
    expect(stateOf().state).toBe(CallbackState.PAUSED);
    expect(changes).toEqual(['HEALTHY->PAUSED']);
    // Paused: nothing is sent, whatever the scans find due.
    await jest.advanceTimersByTimeAsync(PAUSE_MS / 2);
    await settle();
    expect(sender.requests).toHaveLength(0);
    const attemptsWhilePaused = store.all().reduce((n, d) => n + d.attempts, 0);
    expect(store.all().filter((d) => d.status === DeliveryStatus.PENDING || d.status === DeliveryStatus.RETRYING)).toHaveLength(30);
    // The pause ends: exactly one probe.
    await jest.advanceTimersByTimeAsync(PAUSE_MS / 2 + 10);
    await settle();
    expect(sender.requests).toHaveLength(1);
    expect(store.all().reduce((n, d) => n + d.attempts, 0)).toBe(attemptsWhilePaused);
    sender.answerNext(1, 200);
    await settle();
    expect(stateOf().state).toBe(CallbackState.HEALTHY);
    expect(changes).toEqual(['HEALTHY->PAUSED', 'PAUSED->HEALTHY']);
    // The backlog drains: every delivery delivered, each sent successfully once.
    const delivered = new Map<string, number>();
    for (let round = 0; round < 200 && store.all().some((d) => d.status !== DeliveryStatus.DELIVERED); round++) {
      for (const id of sentIds()) delivered.set(id, (delivered.get(id) ?? 0) + 1);
      sender.answerNext(sender.requests.length, 200);
      await jest.advanceTimersByTimeAsync(5);
      await settle();
    }
    expect(store.all().every((d) => d.status === DeliveryStatus.DELIVERED)).toBe(true);
    expect([...delivered.values()].every((n) => n === 1)).toBe(true);
  });

  it('a failed probe pauses again, twice as long', async () => {
    await store.queue(pending(3));
    health.put({ callbackId: CALLBACK, health: { ...healthyState(START), state: CallbackState.PAUSED, consecutiveFailures: 20, pausedUntil: new Date(START.getTime() + PAUSE_MS), pauseMs: PAUSE_MS } });
    start(4);
    await settle();
    expect(sender.requests).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(PAUSE_MS + 10);
    await settle();
    expect(sender.requests).toHaveLength(1);
    const probedAt = Date.now();
    sender.answerNext(1, 500);
    await settle();
    expect(stateOf().state).toBe(CallbackState.PAUSED);
    expect(stateOf().pauseMs).toBe(2 * PAUSE_MS);
    expect(stateOf().pausedUntil!.getTime()).toBeGreaterThanOrEqual(probedAt + 2 * PAUSE_MS);
    await jest.advanceTimersByTimeAsync(PAUSE_MS);
    await settle();
    expect(sender.requests).toHaveLength(0);
  });

  it('a storm of permanent 4xx answers does not open it', async () => {
    await store.queue(pending(40));
    start(8);
    await settle();
    for (let round = 0; round < 20 && sender.requests.length > 0; round++) {
      sender.answerNext(sender.requests.length, 400);
      await settle();
    }
    expect(store.all().every((d) => d.status === DeliveryStatus.FAILED)).toBe(true);
    expect(stateOf().state).toBe(CallbackState.HEALTHY);
    expect(changes).toEqual([]);
  });

  it('a DISABLED callback sends nothing until resumed', async () => {
    await store.queue(pending(2));
    health.put({ callbackId: CALLBACK, health: { ...healthyState(START), state: CallbackState.DISABLED, disabledReason: 'disabled by an admin' } });
    start(4);
    await settle();
    await jest.advanceTimersByTimeAsync(10 * PAUSE_MS);
    await settle();
    expect(sender.requests).toHaveLength(0);
    await health.resume(CALLBACK, new Date());
    await jest.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(sender.requests).toHaveLength(2);
  });

  it('a held callback\'s new deliveries are not inserted already claimed', async () => {
    health.put({ callbackId: CALLBACK, health: { ...healthyState(START), state: CallbackState.DISABLED, disabledReason: 'disabled by an admin' } });
    start(4);
    await settle();
    const keys = () => ({ signingSecret: null, previousSigningSecret: null });
    expect(hub.reserveClaims(pending(1), keys)).toBeNull();
    await health.resume(CALLBACK, new Date());
    await jest.advanceTimersByTimeAsync(60_000);
    await settle();
    const reservation = hub.reserveClaims(pending(1), keys);
    expect(reservation?.claim.keys.size).toBe(1);
    reservation?.cancelled();
  });

  it('maxRequestsPerSecond: at most that many sends start in any second; the rest wait, unsent and uncounted, and all go out', async () => {
    const LIMIT = 5;
    health.put({ callbackId: CALLBACK, health: healthyState(START), maxRequestsPerSecond: LIMIT });
    const rows = pending(23);
    await store.queue(rows);
    start(16, true);
    const perSecond = new Map<number, number>();
    let seen = 0;
    for (let tick = 0; tick < 80 && store.all().some((d) => d.status !== DeliveryStatus.DELIVERED); tick++) {
      await settle();
      const fresh = sender.requests.length;
      const second = Math.floor(Date.now() / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + fresh);
      seen += fresh;
      sender.answerNext(fresh, 200);
      await settle();
      await jest.advanceTimersByTimeAsync(250);
    }
    expect(store.all().every((d) => d.status === DeliveryStatus.DELIVERED)).toBe(true);
    expect(seen).toBe(23);
    expect(Math.max(...perSecond.values())).toBe(LIMIT);
    expect([...perSecond.values()].filter((n) => n > 0).length).toBeGreaterThanOrEqual(Math.ceil(23 / LIMIT));
    expect(rateLimited).toBeGreaterThan(0);
    expect(store.all().every((d) => d.attempts === 1)).toBe(true);
  });
});
