// Recording many attempts in one transaction (DeliveryQueue.recordAttempts): what each delivery
// and attempt row holds afterwards, on a real database, and the fall-back to one by one when a
// lease was lost in between.
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { DeliveryStatus } from '../../src/common/enums';
import { Delivery } from '../../src/deliveries/delivery.entity';
import { DeliveryAttempt } from '../../src/deliveries/delivery-attempt.entity';
import { DeliveryHub } from '../../src/deliveries/delivery-hub';
import { DeliveryQueue, type AttemptToRecord, type ClaimedDelivery } from '../../src/dispatch/delivery-queue';
import type { AttemptRecord } from '../../src/dispatch/delivery-transitions';
import { testDatabases } from '../support/databases';
import { seedApp, seedCallback, seedDeliveries, seedEvent } from '../support/seed';
import { startTestService, TestService } from '../support/test-service';

const RETRY = { backoffBaseMs: 5_000, backoffMaxMs: 60_000 };

describe.each(testDatabases())('recording attempts in batches on %s', (kind) => {
  let t: TestService;
  let ds: DataSource;
  let now: Date;
  let announced: Delivery[];
  let queue: DeliveryQueue;

  beforeAll(async () => {
    t = await startTestService(kind, { DISPATCHER: 'off' });
    ds = t.service.services.dataSource;
  });
  beforeEach(async () => {
    await ds.createQueryBuilder().update(Delivery).set({ dueAt: null, status: DeliveryStatus.FAILED }).where('dueAt IS NOT NULL').execute();
    now = new Date(Date.now() - 3_600_000);
    announced = [];
    const hub = new DeliveryHub();
    hub.onStatusChanged((deliveries) => announced.push(...deliveries));
    queue = new DeliveryQueue(ds, { now: () => now }, hub, pino({ level: 'silent' }), { leaseMs: 60_000, retry: RETRY, random: () => 0.5 });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const claim = async (count: number, owner = 'worker-a'): Promise<ClaimedDelivery[]> => {
    const app = await seedApp(ds);
    const callback = await seedCallback(ds, { appId: app.id });
    const event = await seedEvent(ds, app.id);
    await seedDeliveries(ds, { event, callback, count, now });
    const { claimed } = await queue.claimDue(owner, count);
    expect(claimed).toHaveLength(count);
    return claimed;
  };
  const attempt = (number: number, statusCode: number | null, error: string | null = null): AttemptRecord => ({
    number,
    startedAt: new Date(now.getTime() - 20),
    statusCode,
    latencyMs: 12,
    error,
    responseSnippet: statusCode === null ? null : 'ok',
  });
  const row = (id: string) => ds.getRepository(Delivery).findOneByOrFail({ id });
  const attemptsOf = (deliveryId: string) => ds.getRepository(DeliveryAttempt).find({ where: { deliveryId }, order: { number: 'ASC' } });

  it('records delivered, retried and failed attempts together, each as one by one would', async () => {
    const claims = await claim(3);
    const retryAt = new Date(now.getTime() + 5_000);
    const items: AttemptToRecord[] = [
      { claim: claims[0] as ClaimedDelivery, attempt: attempt(1, 200), next: { status: 'DELIVERED' } },
      { claim: claims[1] as ClaimedDelivery, attempt: attempt(1, 503, 'HTTP 503'), next: { status: 'RETRYING', nextAttemptAt: retryAt } },
      { claim: claims[2] as ClaimedDelivery, attempt: attempt(1, 404, 'HTTP 404'), next: { status: 'FAILED' } },
    ];
    const recorded = await queue.recordAttempts(items);
    expect(recorded.map((r) => r?.delivery.status)).toEqual(['DELIVERED', 'RETRYING', 'FAILED']);

    const [delivered, retrying, failed] = await Promise.all(claims.map((c) => row(c.delivery.id)));
    expect(delivered).toMatchObject({ status: 'DELIVERED', attempts: 1, lastStatusCode: 200, lastError: null, dueAt: null, nextAttemptAt: null, leaseOwner: null, deliveredAt: now, updatedAt: now });
    expect(retrying).toMatchObject({ status: 'RETRYING', attempts: 1, lastStatusCode: 503, lastError: 'HTTP 503', dueAt: retryAt, nextAttemptAt: retryAt, leaseOwner: null, deliveredAt: null });
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: 404, lastError: 'HTTP 404', dueAt: null, leaseOwner: null, deliveredAt: null });

    for (const [i, c] of claims.entries()) {
      const rows = await attemptsOf(c.delivery.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ number: 1, statusCode: items[i]?.attempt.statusCode, latencyMs: 12, error: items[i]?.attempt.error });
      expect(rows[0]?.id).toBe(recorded[i]?.attempt.id);
    }
    // Announced after the commit, as committed.
    expect(announced.slice(-3).map((d) => [d.id, d.status])).toEqual(claims.map((c, i) => [c.delivery.id, ['DELIVERED', 'RETRYING', 'FAILED'][i]]));
  });

  it('when a lease was lost meanwhile, records the others and drops only that one', async () => {
    const claims = await claim(3);
    // Another worker took the second over (its lease ran out, it was claimed again).
    await ds.getRepository(Delivery).update({ id: claims[1]?.delivery.id }, { leaseOwner: 'worker-b' });
    const recorded = await queue.recordAttempts(claims.map((c) => ({ claim: c, attempt: attempt(1, 200), next: { status: 'DELIVERED' } })));
    expect(recorded.map((r) => r?.delivery.status ?? null)).toEqual(['DELIVERED', null, 'DELIVERED']);
    expect((await row(claims[1]?.delivery.id as string)).status).toBe('SENDING');
    expect(await attemptsOf(claims[1]?.delivery.id as string)).toEqual([]);
    expect(await attemptsOf(claims[0]?.delivery.id as string)).toHaveLength(1);
    expect(await attemptsOf(claims[2]?.delivery.id as string)).toHaveLength(1);
  });

  it('does not record an attempt whose number was already recorded', async () => {
    const claims = await claim(2);
    const first = claims.map((c) => ({ claim: c, attempt: attempt(1, 200), next: { status: 'DELIVERED' } as const }));
    await queue.recordAttempts(first);
    expect(await queue.recordAttempts(first)).toEqual([null, null]);
    for (const c of claims) expect(await attemptsOf(c.delivery.id)).toHaveLength(1);
  });

  it('records a large batch', async () => {
    const claims = await claim(300);
    const recorded = await queue.recordAttempts(claims.map((c) => ({ claim: c, attempt: attempt(1, 204), next: { status: 'DELIVERED' } })));
    expect(recorded.every((r) => r?.delivery.status === 'DELIVERED')).toBe(true);
    const [{ n }] = await ds.query(`SELECT COUNT(*) AS n FROM delivery_attempt WHERE statusCode = 204`);
    expect(Number(n)).toBeGreaterThanOrEqual(300);
  });
});
