// Deliveries inserted already claimed: the dispatcher reserves free slots for deliveries this
// process is about to queue (DeliveryHub.reserveClaims), they are written claimed in the outbox
// insert, and start when it commits, with no claim of their own. On the in-memory store, with
// a fake clock and a sender answered by hand; `record` does what EventService does.
import { DeliveryStatus } from '../../../src/common/enums';
import type { Delivery } from '../../../src/deliveries/delivery.entity';
import { DeliveryHub, type QueueReservation } from '../../../src/deliveries/delivery-hub';
import { MemoryDeliveryStore } from '../../../src/deliveries/memory-delivery-store';
import type { Dispatcher, DispatcherSettings } from '../../../src/dispatch/dispatcher';
import { fixedCallbackConcurrency } from '../../../src/dispatch/adaptive-concurrency';
import { CALLBACK, FakeSender, pending, RETRY, settle, START, testDispatcher } from '../../support/dispatch-fakes';

const KEYS = { signingSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', previousSigningSecret: null };

describe('the dispatcher, for deliveries inserted already claimed', () => {
  let store: MemoryDeliveryStore;
  let hub: DeliveryHub;
  let sender: FakeSender;
  let statusChanges: [string, DeliveryStatus][];
  let claimAnnounced: jest.SpyInstance;
  let dispatcher: Dispatcher | null;

  beforeEach(() => {
    jest.useFakeTimers({ now: START, doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    store = new MemoryDeliveryStore({ now: () => new Date() }, { leaseMs: 60_000, retry: RETRY, random: () => 0.5 });
    store.defineCallback(CALLBACK, { signingSecret: null, maxAttempts: 3 });
    claimAnnounced = jest.spyOn(store, 'claimAnnounced');
    hub = new DeliveryHub();
    statusChanges = [];
    hub.onStatusChanged((deliveries) => statusChanges.push(...deliveries.map((d): [string, DeliveryStatus] => [d.id, d.status])));
    sender = new FakeSender();
    dispatcher = null;
  });
  afterEach(async () => {
    sender.answerNext(sender.requests.length);
    await dispatcher?.stop();
    jest.useRealTimers();
  });

  const start = async (concurrency: number, skipCallbackIds?: Set<string>, settings: Partial<DispatcherSettings> = {}) => {
    dispatcher = testDispatcher({
      store,
      hub,
      sender,
      settings: { concurrency, ...settings },
      claimOptions: () => (skipCallbackIds ? { skipCallbackIds } : {}),
    });
    dispatcher.start();
    await settle();
    return dispatcher;
  };
  /** What EventService.record does: reserve, write, announce PENDING, then start the claims. */
  const record = async (rows: Delivery[]) => {
    const reservation = hub.reserveClaims(rows, () => KEYS);
    const claims = await store.queue(rows, [], reservation?.claim);
    hub.queued(rows);
    hub.statusChanged(rows);
    reservation?.started(claims);
    await settle();
    return { reservation, claims };
  };
  const row = async (id: string) => (await store.findById(id)) as Delivery;

  it('inserts them claimed by this worker and sends them on commit, with no claim write; PENDING is published first', async () => {
    await start(4);
    const rows = pending(2);
    const { claims } = await record(rows);
    expect(claims.map((c) => c.delivery.id)).toEqual(rows.map((r) => r.id));
    expect(claimAnnounced).not.toHaveBeenCalled();
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual(rows.map((r) => r.id));
    expect(sender.requests[0]?.postback.signingSecret).toBe(KEYS.signingSecret);
    expect(await row(rows[0]!.id)).toMatchObject({ status: 'SENDING', leaseOwner: 'worker-test', dueAt: new Date(START.getTime() + 60_000) });
    sender.answerNext(2);
    await settle();
    expect(await row(rows[0]!.id)).toMatchObject({ status: 'DELIVERED', attempts: 1 });
    expect(statusChanges.filter(([id]) => id === rows[0]!.id).map(([, s]) => s)).toEqual(['PENDING', 'SENDING', 'DELIVERED']);
  });

  it('takes only the free slots; the rest are stored PENDING and claimed as announced', async () => {
    await start(2);
    const rows = pending(3);
    const { claims } = await record(rows);
    expect(claims.map((c) => c.delivery.id)).toEqual([rows[0]!.id, rows[1]!.id]);
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual([rows[0]!.id, rows[1]!.id]);
    expect(claimAnnounced).toHaveBeenCalledTimes(1);
    expect(claimAnnounced.mock.calls[0][1].map((d: Delivery) => d.id)).toEqual([rows[2]!.id]);
    // A slot busy with the first two: nothing more is reserved until one frees.
    expect(hub.reserveClaims(pending(1), () => KEYS)).toBeNull();
    sender.answerNext(1);
    await settle();
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual([rows[1]!.id, rows[2]!.id]);
  });

  it('with batches larger than the requests out, takes room beyond the free requests, but never ahead of claims waiting for one', async () => {
    await start(2, undefined, { batchSize: 8 });
    // Four while two requests are out: the other two wait in the batch's room, claimed, in order.
    const first = pending(4);
    const { claims } = await record(first);
    expect(claims.map((c) => c.delivery.id)).toEqual(first.map((r) => r.id));
    expect(claimAnnounced).not.toHaveBeenCalled();
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual([first[0]!.id, first[1]!.id]);
    // Now two claims wait for a request slot: a new delivery is stored PENDING and claimed behind them.
    const later = pending(1);
    const second = await record(later);
    expect(second.reservation).toBeNull();
    expect(claimAnnounced.mock.calls.map((call) => call[1].map((d: Delivery) => d.id))).toEqual([[later[0]!.id]]);
    sender.answerNext(2);
    await settle();
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual([first[2]!.id, first[3]!.id]);
    sender.answerNext(2);
    await settle();
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual([later[0]!.id]);
  });

  it('does not take a delivery of a callback whose claims wait for its own limit: it would start ahead of them', async () => {
    await start(4, undefined, { batchSize: 8, callbackConcurrency: fixedCallbackConcurrency(1) });
    const first = pending(2);
    const { claims } = await record(first);
    expect(claims).toHaveLength(2);
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual([first[0]!.id]);
    const later = pending(1);
    const second = await record(later);
    expect(second.reservation).toBeNull();
    sender.answerNext(1);
    await settle();
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual([first[1]!.id]);
    sender.answerNext(1);
    await settle();
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual([later[0]!.id]);
  });

  it('does not take a delivery due later (delaySeconds) or of a held callback', async () => {
    await start(4, new Set([CALLBACK]));
    expect(hub.reserveClaims(pending(2), () => KEYS)).toBeNull();
    await dispatcher?.stop();
    await start(4);
    const later = pending(1, new Date(START.getTime() + 5_000));
    const { reservation } = await record(later);
    expect(reservation).toBeNull();
    expect(await row(later[0]!.id)).toMatchObject({ status: 'PENDING', leaseOwner: null });
  });

  it('gives the slots back when the write fails', async () => {
    await start(1);
    const reservation = hub.reserveClaims(pending(1), () => KEYS) as QueueReservation;
    expect(reservation.claim.keys.size).toBe(1);
    expect(hub.reserveClaims(pending(1), () => KEYS)).toBeNull();
    reservation.cancelled();
    const rows = pending(1);
    const { claims } = await record(rows);
    expect(claims).toHaveLength(1);
    expect(sender.requests.map((r) => r.postback.deliveryId)).toEqual([rows[0]!.id]);
  });

  it('a reservation keeps the scan from claiming into its slots', async () => {
    await start(2);
    const reservation = hub.reserveClaims(pending(2), () => KEYS) as QueueReservation;
    await store.queue(pending(5));
    dispatcher?.wake();
    await settle();
    // concurrency 2 + half of it ahead, less the two reserved slots.
    expect(store.all().filter((d) => d.status === DeliveryStatus.SENDING)).toHaveLength(1);
    expect(sender.requests).toHaveLength(1);
    reservation.cancelled();
  });

  it('when stopping, waits for a reservation\'s write and puts what it inserted claimed back, unsent', async () => {
    await start(4);
    const rows = pending(2);
    const reservation = hub.reserveClaims(rows, () => KEYS) as QueueReservation;
    const stopped = dispatcher!.stop();
    let done = false;
    void stopped.then(() => {
      done = true;
    });
    await settle();
    expect(done).toBe(false);
    expect(hub.reserveClaims(pending(1), () => KEYS)).toBeNull();
    const claims = await store.queue(rows, [], reservation.claim);
    reservation.started(claims);
    await stopped;
    expect(sender.requests).toHaveLength(0);
    expect((await row(rows[0]!.id)).status).toBe('PENDING');
    expect((await row(rows[1]!.id)).leaseOwner).toBeNull();
  });
});
