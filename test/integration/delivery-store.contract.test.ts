// The DeliveryStore contract, run against every adapter: the memory store, the portable
// TypeORM store on SQLite and MySQL, and the MySQL store. A clock the test moves: claims,
// leases and their takeover, guarded recording (one by one and in groups), release,
// redeliver, pages and queue figures.
import { DeliveryStatus } from '../../src/common/enums';
import { Delivery } from '../../src/deliveries/delivery.entity';
import { LEASE_EXPIRED_ERROR, type AttemptRecord } from '../../src/deliveries/delivery-state';
import type { AttemptToRecord, ClaimedDelivery, DeliveryStore, DeliveryStoreOptions, RecordedAttempt } from '../../src/deliveries/delivery-store';
import { LEASE_SAFETY_MARGIN_MS } from '../../src/deliveries/lease';
import type { DataSource } from 'typeorm';
import { DUE_INDEX, LEASE_ROOM, type TypeOrmDeliveryStore } from '../../src/deliveries/typeorm-delivery-store';
import { isMysql } from '../../src/db/data-source';
import { newId } from '../../src/common/ids';
import { openStoreHarness, storeHarnessSpecs, type SeedOptions, type StoreHarness, type StoreHarnessSpec } from '../support/delivery-store-harness';

const LEASE_MS = 60_000;
const RETRY = { backoffBaseMs: 5_000, backoffMaxMs: 60_000 };
const MID = () => 0.5; // no jitter

describe.each(storeHarnessSpecs().map((spec) => [spec.label, spec] as const))('%s', (_label, spec: StoreHarnessSpec) => {
  let h: StoreHarness;
  let now: Date;
  let store: DeliveryStore;
  const clock = { now: () => now };
  const makeStore = (options: Partial<DeliveryStoreOptions> = {}) => h.store({ leaseMs: LEASE_MS, retry: RETRY, random: MID, ...options }, clock);

  beforeAll(async () => {
    h = await openStoreHarness(spec);
  });
  beforeEach(async () => {
    now = new Date(Date.now() - 3_600_000); // an hour behind real time, so nothing of ours is due by accident
    store = makeStore();
    await h.finishAll(store);
  });
  afterAll(async () => {
    await h?.close();
  });

  const later = (ms: number) => new Date(now.getTime() + ms);
  const seed = (count: number, options?: SeedOptions, into: DeliveryStore = store) => h.seed(into, now, count, options);
  const row = async (id: string) => {
    const found = await store.findById(id);
    if (!found) throw new Error(`no delivery ${id}`);
    return found;
  };
  const attempts = async (id: string) => (await store.attemptsOf([id])).get(id) ?? [];
  const attempt = (number: number, statusCode: number | null, error: string | null = null): AttemptRecord => ({
    number,
    startedAt: later(-20),
    statusCode,
    latencyMs: 12,
    error,
    responseSnippet: statusCode === null ? null : 'ok',
  });
  const claimAll = async (count: number, owner = 'worker-a'): Promise<ClaimedDelivery[]> => {
    await seed(count);
    const { claimed } = await store.claimDue(owner, count);
    expect(claimed).toHaveLength(count);
    return claimed;
  };

  describe('the outbox and reads', () => {
    it('stores queued deliveries as given and reads them back by id, by event, and in pages newest first', async () => {
      const { rows } = await seed(3);
      expect(await row(rows[0].id)).toEqual(rows[0]);
      expect((await store.findByEvents([rows[0].eventId])).map((d) => d.id)).toEqual(rows.map((r) => r.id).sort());
      const first = await store.page({ callbackId: rows[0].callbackId }, 2, null);
      const newestFirst = rows.map((r) => r.id).sort().reverse();
      expect(first.deliveries.map((d) => d.id)).toEqual(newestFirst.slice(0, 2));
      expect(first.hasNextPage).toBe(true);
      const second = await store.page({ callbackId: rows[0].callbackId }, 2, newestFirst[1] as string);
      expect(second.deliveries.map((d) => d.id)).toEqual(newestFirst.slice(2));
      expect(second.hasNextPage).toBe(false);
      expect((await store.page({ callbackId: rows[0].callbackId, statuses: [DeliveryStatus.FAILED] }, 10, null)).deliveries).toEqual([]);
      expect((await store.page({ callbackId: rows[0].callbackId }, 0, null)).hasNextPage).toBe(true);
      expect(await store.exists({ eventId: rows[0].eventId, appId: rows[0].appId })).toBe(true);
      expect(await store.exists({ eventId: rows[0].eventId, networkId: '01890000-0000-7000-8000-00000000ffff' })).toBe(false);
      expect(await store.findById('not-a-uuid')).toBeNull();
    });

    it('counts live deliveries by status and finds the oldest due one', async () => {
      const before = await store.queueDepth();
      const { rows } = await seed(3, { dueAt: (i) => later([-3_000, -1_000, 5_000][i] as number) });
      await store.claimAnnounced('worker-a', [rows[1] as Delivery]);
      const depth = await store.queueDepth();
      expect(depth.PENDING - before.PENDING).toBe(2);
      expect(depth.SENDING - before.SENDING).toBe(1);
      expect(await store.oldestDueAt(now)).toEqual(later(-3_000));
    });
  });

  describe('claiming', () => {
    it('claims due deliveries oldest first and leaves those not yet due', async () => {
      const { signingSecret, rows } = await seed(4, { dueAt: (i) => later([-3_000, -1_000, -2_000, 5_000][i] as number) });
      const { claimed, takenOver, filled } = await store.claimDue('worker-a', 10);
      expect(claimed.map((c) => c.delivery.id)).toEqual([rows[0].id, rows[2].id, rows[1].id]);
      expect(takenOver).toEqual([]);
      expect(filled).toBe(false);
      const [first] = claimed as [ClaimedDelivery];
      expect(first.delivery).toMatchObject({ status: 'SENDING', leaseOwner: 'worker-a', dueAt: later(LEASE_MS), updatedAt: now });
      expect(first.claimedFrom).toEqual({ status: 'PENDING', dueAt: later(-3_000) });
      expect(first.signingSecret).toBe(signingSecret);
      expect(await row(rows[0].id)).toMatchObject({ status: 'SENDING', leaseOwner: 'worker-a', dueAt: later(LEASE_MS) });
      expect((await row(rows[3].id)).status).toBe('PENDING');
      expect(await store.nextDueAt()).toEqual(later(5_000));
    });

    it('says when the scan filled its limit', async () => {
      await seed(3);
      const { claimed, filled } = await store.claimDue('worker-a', 2);
      expect(claimed).toHaveLength(2);
      expect(filled).toBe(true);
    });

    it('leaves the deliveries of skipped callbacks alone', async () => {
      const paused = await seed(2);
      const open = await seed(1);
      const { claimed } = await store.claimDue('worker-a', 10, { skipCallbackIds: new Set([paused.callbackId]) });
      expect(claimed.map((c) => c.delivery.id)).toEqual([open.rows[0].id]);
      expect(await store.claimAnnounced('worker-a', paused.rows, { skipCallbackIds: new Set([paused.callbackId]) })).toEqual([]);
      expect((await row(paused.rows[0].id)).status).toBe('PENDING');
    });

    it('stretches the lease past a timeout longer than DISPATCH_LEASE_MS', async () => {
      const short = makeStore({ leaseMs: 1_000 });
      const { rows } = await seed(2, { timeoutMs: 30_000 }, short);
      const [scanned] = (await short.claimDue('w', 1)).claimed;
      expect(scanned?.delivery.dueAt).toEqual(later(30_000 + LEASE_SAFETY_MARGIN_MS));
      const [announced] = await short.claimAnnounced('w', [rows[1] as Delivery]);
      expect(announced?.delivery.dueAt).toEqual(later(30_000 + LEASE_SAFETY_MARGIN_MS));
    });

    it('never gives one delivery to two concurrent claimers', async () => {
      const { rows } = await seed(60);
      const owners = ['a', 'b', 'c', 'd', 'e'];
      const settled = await Promise.allSettled(owners.map((owner) => store.claimDue(`worker-${owner}`, 20)));
      const claims = settled.map((s) => (s.status === 'fulfilled' ? s.value.claimed : []));
      const ids = claims.flat().map((x) => x.delivery.id);
      expect(ids).toHaveLength(new Set(ids).size);
      for (const [i, claimed] of claims.entries()) {
        for (const x of claimed) expect((await row(x.delivery.id)).leaseOwner).toBe(`worker-${owners[i]}`);
      }
      // Without SKIP LOCKED (the portable store on MySQL) a claimer that meets another's rows
      // rolls back and claims nothing; every other store hands out every row.
      if (!(spec.adapter === 'typeorm' && spec.database === 'mysql')) {
        expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
        expect(new Set(ids)).toEqual(new Set(rows.map((r) => r.id)));
      }
    });

    it('hands out each claimed delivery exactly as it is stored', async () => {
      const { rows } = await seed(3);
      await h.patch(store, rows[0].id, { headers: [{ name: 'X-Key', value: 'v' }], body: '{"a":1}', method: 'POST' as never });
      const { claimed } = await store.claimDue('worker-a', 10);
      expect(claimed).toHaveLength(3);
      for (const claim of claimed) expect(claim.delivery).toEqual(await row(claim.delivery.id));
    });

    it('clears the due time of a final delivery it meets, and claims the rest', async () => {
      const { rows } = await seed(2);
      await h.patch(store, rows[0].id, { status: DeliveryStatus.DELIVERED });
      const { claimed } = await store.claimDue('worker-a', 10);
      expect(claimed.map((c) => c.delivery.id)).toEqual([rows[1].id]);
      expect(await row(rows[0].id)).toMatchObject({ status: 'DELIVERED', dueAt: null });
    });
  });

  describe('claiming announced copies', () => {
    it('claims them from the copies: SENDING, this lease, the signing secret', async () => {
      const { signingSecret, url, rows } = await seed(3);
      now = later(10);
      const claims = await store.claimAnnounced('worker-a', rows);
      expect(claims.map((c) => c.delivery.id)).toEqual(rows.map((r) => r.id));
      for (const claim of claims) {
        expect(claim.delivery).toMatchObject({ status: 'SENDING', leaseOwner: 'worker-a', dueAt: later(LEASE_MS), updatedAt: now, url, attempts: 0 });
        expect(claim.claimedFrom).toEqual({ status: 'PENDING', dueAt: later(-10) });
        expect(claim.signingSecret).toBe(signingSecret);
        expect(await row(claim.delivery.id)).toMatchObject({ status: 'SENDING', leaseOwner: 'worker-a', dueAt: later(LEASE_MS), updatedAt: now });
      }
    });

    it('skips rows that changed since they were announced, and claims the rest', async () => {
      const { rows } = await seed(3);
      await h.patch(store, rows[1].id, { status: DeliveryStatus.SENDING, leaseOwner: 'worker-b', updatedAt: later(1) });
      const claims = await store.claimAnnounced('worker-a', rows);
      expect(claims.map((c) => c.delivery.id)).toEqual([rows[0].id, rows[2].id]);
      expect((await row(rows[1].id)).leaseOwner).toBe('worker-b');
    });

    it('does not claim a copy that is not due yet or not PENDING', async () => {
      const { rows } = await seed(2);
      const notDue = Object.assign(new Delivery(), rows[0], { dueAt: later(5_000) });
      const retrying = Object.assign(new Delivery(), rows[1], { status: DeliveryStatus.RETRYING });
      expect(await store.claimAnnounced('worker-a', [notDue, retrying])).toEqual([]);
      expect((await row(rows[0].id)).status).toBe('PENDING');
    });

    it('never gives one delivery to two workers claiming the same announcement', async () => {
      const { rows } = await seed(40);
      const [a, b] = await Promise.all([store.claimAnnounced('worker-a', rows), store.claimAnnounced('worker-b', rows)]);
      const ids = [...a, ...b].map((c) => c.delivery.id);
      expect(ids).toHaveLength(40);
      expect(new Set(ids).size).toBe(40);
    });

    it('claims deliveries announced with different update times', async () => {
      const first = await seed(1);
      now = later(7);
      const second = await seed(1);
      expect(await store.claimAnnounced('worker-a', [...first.rows, ...second.rows])).toHaveLength(2);
    });
  });

  describe('inserting already claimed', () => {
    /** New rows like the seeded ones (same event and callback), not stored yet, due at `now` unless given. */
    const unstored = (like: Delivery, count: number, dueAt: (i: number) => Date = () => now) =>
      Array.from({ length: count }, (_, i) => Object.assign(new Delivery(), like, { id: newId(), dueAt: dueAt(i), nextAttemptAt: dueAt(i), createdAt: now, updatedAt: now }));
    const keys = { signingSecret: 'whsec_from-the-caller', previousSigningSecret: null };

    it('inserts the listed due deliveries SENDING under a lease, the rest PENDING, and hands back their claims', async () => {
      const { rows } = await seed(1);
      const [a, notDue, unlisted] = unstored(rows[0] as Delivery, 3, (i) => (i === 1 ? later(5_000) : now)) as [Delivery, Delivery, Delivery];
      now = later(10);
      const claims = await store.queue([a, notDue, unlisted], [], { leaseOwner: 'worker-a', keys: new Map([[a.id, keys], [notDue.id, keys]]) });
      expect(claims).toHaveLength(1);
      const [claim] = claims as [ClaimedDelivery];
      expect(claim.delivery).toMatchObject({ id: a.id, status: 'SENDING', leaseOwner: 'worker-a', dueAt: later(LEASE_MS), updatedAt: now, attempts: 0, createdAt: later(-10) });
      expect(claim.claimedFrom).toEqual({ status: 'PENDING', dueAt: later(-10) });
      expect(claim).toMatchObject(keys);
      expect(await row(a.id)).toMatchObject({ status: 'SENDING', leaseOwner: 'worker-a', dueAt: later(LEASE_MS), updatedAt: now });
      expect(await row(notDue.id)).toMatchObject({ status: 'PENDING', leaseOwner: null, dueAt: later(4_990) });
      expect(await row(unlisted.id)).toMatchObject({ status: 'PENDING', leaseOwner: null });
      // Other workers pass over it while its lease lasts; the announced claim of its PENDING copy takes nothing.
      const due = await store.claimDue('worker-b', 10);
      expect(due.claimed.map((c) => c.delivery.id).sort()).toEqual([rows[0]?.id, unlisted.id].sort());
      expect(due.takenOver).toEqual([]);
      expect(await store.claimAnnounced('worker-b', [a])).toEqual([]);
    });

    it('stretches its lease past a long timeout, like a claim', async () => {
      const { rows } = await seed(1, { timeoutMs: LEASE_MS });
      const [a] = unstored(rows[0] as Delivery, 1) as [Delivery];
      const [claim] = (await store.queue([a], [], { leaseOwner: 'worker-a', keys: new Map([[a.id, keys]]) })) as [ClaimedDelivery];
      expect(claim.delivery.dueAt).toEqual(later(LEASE_MS + LEASE_SAFETY_MARGIN_MS));
    });

    it('is recorded by its holder, released back to PENDING, or taken over once its lease ends, as a claimed one', async () => {
      const { rows } = await seed(1);
      const [sent, unstarted, lost] = unstored(rows[0] as Delivery, 3) as [Delivery, Delivery, Delivery];
      const claims = await store.queue([sent, unstarted, lost], [], { leaseOwner: 'worker-a', keys: new Map([sent, unstarted, lost].map((d) => [d.id, keys])) });
      expect(claims.map((c) => c.delivery.id)).toEqual([sent.id, unstarted.id, lost.id]);
      const [sentClaim, unstartedClaim] = claims as [ClaimedDelivery, ClaimedDelivery];
      expect(await store.recordAttempts([{ claim: sentClaim, attempt: attempt(1, 200), next: { status: 'DELIVERED' } }])).toHaveLength(1);
      expect(await row(sent.id)).toMatchObject({ status: 'DELIVERED', attempts: 1, leaseOwner: null, dueAt: null });
      expect((await store.release([unstartedClaim])).map((d) => [d.id, d.status])).toEqual([[unstarted.id, 'PENDING']]);
      expect(await row(unstarted.id)).toMatchObject({ status: 'PENDING', leaseOwner: null, dueAt: now });
      expect((await store.claimDue('worker-b', 10)).takenOver).toEqual([]);
      now = later(LEASE_MS);
      const { takenOver } = await store.claimDue('worker-b', 10);
      expect(takenOver.find((d) => d.id === lost.id)).toMatchObject({ status: 'RETRYING', attempts: 1 });
    });

    it('writes nothing when the insert fails', async () => {
      const { rows } = await seed(1);
      const [a] = unstored(rows[0] as Delivery, 1) as [Delivery];
      await expect(store.queue([a, rows[0] as Delivery], [], { leaseOwner: 'worker-a', keys: new Map([[a.id, keys]]) })).rejects.toThrow();
      expect(await store.findById(a.id)).toBeNull();
    });
  });

  describe('recording attempts', () => {
    it('records an attempt with its summary, only for the lease holder', async () => {
      const [claim] = (await claimAll(1)) as [ClaimedDelivery];
      const id = claim.delivery.id;
      const intruder = { ...claim, delivery: Object.assign(new Delivery(), claim.delivery, { leaseOwner: 'worker-b' }) };
      expect(await store.recordAttempt({ claim: intruder, attempt: attempt(1, 503), next: { status: 'FAILED' } })).toBeNull();
      expect(await attempts(id)).toEqual([]);

      const recorded = await store.recordAttempt({ claim, attempt: { ...attempt(1, 503), latencyMs: 42, responseSnippet: 'busy' }, next: { status: 'RETRYING', nextAttemptAt: later(5_000) } });
      expect(recorded?.delivery).toMatchObject({ status: 'RETRYING', attempts: 1, lastStatusCode: 503, nextAttemptAt: later(5_000), dueAt: later(5_000), leaseOwner: null });
      expect(await row(id)).toMatchObject({ status: 'RETRYING', attempts: 1, lastStatusCode: 503, dueAt: later(5_000), leaseOwner: null });
      expect((await attempts(id)).map((a) => [a.number, a.statusCode, a.latencyMs, a.responseSnippet])).toEqual([[1, 503, 42, 'busy']]);
      // Recording the same claim twice cannot happen: the lease is gone.
      expect(await store.recordAttempt({ claim, attempt: attempt(1, 200), next: { status: 'DELIVERED' } })).toBeNull();
    });

    it('records delivered, retried and failed attempts together, each as one by one would', async () => {
      const claims = await claimAll(3);
      const retryAt = later(5_000);
      const items: AttemptToRecord[] = [
        { claim: claims[0] as ClaimedDelivery, attempt: attempt(1, 200), next: { status: 'DELIVERED' } },
        { claim: claims[1] as ClaimedDelivery, attempt: attempt(1, 503, 'HTTP 503'), next: { status: 'RETRYING', nextAttemptAt: retryAt } },
        { claim: claims[2] as ClaimedDelivery, attempt: attempt(1, 404, 'HTTP 404'), next: { status: 'FAILED' } },
      ];
      const recorded = await store.recordAttempts(items);
      expect(recorded.map((r) => r?.delivery.status)).toEqual(['DELIVERED', 'RETRYING', 'FAILED']);
      const [delivered, retrying, failed] = await Promise.all(claims.map((c) => row(c.delivery.id)));
      expect(delivered).toMatchObject({ status: 'DELIVERED', attempts: 1, lastStatusCode: 200, lastError: null, dueAt: null, nextAttemptAt: null, leaseOwner: null, deliveredAt: now, updatedAt: now });
      expect(retrying).toMatchObject({ status: 'RETRYING', attempts: 1, lastStatusCode: 503, lastError: 'HTTP 503', dueAt: retryAt, nextAttemptAt: retryAt, leaseOwner: null, deliveredAt: null });
      expect(failed).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: 404, lastError: 'HTTP 404', dueAt: null, leaseOwner: null, deliveredAt: null });
      for (const [i, c] of claims.entries()) {
        const rows = await attempts(c.delivery.id);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ number: 1, statusCode: items[i]?.attempt.statusCode, latencyMs: 12, error: items[i]?.attempt.error });
        expect(rows[0]?.id).toBe(recorded[i]?.attempt.id);
      }
    });

    it('when a lease was lost meanwhile, records the others and drops only that one', async () => {
      const claims = await claimAll(3);
      const lost = (claims[1] as ClaimedDelivery).delivery.id;
      await h.patch(store, lost, { leaseOwner: 'worker-b' });
      const recorded = await store.recordAttempts(claims.map((c) => ({ claim: c, attempt: attempt(1, 200), next: { status: 'DELIVERED' } })));
      expect(recorded.map((r) => r?.delivery.status ?? null)).toEqual(['DELIVERED', null, 'DELIVERED']);
      expect((await row(lost)).status).toBe('SENDING');
      expect(await attempts(lost)).toEqual([]);
      expect(await attempts((claims[0] as ClaimedDelivery).delivery.id)).toHaveLength(1);
    });

    it('does not record an attempt whose number was already recorded', async () => {
      const claims = await claimAll(2);
      const first = claims.map((c) => ({ claim: c, attempt: attempt(1, 200), next: { status: 'DELIVERED' } as const }));
      await store.recordAttempts(first);
      expect(await store.recordAttempts(first)).toEqual([null, null]);
      for (const c of claims) expect(await attempts(c.delivery.id)).toHaveLength(1);
    });

    it('records a large group', async () => {
      const claims = await claimAll(300);
      const recorded = await store.recordAttempts(claims.map((c) => ({ claim: c, attempt: attempt(1, 204), next: { status: 'DELIVERED' } })));
      expect(recorded.every((r) => r?.delivery.status === 'DELIVERED')).toBe(true);
      const stored = await store.attemptsOf(claims.map((c) => c.delivery.id));
      expect([...stored.values()].flat().filter((a) => a.statusCode === 204)).toHaveLength(300);
    });

    it('hands what it recorded to the rollup, in the same call', async () => {
      const seen: RecordedAttempt[][] = [];
      const withRollup = makeStore({ rollup: { statementsFor: (recorded) => (seen.push([...recorded]), []) } });
      await seed(2, {}, withRollup);
      const { claimed } = await withRollup.claimDue('worker-a', 2);
      await withRollup.recordAttempts(claimed.map((c) => ({ claim: c, attempt: attempt(1, 200), next: { status: 'DELIVERED' } })));
      expect(seen.flat().map((r) => r.delivery.id).sort()).toEqual(claimed.map((c) => c.delivery.id).sort());
    });
  });

  describe('leases', () => {
    it('takes over a delivery whose lease ran out, counting the lost attempt, and shuts out the old holder', async () => {
      const { rows } = await seed(2, { maxAttempts: 2 });
      const claims = await store.claimAnnounced('worker-dead', rows);
      // The second one already used an attempt: its lost one would be the last, so it gets one more.
      await h.patch(store, rows[1].id, { attempts: 1 });
      (claims[1] as ClaimedDelivery).delivery.attempts = 1;

      now = later(LEASE_MS - 1);
      expect((await store.claimDue('worker-b', 10)).takenOver).toEqual([]);
      now = later(1);
      const { claimed, takenOver } = await store.claimDue('worker-b', 10);
      expect(claimed).toEqual([]);
      expect(takenOver.map((d) => [d.id, d.status, d.attempts]).sort()).toEqual([
        [rows[0].id, 'RETRYING', 1],
        [rows[1].id, 'RETRYING', 2],
      ]);
      // Retried on the normal schedule after attempt 1: BASE.
      expect(await row(rows[0].id)).toMatchObject({ status: 'RETRYING', attempts: 1, lastError: LEASE_EXPIRED_ERROR, leaseOwner: null, dueAt: later(5_000) });
      expect(await row(rows[1].id)).toMatchObject({ status: 'RETRYING', attempts: 2, maxAttempts: 3, lastError: LEASE_EXPIRED_ERROR });
      const [lostAttempt] = await attempts(rows[0].id);
      expect(lostAttempt).toMatchObject({ number: 1, statusCode: null, latencyMs: 0, error: LEASE_EXPIRED_ERROR, startedAt: (claims[0] as ClaimedDelivery).delivery.updatedAt });

      // The stalled holder comes back with its result: not recorded.
      expect(await store.recordAttempt({ claim: claims[0] as ClaimedDelivery, attempt: attempt(1, 200), next: { status: 'DELIVERED' } })).toBeNull();
      expect(await attempts(rows[0].id)).toHaveLength(1);
    });

    it('releases unstarted claims back to their due state, for any worker to take at once', async () => {
      const { rows } = await seed(2, { dueAt: (i) => later(-1_000 * (i + 1)) });
      await h.patch(store, rows[1].id, { status: DeliveryStatus.RETRYING, attempts: 1 });
      const { claimed } = await store.claimDue('worker-a', 10);
      expect(claimed).toHaveLength(2);
      const released = await store.release(claimed);
      expect(released.map((d) => [d.id, d.status])).toEqual([
        [rows[1].id, 'RETRYING'],
        [rows[0].id, 'PENDING'],
      ]);
      expect(await row(rows[0].id)).toMatchObject({ status: 'PENDING', dueAt: later(-1_000), leaseOwner: null });
      expect(await row(rows[1].id)).toMatchObject({ status: 'RETRYING', dueAt: later(-2_000), leaseOwner: null });
      expect((await store.claimDue('worker-b', 10)).claimed).toHaveLength(2);
      // A claim that is no longer held is not released.
      expect(await store.release(claimed)).toEqual([]);
    });
  });

  describe('redeliver', () => {
    it('redelivers only finished deliveries, keeping the count and allowing maxAttempts more', async () => {
      const { rows } = await seed(1, { maxAttempts: 3 });
      await expect(store.redeliver(rows[0].id)).rejects.toMatchObject({ code: 'CONFLICT' });
      await h.patch(store, rows[0].id, { status: DeliveryStatus.FAILED, attempts: 3, dueAt: null, nextAttemptAt: null });
      const again = await store.redeliver(rows[0].id);
      expect(again).toMatchObject({ status: 'PENDING', attempts: 3, maxAttempts: 6, dueAt: now, leaseOwner: null });
      expect(await row(rows[0].id)).toMatchObject({ status: 'PENDING', attempts: 3, maxAttempts: 6, dueAt: now });
      await expect(store.redeliver('01890000-0000-7000-8000-000000000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(store.redeliver('nonsense')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('redelivers a window in batches: only the named final statuses, each once, and counts what is in progress', async () => {
      const { callbackId, rows } = await seed(8, { maxAttempts: 3 });
      for (const r of rows.slice(0, 5)) await h.patch(store, r.id, { status: DeliveryStatus.FAILED, attempts: 3, dueAt: null, nextAttemptAt: null });
      await h.patch(store, rows[5]!.id, { status: DeliveryStatus.DELIVERED, attempts: 1, dueAt: null, nextAttemptAt: null });
      const window = { callbackId, statuses: [DeliveryStatus.FAILED], from: later(-60_000), to: later(60_000) };
      expect(await store.countInProgress(window)).toBe(2);
      const seen: string[] = [];
      let after = null;
      let batches = 0;
      do {
        const batch: Awaited<ReturnType<DeliveryStore['redeliverBatch']>> = await store.redeliverBatch(window, after, 2);
        seen.push(...batch.redelivered.map((d) => d.id));
        after = batch.next;
        batches++;
      } while (after !== null && batches < 10);
      expect(seen.sort()).toEqual(rows.slice(0, 5).map((r) => r.id).sort());
      expect(batches).toBe(3);
      for (const r of rows.slice(0, 5)) expect(await row(r.id)).toMatchObject({ status: 'PENDING', attempts: 3, maxAttempts: 6, dueAt: now });
      expect((await row(rows[5]!.id)).status).toBe('DELIVERED');
      // Nothing left to redeliver in the window: FAILED ones are PENDING now.
      expect((await store.redeliverBatch(window, null, 10)).redelivered).toHaveLength(0);
      expect(await store.countInProgress(window)).toBe(7);
    });

    it('gives each delivery of a batch the due time asked for it, in window order (a paced replay)', async () => {
      const { callbackId, rows } = await seed(4, { maxAttempts: 3 });
      for (const r of rows) await h.patch(store, r.id, { status: DeliveryStatus.FAILED, attempts: 3, dueAt: null, nextAttemptAt: null });
      const window = { callbackId, statuses: [DeliveryStatus.FAILED], from: later(-60_000), to: later(60_000) };
      const ordered = [...rows].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
      const batch = await store.redeliverBatch(window, null, 10, (i) => later(Math.floor(i / 2) * 100));
      expect(batch.redelivered).toHaveLength(4);
      for (const [i, r] of ordered.entries()) {
        const due = later(Math.floor(i / 2) * 100);
        expect(await row(r.id)).toMatchObject({ status: 'PENDING', maxAttempts: 6, dueAt: due, nextAttemptAt: due });
        expect(batch.redelivered.find((d) => d.id === r.id)).toMatchObject({ dueAt: due, nextAttemptAt: due });
      }
      // Not due yet: a scan at now takes only the first step.
      expect((await store.claimDue('worker-a', 10)).claimed.map((c) => c.delivery.id).sort()).toEqual(ordered.slice(0, 2).map((r) => r.id).sort());
    });
  });

  if (spec.database !== null) {
    it('keeps room for the lease owner in a delivery stored waiting, which its claim takes (leaseRoom)', async () => {
      const ds = h.dataSource as DataSource;
      const leaseRoomOf = async (id: string) =>
        ((await ds.query('SELECT `leaseRoom` AS room FROM `delivery` WHERE `id` = ?', [id])) as { room: string | null }[])[0]?.room;
      // As long as the longest lease owner, so the claim that writes one never grows the record.
      expect(LEASE_ROOM).toHaveLength(Number(ds.getMetadata(Delivery).findColumnWithPropertyName('leaseOwner')?.length));
      const { rows } = await seed(1);
      const like = (fields: Partial<Delivery> = {}) => Object.assign(new Delivery(), rows[0], { id: newId(), createdAt: now, updatedAt: now, ...fields });
      const [scanned, announced] = [like(), like()];
      await store.queue([scanned, announced]);
      await h.patch(store, rows[0]!.id, { status: DeliveryStatus.FAILED, dueAt: null });
      expect(await leaseRoomOf(scanned.id)).toBe(LEASE_ROOM);
      // Never read back: the entities the service sees have no such field.
      expect((await row(scanned.id)).leaseRoom).toBeUndefined();
      const [byAnnouncement] = (await store.claimAnnounced('worker-a', [announced])) as [ClaimedDelivery];
      expect(byAnnouncement.delivery.id).toBe(announced.id);
      const { claimed } = await store.claimDue('worker-a', 10);
      expect(claimed.map((c) => c.delivery.id)).toEqual([scanned.id]);
      expect(await leaseRoomOf(scanned.id)).toBeNull();
      expect(await leaseRoomOf(announced.id)).toBeNull();
      // Inserted claimed: no room to keep. Released unstarted, it waits again: room again.
      const fresh = like();
      const [onInsert] = (await store.queue([fresh], [], { leaseOwner: 'worker-a', keys: new Map([[fresh.id, { signingSecret: null, previousSigningSecret: null }]]) })) as [ClaimedDelivery];
      expect(onInsert.delivery.id).toBe(fresh.id);
      expect(await leaseRoomOf(fresh.id)).toBeNull();
      await store.release([onInsert]);
      expect(await leaseRoomOf(fresh.id)).toBe(LEASE_ROOM);
      // Results, grouped: one that waits again (RETRYING) gets room, a final one none.
      const recorded = await store.recordAttempts([
        { claim: claimed[0] as ClaimedDelivery, attempt: attempt(1, 503), next: { status: 'RETRYING', nextAttemptAt: later(5_000) } },
        { claim: byAnnouncement, attempt: attempt(1, 200), next: { status: 'DELIVERED' } },
      ]);
      expect(recorded.map((r) => r?.delivery.status)).toEqual(['RETRYING', 'DELIVERED']);
      expect(recorded[0]?.delivery.leaseRoom).toBeUndefined();
      expect(await leaseRoomOf(scanned.id)).toBe(LEASE_ROOM);
      expect(await leaseRoomOf(announced.id)).toBeNull();
      // Redelivered: waiting again, with room.
      await store.redeliver(announced.id);
      expect(await leaseRoomOf(announced.id)).toBe(LEASE_ROOM);
    });

    it('scans due deliveries through the dueAt index', async () => {
      const ds = h.dataSource as DataSource;
      const [sql, params] = (store as TypeOrmDeliveryStore).dueScan(ds.manager, now, 64, {}).getQueryAndParameters();
      if (isMysql(ds)) {
        if (spec.adapter !== 'mysql') return; // the portable store is not MySQL's claimer
        expect(sql).toMatch(/FOR UPDATE SKIP LOCKED/);
        // InnoDB recomputes table statistics in the background after many changes; the suite
        // above changes this small table fast enough that EXPLAIN may plan on stale figures
        // and scan it. Plan on current ones, as a long-running table has.
        await ds.query('ANALYZE TABLE `delivery`');
        const plan: { key: string | null; Extra: string | null }[] = await ds.query(`EXPLAIN ${sql}`, params);
        expect(plan).toEqual([expect.objectContaining({ key: DUE_INDEX })]);
        expect(plan[0]?.Extra ?? '').not.toMatch(/filesort/i);
      } else {
        const plan: { detail: string }[] = await ds.query(`EXPLAIN QUERY PLAN ${sql}`, params);
        expect(plan.map((p) => p.detail)).toEqual([expect.stringContaining(`USING INDEX ${DUE_INDEX}`)]);
      }
    });
  }
});
