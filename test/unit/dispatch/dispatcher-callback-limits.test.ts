// Each callback's own concurrency limit (adaptive-concurrency.ts) inside the dispatch loop: a
// callback at its limit waits while others go ahead, its waiting claims do not make the loop
// scan again and again, and its answer times feed its limit. On the in-memory store, with a
// fake clock and a sender answered by hand.
import { DeliveryStatus } from '../../../src/common/enums';
import type { Delivery } from '../../../src/deliveries/delivery.entity';
import { DeliveryHub } from '../../../src/deliveries/delivery-hub';
import { MemoryDeliveryStore } from '../../../src/deliveries/memory-delivery-store';
import type { AdaptiveLimitSettings } from '../../../src/dispatch/adaptive-concurrency';
import type { Dispatcher } from '../../../src/dispatch/dispatcher';
import { CALLBACK, FakeSender, pending, RETRY, settle, START, testDispatcher } from '../../support/dispatch-fakes';

const OTHER = '01890000-0000-7000-8000-0000000000cc';
const KEYS = { signingSecret: null, previousSigningSecret: null };

describe('the dispatcher, with a concurrency limit per callback', () => {
  let store: MemoryDeliveryStore;
  let hub: DeliveryHub;
  let sender: FakeSender;
  let dispatcher: Dispatcher | null;
  let nowMs: number;
  let claimDue: jest.SpyInstance;
  let nextDueAt: jest.SpyInstance;
  let waits: string[];

  beforeEach(() => {
    jest.useFakeTimers({ now: START, doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    store = new MemoryDeliveryStore({ now: () => new Date() }, { leaseMs: 60_000, retry: RETRY, random: () => 0.5 });
    store.defineCallback(CALLBACK, { signingSecret: null, maxAttempts: 3 });
    store.defineCallback(OTHER, { signingSecret: null, maxAttempts: 3 });
    claimDue = jest.spyOn(store, 'claimDue');
    nextDueAt = jest.spyOn(store, 'nextDueAt');
    hub = new DeliveryHub();
    sender = new FakeSender();
    dispatcher = null;
    nowMs = 0;
    waits = [];
  });
  afterEach(async () => {
    sender.answerNext(sender.requests.length);
    await dispatcher?.stop();
    jest.useRealTimers();
  });

  const start = async (concurrency: number, callbackConcurrency: AdaptiveLimitSettings) => {
    dispatcher = testDispatcher({
      store,
      hub,
      sender,
      settings: { concurrency, callbackConcurrency },
      random: () => 1,
      monotonicMs: () => nowMs,
      observer: { waitedForCallbackLimit: (callbackId) => waits.push(callbackId) },
    });
    dispatcher.start();
    await settle();
  };
  const of = (callbackId: string, rows: Delivery[]) => rows.map((d) => Object.assign(d, { callbackId }));
  const outTo = (callbackId: string) => sender.requests.filter((r) => store.all().find((d) => d.id === r.postback.deliveryId)?.callbackId === callbackId).length;
  const fixed = (limit: number) => ({ initialLimit: limit, minLimit: limit, maxLimit: limit });

  it('sends no more to a callback than its limit, and another callback goes ahead of its waiting claims', async () => {
    await store.queue([...of(CALLBACK, pending(10)), ...of(OTHER, pending(2))]);
    await start(8, fixed(2));
    expect([outTo(CALLBACK), outTo(OTHER)]).toEqual([2, 2]);

    // Answering the other callback does not let the first exceed its limit.
    sender.answerNext(4);
    await settle();
    expect(outTo(CALLBACK)).toBe(2);
    expect(store.all().filter((d) => d.callbackId === OTHER).map((d) => d.status)).toEqual([DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED]);

    for (let i = 0; i < 10 && sender.requests.length > 0; i++) {
      expect(sender.requests.length).toBeLessThanOrEqual(2);
      sender.answerNext(sender.requests.length);
      await settle();
    }
    expect(store.all().every((d) => d.status === DeliveryStatus.DELIVERED)).toBe(true);
    // Each of the first callback's deliveries beyond its limit of 2 waited, once; the other's did not.
    expect(waits).toEqual(Array(8).fill(CALLBACK));
  });

  it('does not scan again and again for the due rows of a callback waiting at its limit', async () => {
    await store.queue(of(CALLBACK, pending(40)));
    await start(8, fixed(2));
    const scans = claimDue.mock.calls.length;
    await jest.advanceTimersByTimeAsync(5_000);
    await settle();
    // The regular scans of other processes' work (every 250 ms) and no more: not one every 10 ms.
    expect(claimDue.mock.calls.length - scans).toBeLessThanOrEqual(5_000 / 250 + 1);
    expect(nextDueAt.mock.calls.length).toBeLessThanOrEqual(5_000 / 250 + 2);
    expect(sender.requests).toHaveLength(2);
    // Once its waiting claims fall below its limit, more of its rows are claimed.
    for (let i = 0; i < 40 && sender.requests.length > 0; i++) {
      sender.answerNext(sender.requests.length);
      await settle();
    }
    expect(store.all().filter((d) => d.status === DeliveryStatus.DELIVERED)).toHaveLength(40);
  });

  it('inserts claimed the deliveries it is about to queue beyond their callback’s limit: they wait their turn', async () => {
    await start(8, fixed(2));
    const rows = of(CALLBACK, pending(5));
    const reservation = hub.reserveClaims(rows, () => KEYS);
    expect(reservation?.claim.keys.size).toBe(5);
    const claims = await store.queue(rows, [], reservation?.claim);
    hub.queued(rows);
    reservation?.started(claims);
    await settle();
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual(rows.slice(0, 2).map((r) => r.id));
    sender.answerNext(2);
    await settle();
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual(rows.slice(2, 4).map((r) => r.id));
  });

  it('learns the limit from answer times: it grows while answers come back as fast as the quickest', async () => {
    await store.queue(of(CALLBACK, pending(60)));
    await start(32, { initialLimit: 2, minLimit: 1, maxLimit: 16 });
    expect(sender.requests).toHaveLength(2);
    // Answers in 10 ms each: the first sets the unloaded time, then each grows the limit by one.
    const out: number[] = [];
    for (let round = 0; round < 4; round++) {
      nowMs += 10;
      sender.answerNext(sender.requests.length);
      await settle();
      out.push(sender.requests.length);
    }
    expect(out).toEqual([...out].sort((a, b) => a - b));
    expect(out[3]).toBeGreaterThanOrEqual(8);
  });

  it('shrinks it when answers slow down as more are sent', async () => {
    await store.queue(of(CALLBACK, pending(200)));
    await start(32, { initialLimit: 16, minLimit: 1, maxLimit: 16 });
    expect(sender.requests).toHaveLength(16);
    nowMs = 10;
    sender.answerNext(1);
    await settle();
    // Now every answer takes 100 ms: 16 × (1 − 10/100) = 15 queued.
    for (let i = 0; i < 8; i++) {
      nowMs += 100;
      sender.answerNext(sender.requests.length);
      await settle();
    }
    // Down to about what 16 out carried unqueued (16 × 10/100) and 3 more.
    expect(sender.requests.length).toBeLessThanOrEqual(5);
    expect(sender.requests.length).toBeGreaterThanOrEqual(2);
  });

  it('keeps out what the postbacks it keeps queuing need, where slow answers alone would shrink the limit (the API process under ingest)', async () => {
    await start(32, { initialLimit: 4, minLimit: 1, maxLimit: 16 });
    // One queued every 10 ms (100 a second); all answered every 100 ms, so answers take 10–100 ms
    // where the quickest took 10: Vegas alone goes down to a few and the rest queue up behind them.
    const outWhenAnswered: number[] = [];
    for (let step = 1; step <= 200; step++) {
      nowMs += 10;
      const rows = of(CALLBACK, pending(1));
      await store.queue(rows);
      hub.queued(rows);
      await settle();
      if (step % 10 === 0) {
        outWhenAnswered.push(sender.requests.length);
        sender.answerNext(sender.requests.length);
        await settle();
      }
    }
    // Vegas alone until the stream has filled two whole windows (INFLOW_WINDOW_MS): a backlog builds behind a limit of 4.
    expect(outWhenAnswered.slice(0, 2)).toEqual([4, 4]);
    // Then 100 a second × up to 100 ms, twice over, up to the max of 16: the backlog goes, and
    // every 10 go out as they come.
    expect(outWhenAnswered.slice(2, 4)).toEqual([16, 16]);
    expect(outWhenAnswered.slice(-8)).toEqual(Array(8).fill(10));
  });
});
