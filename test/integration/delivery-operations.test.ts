// Delivery operations end to end: the circuit breaker against a real receiver that fails on
// cue, resumeCallback, auto-disable, and callbackHealthChanged, on SQLite and MySQL.
import { ResumeCallbackDocument, CallbackHealthDocument, RecordEventDocument, DispatchedDeliveryDocument, UpdateCallbackOperationsDocument } from '../generated/graphql';
import { testDatabases } from '../support/databases';
import { configurationFixtures } from '../support/fixtures';
import { Receiver, waitFor } from '../support/receiver';
import { TestSubscription } from '../support/subscription-client';
import { startTestService, TEST_ADMIN_SECRET, TestService } from '../support/test-service';

const PAUSE_MS = 1500;

const HEALTH_SUBSCRIPTION = `subscription ($appId: ID, $networkId: ID) {
  callbackHealthChanged(appId: $appId, networkId: $networkId) { id health { state consecutiveFailures pausedUntil disabledReason } }
}`;

type HealthMessage = { callbackHealthChanged: { id: string; health: { state: string; consecutiveFailures: number; pausedUntil: string | null; disabledReason: string | null } } };

describe.each(testDatabases())('delivery operations on %s', (kind) => {
  let t: TestService;
  let fx: ReturnType<typeof configurationFixtures>;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await new Receiver().start();
    t = await startTestService(kind, {
      DISPATCHER: 'inline',
      DISPATCH_ALLOW_PRIVATE: 'true',
      DISPATCH_BACKOFF_BASE_MS: '50',
      DISPATCH_BACKOFF_MAX_MS: '200',
      DISPATCH_BREAKER_PAUSE_MS: String(PAUSE_MS),
      DISPATCH_BREAKER_MAX_PAUSE_MS: String(4 * PAUSE_MS),
    });
    fx = configurationFixtures(t.admin);
  });
  afterEach(() => receiver.reset());
  afterAll(async () => {
    await t?.stop();
    await receiver?.stop();
  });

  const health = async (id: string) => (await t.admin.ok(CallbackHealthDocument, { id })).callback!;
  const record = async (appId: string) => (await t.admin.ok(RecordEventDocument, { input: { appId, name: 'install' } })).recordEvent.deliveries;
  const read = async (id: string) => (await t.admin.ok(DispatchedDeliveryDocument, { id })).delivery!;

  it('20 failures pause the callback with deliveries still queued; a probe after pausedUntil resumes it and the backlog drains, nothing lost or sent twice', async () => {
    const app = await fx.app();
    const callback = await fx.callback({ appId: app.id, urlTemplate: `${receiver.url('/p')}?d={{delivery_id}}`, maxAttempts: 20 });
    const sub = new TestSubscription<HealthMessage>(t.service.url, TEST_ADMIN_SECRET, HEALTH_SUBSCRIPTION, { appId: app.id });
    await new Promise((r) => setTimeout(r, 300));
    let failing = true;
    const delivered = new Map<string, number>();
    receiver.respond((req, res) => {
      const id = new URL(req.url, 'http://x').searchParams.get('d') ?? '';
      if (failing) {
        res.statusCode = 503;
        res.end('down');
        return;
      }
      delivered.set(id, (delivered.get(id) ?? 0) + 1);
      res.end('ok');
    });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(...(await record(app.id)).map((d: { id: string }) => d.id));

    const paused = await waitFor(() => health(callback.id), (c) => c.health.state === 'PAUSED', { timeoutMs: 20_000, what: 'the callback to pause' });
    expect(paused.health.consecutiveFailures).toBeGreaterThanOrEqual(20);
    expect(paused.health.pausedUntil).not.toBeNull();
    await sub.waitFor((m) => m.some((x) => x.data?.callbackHealthChanged.health.state === 'PAUSED'), 10_000, 'PAUSED on the subscription');

    // While paused nothing is sent and every delivery is still queued.
    await new Promise((r) => setTimeout(r, 300));
    const sentWhilePaused = receiver.received.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received.length).toBe(sentWhilePaused);
    const states = await Promise.all(ids.map(read));
    expect(states.every((d) => d.status === 'RETRYING' || d.status === 'PENDING')).toBe(true);
    const attemptsWhilePaused = states.reduce((n, d) => n + d.attempts, 0);

    failing = false;
    await waitFor(() => health(callback.id), (c) => c.health.state === 'HEALTHY', { timeoutMs: 20_000, what: 'the probe to resume the callback' });
    await sub.waitFor((m) => m.some((x) => x.data?.callbackHealthChanged.health.state === 'HEALTHY'), 10_000, 'HEALTHY on the subscription');
    await waitFor(() => Promise.all(ids.map(read)), (all) => all.every((d) => d.status === 'DELIVERED'), { timeoutMs: 30_000, what: 'the backlog to drain' });
    expect([...delivered.keys()].sort()).toEqual([...ids].sort());
    expect([...delivered.values()].every((n) => n === 1)).toBe(true);
    // Paused time cost no attempts: each delivery has its failures from before the pause and one success.
    const final = await Promise.all(ids.map(read));
    expect(final.reduce((n, d) => n + d.attempts, 0)).toBe(attemptsWhilePaused + ids.length);
    await sub.close();
  }, 60_000);

  it('a storm of 4xx answers does not trip the breaker', async () => {
    const app = await fx.app();
    const callback = await fx.callback({ appId: app.id, urlTemplate: receiver.url('/bad') });
    receiver.respond((_req, res) => {
      res.statusCode = 400;
      res.end('bad request');
    });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(...(await record(app.id)).map((d: { id: string }) => d.id));
    await waitFor(() => Promise.all(ids.map(read)), (all) => all.every((d) => d.status === 'FAILED'), { timeoutMs: 20_000, what: 'the 4xx deliveries to fail' });
    expect((await health(callback.id)).health.state).toBe('HEALTHY');
  }, 30_000);

  it('disabling queues nothing; resumeCallback brings it back HEALTHY and enabled', async () => {
    const app = await fx.app();
    const callback = await fx.callback({ appId: app.id, urlTemplate: receiver.url('/x') });
    const disabled = (await t.admin.ok(UpdateCallbackOperationsDocument, { id: callback.id, input: { enabled: false } })).updateCallback;
    expect(disabled.health.state).toBe('DISABLED');
    expect(disabled.health.disabledReason).toBe('disabled by an admin');
    expect(await record(app.id)).toHaveLength(0);
    const resumed = (await t.admin.ok(ResumeCallbackDocument, { callbackId: callback.id })).resumeCallback;
    expect(resumed.health.state).toBe('HEALTHY');
    expect(resumed.enabled).toBe(true);
    expect(await record(app.id)).toHaveLength(1);
  });

  it('checks the limits of the new callback fields', async () => {
    const app = await fx.app();
    const callback = await fx.callback({ appId: app.id, maxRequestsPerSecond: 5, autoDisableAfterHours: 24 });
    expect(callback).toMatchObject({ id: expect.any(String) });
    const error = await t.admin.error(UpdateCallbackOperationsDocument, { id: callback.id, input: { maxRequestsPerSecond: 0 } });
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(error)).toContain('input.maxRequestsPerSecond');
    const error2 = await t.admin.error(UpdateCallbackOperationsDocument, { id: callback.id, input: { autoDisableAfterHours: 100000 } });
    expect(JSON.stringify(error2)).toContain('input.autoDisableAfterHours');
  });
});
