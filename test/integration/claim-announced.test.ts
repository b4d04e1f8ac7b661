// Claiming just-announced deliveries from their announced copies (DeliveryQueue.claimAnnounced):
// one guarded UPDATE, only rows still exactly as announced.
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { DeliveryStatus } from '../../src/common/enums';
import { Delivery } from '../../src/deliveries/delivery.entity';
import { DeliveryHub } from '../../src/deliveries/delivery-hub';
import { DeliveryQueue } from '../../src/dispatch/delivery-queue';
import { LEASE_SAFETY_MARGIN_MS } from '../../src/dispatch/lease';
import { testDatabases } from '../support/databases';
import { seedApp, seedCallback, seedDeliveries, seedEvent } from '../support/seed';
import { startTestService, TestService } from '../support/test-service';

const LEASE_MS = 60_000;

describe.each(testDatabases())('claiming announced deliveries on %s', (kind) => {
  let t: TestService;
  let ds: DataSource;
  let now: Date;
  let announced: Delivery[];
  let queue: DeliveryQueue;

  beforeAll(async () => {
    t = await startTestService(kind, { DISPATCHER: 'off' });
    ds = t.service.services.dataSource;
  });
  beforeEach(() => {
    now = new Date(Date.now() - 3_600_000);
    announced = [];
    const hub = new DeliveryHub();
    hub.onStatusChanged((deliveries) => announced.push(...deliveries));
    queue = new DeliveryQueue(ds, { now: () => now }, hub, pino({ level: 'silent' }), { leaseMs: LEASE_MS, retry: { backoffBaseMs: 5_000, backoffMaxMs: 60_000 } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const seed = async (count: number, options: { timeoutMs?: number; signing?: boolean } = {}) => {
    const app = await seedApp(ds);
    const callback = await seedCallback(ds, { appId: app.id, signing: options.signing ?? true, timeoutMs: options.timeoutMs });
    const event = await seedEvent(ds, app.id);
    const rows = await seedDeliveries(ds, { event, callback, count, now });
    return { callback, rows };
  };
  const row = (id: string) => ds.getRepository(Delivery).findOneByOrFail({ id });

  it('claims them from the copies: SENDING, this lease, the signing secret, announced', async () => {
    const { callback, rows } = await seed(3);
    now = new Date(now.getTime() + 10);
    const claims = await queue.claimAnnounced('worker-a', rows);
    expect(claims.map((c) => c.delivery.id)).toEqual(rows.map((r) => r.id));
    const leaseEndsAt = new Date(now.getTime() + LEASE_MS);
    for (const claim of claims) {
      expect(claim.delivery).toMatchObject({ status: 'SENDING', leaseOwner: 'worker-a', dueAt: leaseEndsAt, updatedAt: now, url: callback.urlTemplate, attempts: 0 });
      expect(claim.claimedFrom).toEqual({ status: 'PENDING', dueAt: new Date(now.getTime() - 10) });
      expect(claim.signingSecret).toBe(callback.signingSecret);
      expect(await row(claim.delivery.id)).toMatchObject({ status: 'SENDING', leaseOwner: 'worker-a', dueAt: leaseEndsAt, updatedAt: now });
    }
    expect(announced.map((d) => [d.id, d.status])).toEqual(rows.map((r) => [r.id, 'SENDING']));
  });

  it('stretches the lease past a long timeout, as claimDue does', async () => {
    const short = new DeliveryQueue(ds, { now: () => now }, new DeliveryHub(), pino({ level: 'silent' }), { leaseMs: 1_000, retry: { backoffBaseMs: 5_000, backoffMaxMs: 60_000 } });
    const { rows } = await seed(1, { timeoutMs: 30_000 });
    const [claim] = await short.claimAnnounced('w', rows);
    expect(claim?.delivery.dueAt).toEqual(new Date(now.getTime() + 30_000 + LEASE_SAFETY_MARGIN_MS));
  });

  it('skips rows that changed since they were announced, and claims the rest', async () => {
    const { rows } = await seed(3);
    // Another worker's scan took the second one meanwhile.
    await ds.getRepository(Delivery).update({ id: rows[1]?.id }, { status: DeliveryStatus.SENDING, leaseOwner: 'worker-b', updatedAt: new Date(now.getTime() + 1) });
    const claims = await queue.claimAnnounced('worker-a', rows);
    expect(claims.map((c) => c.delivery.id)).toEqual([rows[0]?.id, rows[2]?.id]);
    expect((await row(rows[1]?.id as string)).leaseOwner).toBe('worker-b');
  });

  it('does not claim a copy that is not due yet or not PENDING', async () => {
    const { rows } = await seed(2);
    const later = Object.assign(new Delivery(), rows[0], { dueAt: new Date(now.getTime() + 5_000) });
    const retrying = Object.assign(new Delivery(), rows[1], { status: DeliveryStatus.RETRYING });
    expect(await queue.claimAnnounced('worker-a', [later, retrying])).toEqual([]);
    expect((await row(rows[0]?.id as string)).status).toBe('PENDING');
  });

  it('never gives one delivery to two workers claiming the same announcement', async () => {
    const { rows } = await seed(40);
    const [a, b] = await Promise.all([queue.claimAnnounced('worker-a', rows), queue.claimAnnounced('worker-b', rows)]);
    const ids = [...(a ?? []), ...(b ?? [])].map((c) => c.delivery.id);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
  });

  it('claimDue hands out each delivery exactly as the database now holds it', async () => {
    await ds.createQueryBuilder().update(Delivery).set({ dueAt: null, status: DeliveryStatus.FAILED }).where('dueAt IS NOT NULL').execute();
    const { rows } = await seed(3);
    await ds.getRepository(Delivery).update({ id: rows[0]?.id }, { headers: [{ name: 'X-Key', value: 'v' }], body: '{"a":1}', method: 'POST' as never });
    const { claimed, filled } = await queue.claimDue('worker-a', 10);
    expect(filled).toBe(false);
    expect(claimed).toHaveLength(3);
    for (const claim of claimed) expect(claim.delivery).toEqual(await row(claim.delivery.id));
  });

  it('claims deliveries announced with different update times', async () => {
    const first = await seed(1);
    now = new Date(now.getTime() + 7);
    const second = await seed(1);
    const claims = await queue.claimAnnounced('worker-a', [...first.rows, ...second.rows]);
    expect(claims).toHaveLength(2);
  });
});
