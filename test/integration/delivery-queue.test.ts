// The delivery state machine's SQL on a real database, with a clock the test moves: claims,
// leases and their takeover, guarded recording, release, and the index the scan uses.
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { DeliveryStatus } from '../../src/common/enums';
import { Delivery } from '../../src/deliveries/delivery.entity';
import { DeliveryAttempt } from '../../src/deliveries/delivery-attempt.entity';
import { DeliveryHub } from '../../src/deliveries/delivery-hub';
import { DeliveryQueue } from '../../src/dispatch/delivery-queue';
import { LEASE_EXPIRED_ERROR } from '../../src/dispatch/delivery-transitions';
import { LEASE_SAFETY_MARGIN_MS } from '../../src/dispatch/lease';
import { isMysql } from '../../src/db/data-source';
import { testDatabases } from '../support/databases';
import { seedApp, seedCallback, seedDeliveries, seedEvent } from '../support/seed';
import { startTestService, TestService } from '../support/test-service';

const LEASE_MS = 60_000;
const RETRY = { backoffBaseMs: 5_000, backoffMaxMs: 60_000 };
const MID = () => 0.5; // no jitter

describe.each(testDatabases())('the delivery queue on %s', (kind) => {
  let t: TestService;
  let ds: DataSource;
  let now: Date;
  let hub: DeliveryHub;
  let queue: DeliveryQueue;
  let announced: Delivery[];

  beforeAll(async () => {
    t = await startTestService(kind, { DISPATCHER: 'off' });
    ds = t.service.services.dataSource;
  });
  beforeEach(async () => {
    // Each test starts with no live delivery, so scans see only its own.
    await ds.createQueryBuilder().update(Delivery).set({ dueAt: null, status: DeliveryStatus.FAILED }).where('dueAt IS NOT NULL').execute();
    now = new Date(Date.now() - 3_600_000); // an hour behind real time, so nothing of ours is due by accident
    hub = new DeliveryHub();
    announced = [];
    hub.onStatusChanged((deliveries) => announced.push(...deliveries));
    queue = new DeliveryQueue(ds, { now: () => now }, hub, pino({ level: 'silent' }), { leaseMs: LEASE_MS, retry: RETRY, random: MID });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const later = (ms: number) => new Date(now.getTime() + ms);
  const seed = async (count: number, options: { timeoutMs?: number; maxAttempts?: number; dueAt?: (i: number) => Date } = {}) => {
    const app = await seedApp(ds);
    const callback = await seedCallback(ds, { appId: app.id, timeoutMs: options.timeoutMs, maxAttempts: options.maxAttempts, signing: true });
    const event = await seedEvent(ds, app.id);
    const rows = await seedDeliveries(ds, { event, callback, count, now });
    if (options.dueAt) {
      for (const [i, row] of rows.entries()) await ds.getRepository(Delivery).update({ id: row.id }, { dueAt: options.dueAt(i), nextAttemptAt: options.dueAt(i) });
    }
    return { callback, rows };
  };
  const row = (id: string) => ds.getRepository(Delivery).findOneByOrFail({ id });
  const attempts = (deliveryId: string) => ds.getRepository(DeliveryAttempt).find({ where: { deliveryId }, order: { number: 'ASC' } });

  it('claims due deliveries oldest first, leaves those not yet due, and announces them SENDING', async () => {
    const { callback, rows } = await seed(4, { dueAt: (i) => later([-3_000, -1_000, -2_000, 5_000][i]) });
    const { claimed, takenOver, filled } = await queue.claimDue('worker-a', 10);
    expect(claimed.map((c) => c.delivery.id)).toEqual([rows[0].id, rows[2].id, rows[1].id]);
    expect(takenOver).toEqual([]);
    expect(filled).toBe(false);
    const [first] = claimed;
    expect(first.delivery).toMatchObject({ status: 'SENDING', leaseOwner: 'worker-a', dueAt: later(LEASE_MS), updatedAt: now });
    expect(first.claimedFrom).toEqual({ status: 'PENDING', dueAt: later(-3_000) });
    expect(first.signingSecret).toBe(callback.signingSecret);
    expect(await row(rows[0].id)).toMatchObject({ status: 'SENDING', leaseOwner: 'worker-a', dueAt: later(LEASE_MS) });
    expect((await row(rows[3].id)).status).toBe('PENDING');
    expect(announced.map((d) => [d.id, d.status])).toEqual(claimed.map((c) => [c.delivery.id, 'SENDING']));
    expect(await queue.nextDueAt()).toEqual(later(5_000));
  });

  it('stretches the lease past a timeout longer than DISPATCH_LEASE_MS', async () => {
    const short = new DeliveryQueue(ds, { now: () => now }, hub, pino({ level: 'silent' }), { leaseMs: 1_000, retry: RETRY });
    await seed(1, { timeoutMs: 30_000 });
    const [claim] = (await short.claimDue('w', 5)).claimed;
    expect(claim.delivery.dueAt).toEqual(later(30_000 + LEASE_SAFETY_MARGIN_MS));
  });

  it('never gives one delivery to two concurrent claimers', async () => {
    const { rows } = await seed(60);
    const claims = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((owner) => queue.claimDue(`worker-${owner}`, 20)));
    const ids = claims.flatMap((c) => c.claimed.map((x) => x.delivery.id));
    expect(ids).toHaveLength(new Set(ids).size);
    expect(new Set(ids)).toEqual(new Set(rows.map((r) => r.id)));
    // Each row is held by the claimer that returned it.
    for (const [i, c] of claims.entries()) {
      for (const x of c.claimed) expect((await row(x.delivery.id)).leaseOwner).toBe(`worker-${'abcde'[i]}`);
    }
  });

  it('claims announced ids only while they are waiting and due', async () => {
    const { rows } = await seed(3, { dueAt: (i) => later(i === 2 ? 10_000 : 0) });
    const first = await queue.claimQueued('worker-a', rows.map((r) => r.id));
    expect(first.map((c) => c.delivery.id)).toEqual([rows[0].id, rows[1].id]);
    expect(await queue.claimQueued('worker-b', rows.map((r) => r.id))).toEqual([]);
  });

  it('records an attempt with its summary in one step, only for the lease holder', async () => {
    const { rows } = await seed(1);
    const [claim] = await queue.claimQueued('worker-a', [rows[0].id]);
    const attempt = { number: 1, startedAt: now, statusCode: 503, latencyMs: 42, error: null, responseSnippet: 'busy' };
    const intruder = { ...claim, delivery: Object.assign(new Delivery(), claim.delivery, { leaseOwner: 'worker-b' }) };
    expect(await queue.recordAttempt(intruder, attempt, { status: 'FAILED' })).toBeNull();
    expect(await attempts(rows[0].id)).toEqual([]);

    const recorded = await queue.recordAttempt(claim, attempt, { status: 'RETRYING', nextAttemptAt: later(5_000) });
    expect(recorded?.delivery).toMatchObject({ status: 'RETRYING', attempts: 1, lastStatusCode: 503, nextAttemptAt: later(5_000), dueAt: later(5_000), leaseOwner: null });
    expect(await row(rows[0].id)).toMatchObject({ status: 'RETRYING', attempts: 1, lastStatusCode: 503, dueAt: later(5_000), leaseOwner: null });
    expect((await attempts(rows[0].id)).map((a) => [a.number, a.statusCode, a.latencyMs, a.responseSnippet])).toEqual([[1, 503, 42, 'busy']]);
    // Recording the same claim twice cannot happen: the lease is gone.
    expect(await queue.recordAttempt(claim, attempt, { status: 'DELIVERED' })).toBeNull();
    expect(announced.map((d) => d.status)).toEqual(['SENDING', 'RETRYING']);
  });

  it('takes over a delivery whose lease ran out, counting the lost attempt, and shuts out the old holder', async () => {
    const { rows } = await seed(2, { maxAttempts: 2 });
    const claims = await queue.claimQueued('worker-dead', rows.map((r) => r.id));
    // The second one already used an attempt: its lost one would be the last, so it gets one more.
    await ds.getRepository(Delivery).update({ id: rows[1].id }, { attempts: 1 });
    claims[1].delivery.attempts = 1;

    now = later(LEASE_MS - 1);
    expect((await queue.claimDue('worker-b', 10)).takenOver).toEqual([]);
    now = later(1);
    const { claimed, takenOver } = await queue.claimDue('worker-b', 10);
    expect(claimed).toEqual([]);
    // Both leases end at the same time: their order is the database's choice.
    expect(takenOver.map((d) => [d.id, d.status, d.attempts]).sort()).toEqual([
      [rows[0].id, 'RETRYING', 1],
      [rows[1].id, 'RETRYING', 2],
    ]);
    // Retried on the normal schedule after attempt 1: BASE.
    expect(await row(rows[0].id)).toMatchObject({ status: 'RETRYING', attempts: 1, lastError: LEASE_EXPIRED_ERROR, leaseOwner: null, dueAt: later(5_000) });
    expect(await row(rows[1].id)).toMatchObject({ status: 'RETRYING', attempts: 2, maxAttempts: 3, lastError: LEASE_EXPIRED_ERROR });
    const [lost] = await attempts(rows[0].id);
    expect(lost).toMatchObject({ number: 1, statusCode: null, latencyMs: 0, error: LEASE_EXPIRED_ERROR, startedAt: claims[0].delivery.updatedAt });

    // The stalled holder comes back with its result: not recorded.
    const late = await queue.recordAttempt(claims[0], { number: 1, startedAt: now, statusCode: 200, latencyMs: 5, error: null, responseSnippet: '' }, { status: 'DELIVERED' });
    expect(late).toBeNull();
    expect(await attempts(rows[0].id)).toHaveLength(1);
  });

  it('releases unstarted claims back to their due state', async () => {
    const { rows } = await seed(2, { dueAt: (i) => later(-1_000 * (i + 1)) });
    await ds.getRepository(Delivery).update({ id: rows[1].id }, { status: DeliveryStatus.RETRYING, attempts: 1 });
    const { claimed } = await queue.claimDue('worker-a', 10);
    expect(claimed).toHaveLength(2);
    announced.length = 0;
    const released = await queue.release(claimed);
    expect(released.map((d) => [d.id, d.status])).toEqual([
      [rows[1].id, 'RETRYING'],
      [rows[0].id, 'PENDING'],
    ]);
    expect(await row(rows[0].id)).toMatchObject({ status: 'PENDING', dueAt: later(-1_000), leaseOwner: null });
    expect(await row(rows[1].id)).toMatchObject({ status: 'RETRYING', dueAt: later(-2_000), leaseOwner: null });
    expect(announced.map((d) => d.status)).toEqual(['RETRYING', 'PENDING']);
    // Any worker takes them at once.
    expect((await queue.claimDue('worker-b', 10)).claimed).toHaveLength(2);
  });

  it('redelivers only finished deliveries', async () => {
    const { rows } = await seed(1, { maxAttempts: 3 });
    await expect(queue.redeliver(rows[0].id)).rejects.toMatchObject({ code: 'CONFLICT' });
    await ds.getRepository(Delivery).update({ id: rows[0].id }, { status: DeliveryStatus.FAILED, attempts: 3, dueAt: null, nextAttemptAt: null });
    const queued: Delivery[] = [];
    hub.onQueued((d) => queued.push(...d));
    const again = await queue.redeliver(rows[0].id);
    expect(again).toMatchObject({ status: 'PENDING', attempts: 3, maxAttempts: 6, dueAt: now, leaseOwner: null });
    expect(await row(rows[0].id)).toMatchObject({ status: 'PENDING', attempts: 3, maxAttempts: 6, dueAt: now });
    expect(queued.map((d) => d.id)).toEqual([rows[0].id]);
    expect(announced.map((d) => d.status)).toEqual(['PENDING']);
    await expect(queue.redeliver('01890000-0000-7000-8000-000000000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('scans due deliveries through the dueAt index', async () => {
    const [sql, params] = queue.dueScan(ds.manager, now, 64).getQueryAndParameters();
    if (isMysql(ds)) {
      const plan: { key: string | null; Extra: string | null }[] = await ds.query(`EXPLAIN ${sql}`, params);
      expect(plan).toEqual([expect.objectContaining({ key: 'IDX_delivery_due_at' })]);
      expect(plan[0].Extra ?? '').not.toMatch(/filesort/i);
    } else {
      const plan: { detail: string }[] = await ds.query(`EXPLAIN QUERY PLAN ${sql}`, params);
      expect(plan.map((p) => p.detail)).toEqual([expect.stringContaining('USING INDEX IDX_delivery_due_at')]);
    }
  });
});
