// Worker processes (`npm run worker`) against one database: a crash mid-dispatch, a graceful
// stop, and two workers sharing thousands of deliveries. Receivers are real HTTP servers here.
import type { IncomingHttpHeaders } from 'node:http';
import { RecordEventsDocument } from '../generated/graphql';
import { DeliveryStatus } from '../../src/common/enums';
import { Delivery } from '../../src/deliveries/delivery.entity';
import { DeliveryAttempt } from '../../src/deliveries/delivery-attempt.entity';
import { LEASE_EXPIRED_ERROR } from '../../src/deliveries/delivery-state';
import { testDatabases } from '../support/databases';
import { configurationFixtures } from '../support/fixtures';
import { Receiver, waitFor } from '../support/receiver';
import { startTestService, TestService } from '../support/test-service';
import { WorkerProcess } from '../support/worker-process';

const webhookId = (headers: IncomingHttpHeaders) => String(headers['webhook-id']);

/** Every delivery of the test out at once, for tests that hold requests open (an adaptive limit starts at 8 per callback). */
const ALL_AT_ONCE = { DISPATCH_CALLBACK_CONCURRENCY: '64' };

function workerEnv(t: TestService, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: t.db.url,
    DISPATCH_ALLOW_PRIVATE: 'true',
    DISPATCH_BACKOFF_BASE_MS: '100',
    DISPATCH_BACKOFF_MAX_MS: '1000',
    // The floor; a claim's lease is stretched to its longest timeout + 5 s (src/deliveries/lease.ts).
    DISPATCH_LEASE_MS: '1000',
    ...overrides,
  };
}

/** Records `count` events (one delivery each, for the app's single callback) through the API. */
async function recordEvents(t: TestService, appId: string, count: number): Promise<void> {
  for (let done = 0; done < count; done += 500) {
    const inputs = Array.from({ length: Math.min(500, count - done) }, () => ({ appId, name: 'install' }));
    await t.admin.ok(RecordEventsDocument, { inputs });
  }
}

describe.each(testDatabases())('worker processes on %s', (kind) => {
  let t: TestService;
  let fx: ReturnType<typeof configurationFixtures>;
  let receiver: Receiver;
  const workers: WorkerProcess[] = [];
  const spawnWorker = (env: Record<string, string>) => {
    const worker = new WorkerProcess(env);
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    receiver = await new Receiver().start();
    // The API records events and applies migrations; only the worker processes dispatch.
    t = await startTestService(kind, { DISPATCHER: 'off' });
    fx = configurationFixtures(t.admin);
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill('SIGKILL')));
    receiver.reset();
  });
  afterAll(async () => {
    await t?.stop();
    await receiver?.stop();
  });

  const deliveriesOf = (appId: string) => t.service.services.dataSource.getRepository(Delivery).find({ where: { appId }, order: { id: 'ASC' } });
  const attemptsOf = (deliveryId: string) => t.service.services.dataSource.getRepository(DeliveryAttempt).find({ where: { deliveryId }, order: { number: 'ASC' } });

  it('loses nothing when a worker is killed with SIGKILL mid-dispatch: another takes over once the leases end', async () => {
    const COUNT = 20;
    // Every first attempt hangs (the killed worker's); later ones are answered.
    const heldOpen = new Set<string>();
    receiver.respond((req, res) => {
      const id = webhookId(req.headers);
      if (!heldOpen.has(id)) {
        heldOpen.add(id);
        return;
      }
      res.end('ok');
    });
    const app = await fx.app();
    // 5 s timeout: the first worker is still waiting on every request when it is killed.
    await fx.callback({ appId: app.id, urlTemplate: receiver.url('/crash?d={{delivery_id}}'), timeoutMs: 5000, maxAttempts: 3 });
    await recordEvents(t, app.id, COUNT);

    const first = spawnWorker(workerEnv(t, ALL_AT_ONCE));
    await waitFor(() => heldOpen.size, (n) => n === COUNT || !first.running, { timeoutMs: 60_000, what: 'the first worker to send every delivery' });
    expect({ running: first.running, log: first.running ? '' : first.log }).toEqual({ running: true, log: '' });
    expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');

    // Mid-dispatch: every delivery SENDING under the dead worker's lease, its attempt unrecorded.
    const orphaned = await deliveriesOf(app.id);
    expect(orphaned).toHaveLength(COUNT);
    expect(new Set(orphaned.map((d) => `${d.status}/${d.attempts}`))).toEqual(new Set(['SENDING/0']));
    expect(new Set(orphaned.map((d) => d.leaseOwner)).size).toBe(1);

    const second = spawnWorker(workerEnv(t));
    const done = await waitFor(
      () => deliveriesOf(app.id),
      (rows) => rows.every((d) => d.status === DeliveryStatus.DELIVERED) || !second.running,
      { timeoutMs: 90_000, what: 'the second worker to deliver everything' },
    );
    expect({ running: second.running, log: second.running ? '' : second.log }).toEqual({ running: true, log: '' });
    for (const delivery of done) {
      expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 2, lastStatusCode: 200, leaseOwner: null, dueAt: null });
      const log = await attemptsOf(delivery.id);
      expect(log.map((a) => [a.number, a.statusCode, a.error])).toEqual([
        [1, null, LEASE_EXPIRED_ERROR],
        [2, 200, null],
      ]);
      expect(receiver.of(delivery.id)).toHaveLength(2);
    }
    expect(await second.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('on SIGTERM lets attempts in flight finish and record before it exits', async () => {
    const COUNT = 10;
    const requests: { id: string; answer: () => void }[] = [];
    receiver.respond((req, res) => requests.push({ id: webhookId(req.headers), answer: () => res.end('ok') }));
    const app = await fx.app();
    await fx.callback({ appId: app.id, urlTemplate: receiver.url('/graceful'), timeoutMs: 10_000 });
    await recordEvents(t, app.id, COUNT);

    const worker = spawnWorker(workerEnv(t, ALL_AT_ONCE));
    await waitFor(() => requests.length, (n) => n === COUNT || !worker.running, { timeoutMs: 60_000, what: 'every request to arrive' });
    worker.child.kill('SIGTERM');
    // Still mid-attempt: answer only after the signal, then the worker records and exits.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(worker.running).toBe(true);
    for (const r of requests) r.answer();
    expect(await worker.exited).toEqual({ code: 0, signal: null });

    const rows = await deliveriesOf(app.id);
    expect(rows.map((d) => `${d.status}/${d.attempts}`)).toEqual(Array(COUNT).fill('DELIVERED/1'));
  });

  if (kind === 'mysql') {
    it('two workers on one MySQL over 3000 deliveries: every one DELIVERED, no attempt sent twice', async () => {
      const COUNT = 3000;
      // One delivery in eight fails its first attempt, so retries are claimed too.
      const failsFirst = (id: string) => parseInt(id.slice(-1), 16) < 2;
      const received = new Map<string, number>();
      receiver.respond((req, res) => {
        const id = webhookId(req.headers);
        const n = (received.get(id) ?? 0) + 1;
        received.set(id, n);
        res.statusCode = n === 1 && failsFirst(id) ? 503 : 200;
        res.end();
      });
      const app = await fx.app();
      await fx.callback({ appId: app.id, urlTemplate: receiver.url('/pair?d={{delivery_id}}'), timeoutMs: 10_000, maxAttempts: 5 });

      const pair = [0, 1].map(() => spawnWorker(workerEnv(t, { LOG_LEVEL: 'info', DISPATCH_CONCURRENCY: '32', DISPATCH_BACKOFF_BASE_MS: '50' })));
      await waitFor(
        () => pair.map((w) => w.logLines.some((l) => l.msg === 'postback worker running') || !w.running),
        (ready) => ready.every(Boolean),
        { timeoutMs: 60_000, what: 'both workers to start' },
      );
      expect(pair.map((w) => (w.running ? 'running' : w.log))).toEqual(['running', 'running']);
      await recordEvents(t, app.id, COUNT);

      const countFinal = async () => {
        const [row] = await t.service.services.dataSource.query(`SELECT COUNT(*) AS n FROM delivery WHERE appId = ? AND status IN ('DELIVERED', 'FAILED')`, [app.id]);
        return Number(row.n);
      };
      await waitFor(countFinal, (n) => n === COUNT || pair.some((w) => !w.running), { timeoutMs: 240_000, intervalMs: 250, what: 'every delivery to finish' });
      expect(pair.map((w) => (w.running ? 'running' : w.log))).toEqual(['running', 'running']);

      const rows = await deliveriesOf(app.id);
      expect(rows).toHaveLength(COUNT);
      const notDelivered = rows.filter((d) => d.status !== DeliveryStatus.DELIVERED);
      expect(notDelivered).toEqual([]);
      // Sent exactly as often as recorded: a second send of any attempt would show as one more request.
      const mismatched = rows.filter((d) => received.get(d.id) !== d.attempts || d.attempts !== (failsFirst(d.id) ? 2 : 1));
      expect(mismatched.map((d) => ({ id: d.id, attempts: d.attempts, received: received.get(d.id) }))).toEqual([]);
      const attemptRows: { deliveryId: string; n: string; top: number }[] = await t.service.services.dataSource.query(
        `SELECT a.deliveryId, COUNT(*) AS n, MAX(a.number) AS top FROM delivery_attempt a JOIN delivery d ON d.id = a.deliveryId WHERE d.appId = ? GROUP BY a.deliveryId`,
        [app.id],
      );
      expect(attemptRows).toHaveLength(COUNT);
      expect(attemptRows.filter((r) => Number(r.n) !== Number(r.top) || Number(r.n) !== received.get(r.deliveryId))).toEqual([]);
      expect([...received.values()].reduce((a, b) => a + b, 0)).toBe(attemptRows.reduce((sum, r) => sum + Number(r.n), 0));
      // Both took part: each scheduled some of the retries.
      const retriesBy = pair.map((w) => w.logLines.filter((l) => l.msg === 'postback attempt failed; retry scheduled').length);
      expect(retriesBy.every((n) => n > 0)).toBe(true);
    });
  }
});
