// maxRequestsPerSecond across processes: two worker processes share one count per callback and
// second through Redis, against a real receiver that notes when each postback arrives.
import { RecordEventsDocument } from '../generated/graphql';
import { In } from 'typeorm';
import { Delivery } from '../../src/deliveries/delivery.entity';
import { DeliveryAttempt } from '../../src/deliveries/delivery-attempt.entity';
import { testDatabases } from '../support/databases';
import { configurationFixtures } from '../support/fixtures';
import { Receiver, waitFor } from '../support/receiver';
import { redisAvailable, TEST_REDIS_URL } from '../support/redis';
import { startTestService, TestService } from '../support/test-service';
import { WorkerProcess } from '../support/worker-process';

const LIMIT = 50;
const COUNT = 300;

const databases = redisAvailable() ? testDatabases() : [];

(databases.length > 0 ? describe.each(databases) : describe.skip.each(['sqlite' as const]))('maxRequestsPerSecond on %s with Redis', (kind) => {
  let t: TestService;
  let receiver: Receiver;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    receiver = await new Receiver().start();
    t = await startTestService(kind, { DISPATCHER: 'off', REDIS_URL: TEST_REDIS_URL });
  });
  afterAll(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill('SIGKILL')));
    await t?.stop();
    await receiver?.stop();
  });

  it(`holds ${LIMIT}/s within 10 % across two worker processes, and sends everything once`, async () => {
    const fx = configurationFixtures(t.admin);
    const app = await fx.app();
    await fx.callback({ appId: app.id, urlTemplate: receiver.url('/limited?d={{delivery_id}}'), maxRequestsPerSecond: LIMIT });
    for (let done = 0; done < COUNT; done += 150) {
      await t.admin.ok(RecordEventsDocument, { inputs: Array.from({ length: 150 }, () => ({ appId: app.id, name: 'install' })) });
    }
    const env = { DATABASE_URL: t.db.url, DISPATCH_ALLOW_PRIVATE: 'true', REDIS_URL: TEST_REDIS_URL, DISPATCH_CONCURRENCY: '64' };
    workers.push(new WorkerProcess(env), new WorkerProcess(env));
    const deliveries = () => t.service.services.dataSource.getRepository(Delivery).find({ where: { appId: app.id } });
    await waitFor(deliveries, (all) => all.every((d) => d.status === 'DELIVERED'), { timeoutMs: 60_000, what: `${COUNT} deliveries at ${LIMIT}/s` });

    const ids = receiver.received.map((r) => new URL(r.url, 'http://x').searchParams.get('d'));
    expect(new Set(ids).size).toBe(COUNT);
    expect(ids).toHaveLength(COUNT);
    // Counted by when each attempt started, as the workers recorded it (the receiver's arrival
    // times would also carry this test process's own event-loop stalls).
    const attempts = await t.service.services.dataSource.getRepository(DeliveryAttempt).find({ where: { deliveryId: In((await deliveries()).map((d) => d.id)) } });
    expect(attempts).toHaveLength(COUNT);
    const perSecond = new Map<number, number>();
    for (const a of attempts) {
      const second = Math.floor(a.startedAt.getTime() / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    const seconds = [...perSecond.keys()].sort((a, b) => a - b);
    // No second over the limit (+10 %: each process's clock against Redis's, which keeps the count).
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(LIMIT * 1.1);
    // The limit is used, not undershot: the full seconds (not the first or last) carry close to it.
    const full = seconds.slice(1, -1).map((s) => perSecond.get(s) ?? 0);
    const mean = full.reduce((a, b) => a + b, 0) / full.length;
    expect(mean).toBeGreaterThanOrEqual(LIMIT * 0.9);
    // Both workers were dispatching the whole time (neither crashed on the shared count).
    expect(workers.every((w) => w.running)).toBe(true);
  }, 90_000);
});
