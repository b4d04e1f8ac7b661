// The dispatch loop on the in-memory store, with a fake clock (Jest's timers, Date included)
// and a fake sender whose answers each test gives by hand: no database, no HTTP.
import { DeliveryStatus } from '../../../src/common/enums';
import { Delivery } from '../../../src/deliveries/delivery.entity';
import { DeliveryHub } from '../../../src/deliveries/delivery-hub';
import type { AttemptToRecord, RecordedAttempt } from '../../../src/deliveries/delivery-store';
import { MemoryDeliveryStore } from '../../../src/deliveries/memory-delivery-store';
import { CLAIM_ERROR_PAUSE_MS, type DispatchObserver, type Dispatcher, type DispatcherSettings, claimAhead, maxWaitingForCallbacks } from '../../../src/dispatch/dispatcher';
import { fixedCallbackConcurrency } from '../../../src/dispatch/adaptive-concurrency';

import { CALLBACK, FakeSender, pending, RETRY, settle, START, testDispatcher } from '../../support/dispatch-fakes';

describe('the dispatcher', () => {
  let store: MemoryDeliveryStore;
  let hub: DeliveryHub;
  let sender: FakeSender;
  let events: { hook: keyof DispatchObserver; args: unknown[] }[];
  let statusChanges: [string, DeliveryStatus][];
  let dispatcher: Dispatcher | null;

  beforeEach(() => {
    jest.useFakeTimers({ now: START, doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    store = new MemoryDeliveryStore({ now: () => new Date() }, { leaseMs: 60_000, retry: RETRY, random: () => 0.5 });
    store.defineCallback(CALLBACK, { signingSecret: null, maxAttempts: 3 });
    hub = new DeliveryHub();
    statusChanges = [];
    hub.onStatusChanged((deliveries) => statusChanges.push(...deliveries.map((d): [string, DeliveryStatus] => [d.id, d.status])));
    sender = new FakeSender();
    events = [];
    dispatcher = null;
  });
  afterEach(async () => {
    sender.answerNext(sender.requests.length);
    await dispatcher?.stop();
    jest.useRealTimers();
  });

  const hooks: (keyof DispatchObserver)[] = ['claimed', 'attemptFinished', 'deliveryFinished', 'refused', 'takenOver', 'leaseLost', 'failed'];
  const observer = Object.fromEntries(hooks.map((hook) => [hook, (...args: unknown[]) => events.push({ hook, args })])) as unknown as DispatchObserver;
  const start = (concurrency: number, shutdownGraceMs = 1_000, settings: Partial<DispatcherSettings> = {}) => {
    dispatcher = testDispatcher({ store, hub, sender, observer, settings: { concurrency, shutdownGraceMs, ...settings } });
    dispatcher.start();
    return dispatcher;
  };
  const statusOf = async (id: string) => (await store.findById(id))?.status;
  const count = (status: DeliveryStatus) => store.all().filter((d) => d.status === status).length;

  it('starts deliveries announced as queued at once, without waiting for a scan', async () => {
    start(4);
    await settle();
    const rows = pending(2);
    await store.queue(rows);
    hub.queued(rows);
    await settle();
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual(rows.map((r) => r.id));
    expect(events.filter((e) => e.hook === 'claimed').map((e) => e.args)).toEqual([[2, 'queued']]);
    sender.answerNext(2);
    await settle();
    expect(await statusOf(rows[0]!.id)).toBe('DELIVERED');
    expect(statusChanges.filter(([id]) => id === rows[0]!.id).map(([, s]) => s)).toEqual(['SENDING', 'DELIVERED']);
  });

  it('claims ahead: beyond the busy slots it holds half the batch (the concurrency, when unset) ready, and a freed slot starts one of them without a claim', async () => {
    await store.queue(pending(20));
    start(4);
    await settle();
    expect(sender.requests).toHaveLength(4);
    expect(count(DeliveryStatus.SENDING)).toBe(4 + claimAhead(4));
    const sent = new Set(sender.requests.map((r) => r.postback.deliveryId));
    const ready = store.all().filter((d) => d.status === DeliveryStatus.SENDING && !sent.has(d.id)).map((d) => d.id);
    expect(ready).toHaveLength(claimAhead(4));
    sender.answerNext(1);
    await settle();
    // The freed slot started the oldest ready claim; the loop then claimed to refill what is ready.
    expect(sender.requests).toHaveLength(4);
    expect(sender.requests[3]?.postback.deliveryId).toBe(ready[0]);
    expect(count(DeliveryStatus.DELIVERED)).toBe(1);
    expect(count(DeliveryStatus.SENDING)).toBe(4 + claimAhead(4));
  });

  it('holds back when the receivers are slow: never more than the concurrency in flight, however much is due', async () => {
    await store.queue(pending(50));
    start(2);
    await settle();
    await jest.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(sender.requests).toHaveLength(2);
    expect(count(DeliveryStatus.SENDING)).toBe(2 + claimAhead(2));
    expect(count(DeliveryStatus.PENDING)).toBe(50 - 2 - claimAhead(2));
  });

  it('claims by the batch size, not the requests out: one claim fills the batch and half again, and no more than the concurrency is sent at once', async () => {
    await store.queue(pending(50));
    start(2, 1_000, { batchSize: 8 });
    await settle();
    expect(sender.requests).toHaveLength(2);
    expect(count(DeliveryStatus.SENDING)).toBe(8 + claimAhead(8));
    expect(events.filter((e) => e.hook === 'claimed').map((e) => e.args)).toEqual([[8 + claimAhead(8), 'scan']]);
    // Each answer starts a ready claim at once, and the loop claims one more to fill the batch's room (an eighth of 8 is worth a claim).
    sender.answerNext(2);
    await settle();
    expect(sender.requests).toHaveLength(2);
    expect(count(DeliveryStatus.DELIVERED)).toBe(2);
    expect(count(DeliveryStatus.SENDING)).toBe(8 + claimAhead(8));
    expect(events.filter((e) => e.hook === 'claimed').map((e) => e.args)).toEqual([[8 + claimAhead(8), 'scan'], [1, 'scan'], [1, 'scan']]);
  });

  it('holds no more claims waiting for a callback at its own limit than a batch and half again, beside those sending', async () => {
    await store.queue(pending(100));
    start(4, 1_000, { batchSize: 8, callbackConcurrency: fixedCallbackConcurrency(1) });
    await settle();
    expect(sender.requests).toHaveLength(1);
    // A second claim may top the waiting ones up to the bound, not take a whole batch's room again.
    expect(count(DeliveryStatus.SENDING)).toBe(maxWaitingForCallbacks(8) + 1);
  });

  it('never takes a batch size below the concurrency', async () => {
    await store.queue(pending(50));
    start(4, 1_000, { batchSize: 1 });
    await settle();
    expect(sender.requests).toHaveLength(4);
    expect(count(DeliveryStatus.SENDING)).toBe(4 + claimAhead(4));
  });

  it('holds back when recording is slow: no claim while a full batch of results waits to be written (the concurrency, when unset)', async () => {
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const record = store.recordAttempts.bind(store);
    store.recordAttempts = async (items: readonly AttemptToRecord[]): Promise<(RecordedAttempt | null)[]> => {
      await gate;
      return record(items);
    };
    await store.queue(pending(30));
    start(2);
    await settle();
    sender.answerNext(2);
    await settle();
    // The two ready claims started, their answers came, and now four results wait.
    sender.answerNext(2);
    await settle();
    const claimedWhileStuck = events.filter((e) => e.hook === 'claimed').length;
    await jest.advanceTimersByTimeAsync(2_000);
    await settle();
    expect(events.filter((e) => e.hook === 'claimed').length).toBe(claimedWhileStuck);
    openGate();
    await settle();
    expect(count(DeliveryStatus.DELIVERED)).toBe(4);
    expect(events.filter((e) => e.hook === 'claimed').length).toBeGreaterThan(claimedWhileStuck);
  });

  it('schedules a failed attempt for retry and sends it again when it falls due, not before', async () => {
    const [row] = pending(1);
    await store.queue([row!]);
    start(4);
    await settle();
    sender.answerNext(1, 503);
    await settle();
    const retrying = await store.findById(row!.id);
    // BASE after attempt 1, no jitter (random 0.5).
    expect(retrying).toMatchObject({ status: 'RETRYING', attempts: 1, lastStatusCode: 503, nextAttemptAt: new Date(START.getTime() + RETRY.backoffBaseMs) });
    await jest.advanceTimersByTimeAsync(RETRY.backoffBaseMs - 1);
    await settle();
    expect(sender.requests).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(250);
    await settle();
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual([row!.id]);
    sender.answerNext(1, 200);
    await settle();
    expect(await store.findById(row!.id)).toMatchObject({ status: 'DELIVERED', attempts: 2 });
    expect((await store.attemptsOf([row!.id])).get(row!.id)?.map((a) => a.statusCode)).toEqual([503, 200]);
    expect(events.filter((e) => e.hook === 'deliveryFinished')).toHaveLength(1);
  });

  it('drops a result whose lease was taken over meanwhile, and records nothing', async () => {
    const [row] = pending(1);
    await store.queue([row!]);
    start(4);
    await settle();
    expect(sender.requests).toHaveLength(1);
    // Another worker took the delivery over (this one stalled past its lease).
    store.put(Object.assign((await store.findById(row!.id))!, { leaseOwner: 'worker-other' }));
    sender.answerNext(1, 200);
    await settle();
    expect(events.filter((e) => e.hook === 'leaseLost').map((e) => (e.args[0] as Delivery).id)).toEqual([row!.id]);
    expect((await store.attemptsOf([row!.id])).get(row!.id)).toBeUndefined();
    expect(await store.findById(row!.id)).toMatchObject({ status: 'SENDING', leaseOwner: 'worker-other' });
  });

  it('on shutdown stops claiming, gives back what has not started, and lets attempts in flight finish and record', async () => {
    await store.queue(pending(10));
    start(2);
    await settle();
    expect(sender.requests).toHaveLength(2);
    const stopped = dispatcher!.stop();
    await settle();
    // The ready claims went back at once, as they were.
    expect(count(DeliveryStatus.SENDING)).toBe(2);
    expect(count(DeliveryStatus.PENDING)).toBe(8);
    sender.answerNext(2);
    await stopped;
    expect(count(DeliveryStatus.DELIVERED)).toBe(2);
    expect(count(DeliveryStatus.PENDING)).toBe(8);
    expect(sender.closed).toBe(true);
    // Nothing is claimed after stop, even when more is queued.
    const late = pending(1);
    await store.queue(late);
    hub.queued(late);
    await jest.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(await statusOf(late[0]!.id)).toBe('PENDING');
  });

  it('on shutdown leaves an attempt that outlives the grace period to lease takeover', async () => {
    await store.queue(pending(1));
    start(1, 500);
    await settle();
    const stopped = dispatcher!.stop();
    await jest.advanceTimersByTimeAsync(500);
    await stopped;
    expect(count(DeliveryStatus.SENDING)).toBe(1);
    expect(sender.closed).toBe(true);
  });

  it('after a database error while claiming pauses, then claims again', async () => {
    store.failNext('claimDue', new Error('connection lost'));
    await store.queue(pending(1));
    start(2);
    await settle();
    expect(events.filter((e) => e.hook === 'failed').map((e) => e.args[0])).toEqual(['claim']);
    expect(sender.requests).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(CLAIM_ERROR_PAUSE_MS);
    await settle();
    expect(sender.requests).toHaveLength(1);
  });
});
