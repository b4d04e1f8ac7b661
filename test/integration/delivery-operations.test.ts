// Delivery operations end to end: the circuit breaker against a real receiver that fails on
// cue, resumeCallback, auto-disable, and callbackHealthChanged, on SQLite and MySQL.
import {
  CallbackHealthDocument,
  CallbackSecretDocument,
  RotateSigningSecretDocument,
  DeliveryStatsDocument,
  DispatchedDeliveryDocument,
  RecordEventDocument,
  RedeliverDocument,
  RedeliverManyDocument,
  ResumeCallbackDocument,
  StatsDeliveriesDocument,
  TestCallbackDocument,
  UpdateCallbackOperationsDocument,
} from '../generated/graphql';
import { errorClass, LATENCY_BUCKETS, latencyBucketIndex, percentileFromHistogram } from '../../src/deliveries/delivery-stats';
import { Webhook } from 'standardwebhooks';
import { testDatabases } from '../support/databases';
import { seedDeliveries, seedEvent } from '../support/seed';
import { Callback } from '../../src/callbacks/callback.entity';
import { DeliveryStatus } from '../../src/common/enums';
import { configurationFixtures } from '../support/fixtures';
import { Receiver, waitFor } from '../support/receiver';
import { TestSubscription } from '../support/subscription-client';
import { startTestService, TEST_ADMIN_SECRET, TestService } from '../support/test-service';

const PAUSE_MS = 1500;
/** redeliverMany's pace here: 10,000 deliveries fall due over 5 s, 200 every 100 ms. */
const REPLAY_PER_SECOND = 2000;

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
      REDELIVER_MAX_PER_SECOND: String(REPLAY_PER_SECOND),
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
    // The receiver recovers at once: the checks below may outlast the short pause, and a probe
    // failed meanwhile would hold the next one off for its whole lease (PROBE_LEASE_MS).
    failing = false;
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

  it('deliveryStats agrees with a brute-force count over the same deliveries, and is scoped by key', async () => {
    const network = await fx.network();
    const app = await fx.app();
    await fx.callback({ appId: app.id, networkId: network.id, urlTemplate: `${receiver.url('/s')}?e={{event_id}}`, maxAttempts: 2 });
    await fx.callback({ appId: app.id, urlTemplate: `${receiver.url('/own')}?e={{event_id}}`, maxAttempts: 2 });
    let n = 0;
    receiver.respond((_req, res) => {
      n++;
      res.statusCode = n % 3 === 0 ? 500 : n % 5 === 0 ? 404 : 200;
      res.end('x');
    });
    const from = new Date(Date.now() - 60_000).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(...(await record(app.id)).map((d: { id: string }) => d.id));
    await waitFor(() => Promise.all(ids.map(read)), (all) => all.every((d) => d.status === 'DELIVERED' || d.status === 'FAILED'), { timeoutMs: 30_000, what: 'every delivery to finish' });
    // One redelivered: its earlier final status no longer counts, its new round does.
    const again = (await Promise.all(ids.map(read))).find((d) => d.status === 'FAILED')!;
    await t.admin.ok(RedeliverDocument, { deliveryId: again.id });
    await waitFor(() => read(again.id), (d) => d.status === 'DELIVERED' || d.status === 'FAILED', { timeoutMs: 20_000, what: 'the redelivery' });
    const to = new Date(Date.now() + 60_000).toISOString();

    const bruteForce = async (filter: { appId?: string; networkId?: string }) => {
      const nodes = [];
      let after: string | null = null;
      do {
        const page: { deliveries: { edges: { node: { status: string; attemptLog: { statusCode: number | null; latencyMs: number; error: string | null }[] } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } =
          await t.admin.ok(StatsDeliveriesDocument, { filter, first: 100, after });
        nodes.push(...page.deliveries.edges.map((e) => e.node));
        after = page.deliveries.pageInfo.hasNextPage ? page.deliveries.pageInfo.endCursor : null;
      } while (after);
      const latency = new Array<number>(LATENCY_BUCKETS).fill(0);
      const errors = new Map<string, number>();
      let attempts = 0;
      for (const d of nodes) {
        for (const a of d.attemptLog) {
          attempts++;
          latency[latencyBucketIndex(a.latencyMs)]!++;
          const cls = errorClass(a);
          if (cls) errors.set(cls, (errors.get(cls) ?? 0) + 1);
        }
      }
      const delivered = nodes.filter((d) => d.status === 'DELIVERED').length;
      const failed = nodes.filter((d) => d.status === 'FAILED').length;
      return {
        queued: nodes.length,
        delivered,
        failed,
        inProgress: nodes.length - delivered - failed,
        attempts,
        successRate: delivered + failed === 0 ? null : delivered / (delivered + failed),
        p50LatencyMs: percentileFromHistogram(latency, 0.5),
        p95LatencyMs: percentileFromHistogram(latency, 0.95),
        p99LatencyMs: percentileFromHistogram(latency, 0.99),
        topErrors: [...errors].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5).map(([error, count]) => ({ error, count })),
      };
    };
    const expected = await bruteForce({ appId: app.id });
    expect(expected.queued).toBe(50);
    expect(expected.failed).toBeGreaterThan(0);
    const stats = (await t.admin.ok(DeliveryStatsDocument, { filter: { appId: app.id }, from, to })).deliveryStats;
    const { series, ...totals } = stats;
    expect(totals).toEqual(expected);
    expect(series.reduce((a, p) => a + p.queued, 0)).toBe(50);
    expect(series.reduce((a, p) => a + p.attempts, 0)).toBe(expected.attempts);
    // By day over whole UTC days (read from the daily rollup) and over a window that starts mid-day (hours, then days): the same figures.
    const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    for (const [dayFrom, dayTo] of [[today - 86_400_000, today + 2 * 86_400_000], [today - 86_400_000 + 5 * 3_600_000, today + 86_400_000 + 3_600_000]] as const) {
      const byDay = (await t.admin.ok(DeliveryStatsDocument, { filter: { appId: app.id }, from: new Date(dayFrom).toISOString(), to: new Date(dayTo).toISOString(), bucket: 'DAY' as never })).deliveryStats;
      const { series: daySeries, ...dayTotals } = byDay;
      expect(dayTotals).toEqual(expected);
      expect(daySeries.find((p) => Date.parse(p.start) === today)?.queued).toBe(50);
    }

    // A PARTNER key: its network's figures only; naming another network is FORBIDDEN.
    const partner = t.admin.as(await fx.partnerKey(network.id));
    const own = (await partner.ok(DeliveryStatsDocument, { from, to })).deliveryStats;
    const { series: _s, ...ownTotals } = own;
    expect(ownTotals).toEqual(await bruteForce({ networkId: network.id }));
    expect(own.queued).toBe(25);
    const other = await fx.network();
    expect((await partner.error(DeliveryStatsDocument, { filter: { networkId: other.id }, from, to })).extensions?.code).toBe('FORBIDDEN');
    // An SDK key: its app only.
    const otherApp = await fx.app();
    const sdk = t.admin.as(await fx.sdkKey(app.id));
    expect((await sdk.ok(DeliveryStatsDocument, { from, to })).deliveryStats.queued).toBe(50);
    expect((await sdk.error(DeliveryStatsDocument, { filter: { appId: otherApp.id }, from, to })).extensions?.code).toBe('FORBIDDEN');
    expect((await t.admin.error(DeliveryStatsDocument, { from: to, to: from })).extensions?.code).toBe('BAD_USER_INPUT');
  }, 60_000);

  it('rotateSigningSecret: during the overlap postbacks carry both signatures, newest first, each verified by standardwebhooks', async () => {
    const app = await fx.app();
    const callback = await fx.callback({ appId: app.id, urlTemplate: receiver.url('/signed'), bodyTemplate: '{"e":"{{event_id}}"}', signing: true });
    const old = (await t.admin.ok(CallbackSecretDocument, { id: callback.id })).callback!.signingSecret!;
    const rotated = (await t.admin.ok(RotateSigningSecretDocument, { callbackId: callback.id, overlapHours: 2 })).rotateSigningSecret;
    const fresh = rotated.signingSecret!;
    expect(fresh).not.toBe(old);
    expect(Date.parse(rotated.previousSecretExpiresAt!)).toBeGreaterThan(Date.now() + 3_600_000);
    const [delivery] = await record(app.id);
    await waitFor(() => read(delivery!.id), (d) => d.status === 'DELIVERED', { timeoutMs: 15_000, what: 'the signed postback' });
    const got = receiver.received.find((r) => r.headers['webhook-id'] === delivery!.id)!;
    const headers = { 'webhook-id': String(got.headers['webhook-id']), 'webhook-timestamp': String(got.headers['webhook-timestamp']), 'webhook-signature': String(got.headers['webhook-signature']) };
    const signatures = headers['webhook-signature'].split(' ');
    expect(signatures).toHaveLength(2);
    expect(signatures.every((sig) => sig.startsWith('v1,'))).toBe(true);
    expect(new Webhook(fresh).verify(got.body, headers)).toBeTruthy();
    expect(new Webhook(old).verify(got.body, headers)).toBeTruthy();
    // Newest first: the first signature alone verifies with the new secret.
    expect(new Webhook(fresh).verify(got.body, { ...headers, 'webhook-signature': signatures[0]! })).toBeTruthy();
    expect(() => new Webhook(old).verify(got.body, { ...headers, 'webhook-signature': signatures[0]! })).toThrow();

    // Without overlap the old secret stops at once.
    const second = (await t.admin.ok(RotateSigningSecretDocument, { callbackId: callback.id, overlapHours: 0 })).rotateSigningSecret;
    expect(second.previousSecretExpiresAt).toBeNull();
    const [next] = await record(app.id);
    await waitFor(() => read(next!.id), (d) => d.status === 'DELIVERED', { timeoutMs: 15_000, what: 'the second signed postback' });
    const got2 = receiver.received.find((r) => r.headers['webhook-id'] === next!.id)!;
    expect(String(got2.headers['webhook-signature']).split(' ')).toHaveLength(1);
    const error = await t.admin.error(RotateSigningSecretDocument, { callbackId: callback.id, overlapHours: 169 });
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(error)).toContain('overlapHours');
  }, 40_000);

  it('rotateSigningSecret: once the overlap is over, previousSecretExpiresAt reads null and postbacks carry one signature', async () => {
    let offsetMs = 0;
    const moved = await startTestService(kind, { DISPATCHER: 'inline', DISPATCH_ALLOW_PRIVATE: 'true' }, { clock: { now: () => new Date(Date.now() + offsetMs) } });
    try {
      const mfx = configurationFixtures(moved.admin);
      const app = await mfx.app();
      const callback = await mfx.callback({ appId: app.id, urlTemplate: `${receiver.url('/overlap')}?e={{event_id}}`, signing: true });
      const rotated = (await moved.admin.ok(RotateSigningSecretDocument, { callbackId: callback.id, overlapHours: 1 })).rotateSigningSecret;
      const ends = Date.parse(rotated.previousSecretExpiresAt!);
      const secretOf = async () => (await moved.admin.ok(CallbackSecretDocument, { id: callback.id })).callback!;
      const signaturesOfNextPostback = async () => {
        const [delivery] = (await moved.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'install' } })).recordEvent.deliveries;
        const got = await waitFor(async () => receiver.received.find((r) => r.headers['webhook-id'] === delivery!.id), (r) => r !== undefined, { timeoutMs: 15_000, what: 'the postback' });
        return String(got!.headers['webhook-signature']).split(' ').length;
      };
      // A minute before its end the old secret is shown and still signs.
      offsetMs = ends - Date.now() - 60_000;
      expect(Date.parse((await secretOf()).previousSecretExpiresAt!)).toBe(ends);
      expect(await signaturesOfNextPostback()).toBe(2);
      // A minute after, it is neither shown nor used, though its columns are still set.
      offsetMs = ends - Date.now() + 60_000;
      expect((await secretOf()).previousSecretExpiresAt).toBeNull();
      expect((await secretOf()).signingSecret).toBe(rotated.signingSecret);
      expect(await signaturesOfNextPostback()).toBe(1);
    } finally {
      await moved.stop();
    }
  }, 40_000);

  it('testCallback: one real signed send of the sample event, a fresh test_ webhook-id, no delivery stored, no retry', async () => {
    const app = await fx.app();
    const callback = await fx.callback({ appId: app.id, urlTemplate: `${receiver.url('/t')}?e={{event_name}}`, bodyTemplate: '{"event":"{{event_name}}"}', signing: true });
    const secret = (await t.admin.ok(CallbackSecretDocument, { id: callback.id })).callback!.signingSecret!;
    receiver.respond((_req, res) => res.end('hello'));
    const attempt = (await t.admin.ok(TestCallbackDocument, { callbackId: callback.id, event: { appId: app.id, name: 'purchase' } })).testCallback;
    expect(attempt).toMatchObject({ number: 1, statusCode: 200, error: null, responseSnippet: 'hello' });
    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.url).toBe('/t?e=purchase');
    const webhookId = String(got.headers['webhook-id']);
    expect(webhookId).toMatch(/^test_[0-9a-f]{24}$/);
    expect(got.body).toBe('{"event":"purchase"}');
    expect(new Webhook(secret).verify(got.body, { 'webhook-id': webhookId, 'webhook-timestamp': String(got.headers['webhook-timestamp']), 'webhook-signature': String(got.headers['webhook-signature']) })).toBeDefined();
    // Nothing stored: the app has no deliveries, and a second test uses another id.
    const page = await t.admin.ok(StatsDeliveriesDocument, { filter: { appId: app.id }, first: 10 });
    expect(page.deliveries.edges).toHaveLength(0);
    // A failing receiver: the failure is returned, not retried.
    receiver.respond((_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    const failed = (await t.admin.ok(TestCallbackDocument, { callbackId: callback.id, event: { appId: app.id, name: 'purchase' } })).testCallback;
    expect(failed.statusCode).toBe(503);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received).toHaveLength(2);
    expect(String(receiver.received[1]!.headers['webhook-id'])).not.toBe(webhookId);
    // Another app's event is refused, as previewCallback refuses it.
    const other = await fx.app();
    expect((await t.admin.error(TestCallbackDocument, { callbackId: callback.id, event: { appId: other.id, name: 'x' } })).extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('testCallback honours the address guard', async () => {
    const guarded = await startTestService(kind, { DISPATCHER: 'off', DISPATCH_ALLOW_PRIVATE: 'false' });
    try {
      const gfx = configurationFixtures(guarded.admin);
      const app = await gfx.app();
      const callback = await gfx.callback({ appId: app.id, urlTemplate: receiver.url('/guarded') });
      const attempt = (await guarded.admin.ok(TestCallbackDocument, { callbackId: callback.id, event: { appId: app.id, name: 'install' } })).testCallback;
      expect(attempt.statusCode).toBeNull();
      expect(attempt.error).toMatch(/not allowed/i);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await guarded.stop();
    }
  }, 30_000);

  it('redeliverMany replays 10,000 deliveries of a window in paced batches: due times spread at the configured rate, each sent once more and not before its time, in-progress ones skipped, filters and statuses honoured', async () => {
    const app = await fx.app();
    const created = await fx.callback({ appId: app.id, urlTemplate: receiver.url('/replay') });
    const other = await fx.callback({ appId: app.id, urlTemplate: receiver.url('/other') });
    const ds = t.service.services.dataSource;
    const callback = (await ds.getRepository(Callback).findOneByOrFail({ id: created.id }));
    const otherCallback = (await ds.getRepository(Callback).findOneByOrFail({ id: other.id }));
    const event = await seedEvent(ds, app.id);
    const at = new Date(Date.now() - 3_600_000);
    const failed = { status: DeliveryStatus.FAILED, dueAt: null, nextAttemptAt: null, attempts: 3, maxAttempts: 3, lastStatusCode: 500 };
    const window = await seedDeliveries(ds, { event, callback, count: 10_000, now: at, url: (id) => `${receiver.url('/replay')}?d=${id}`, overrides: failed });
    // Outside the window, another status, another callback, and still in progress: none is queued.
    await seedDeliveries(ds, { event, callback, count: 5, now: new Date(at.getTime() - 7_200_000), overrides: failed });
    await seedDeliveries(ds, { event, callback, count: 5, now: at, overrides: { status: DeliveryStatus.DELIVERED, dueAt: null, nextAttemptAt: null, attempts: 1 } });
    await seedDeliveries(ds, { event, callback: otherCallback, count: 5, now: at, overrides: failed });
    await seedDeliveries(ds, { event, callback, count: 7, now: at, overrides: { status: DeliveryStatus.RETRYING, dueAt: new Date(Date.now() + 86_400_000), nextAttemptAt: new Date(Date.now() + 86_400_000), attempts: 1 } });
    const seen = new Map<string, number>();
    // Only this window's deliveries count: an earlier test's leftovers may reach the same receiver.
    const windowIds = new Set(window.map((d) => d.id));
    receiver.respond((req, res) => {
      const id = new URL(req.url, 'http://x').searchParams.get('d');
      if (id && windowIds.has(id)) seen.set(id, (seen.get(id) ?? 0) + 1);
      res.end('ok');
    });
    const filter = { callbackId: callback.id, from: new Date(at.getTime() - 60_000).toISOString(), to: new Date(at.getTime() + 60_000).toISOString() };
    // The re-queued copies as committed (PENDING, with the due time each was given).
    const planned = new Map<string, number>();
    const stopListening = t.service.services.deliveryHub.onStatusChanged((deliveries) => {
      for (const d of deliveries) if (d.status === DeliveryStatus.PENDING && d.dueAt && !planned.has(d.id)) planned.set(d.id, d.dueAt.getTime());
    });
    const queuedTotal = async () => (await t.service.services.metrics.deliveriesQueued.get()).values.reduce((sum, v) => sum + v.value, 0);
    const queuedBefore = await queuedTotal();
    const calledAt = Date.now();
    const result = (await t.admin.ok(RedeliverManyDocument, { filter })).redeliverMany;
    stopListening();
    expect(result).toEqual({ queued: 10_000, skipped: 7 });
    expect((await queuedTotal()) - queuedBefore).toBe(10_000);
    await waitFor(async () => seen.size, (n) => n >= 10_000, { timeoutMs: 120_000, what: '10,000 redeliveries to arrive' });

    // Spread: in window order, never earlier than the call, steps of at most 200 due together,
    // at most 2,000 (and a step) due in any second, the last 5 s or more after the first.
    const ordered = [...window].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
    const due = ordered.map((d) => planned.get(d.id) as number);
    expect(due.every((ms) => ms !== undefined && ms >= calledAt - 1)).toBe(true);
    for (let i = 1; i < due.length; i++) expect(due[i]!).toBeGreaterThanOrEqual(due[i - 1]!);
    const perStep = new Map<number, number>();
    for (const ms of due) perStep.set(ms, (perStep.get(ms) ?? 0) + 1);
    expect(Math.max(...perStep.values())).toBeLessThanOrEqual(200);
    const steps = [...perStep.keys()].sort((a, b) => a - b);
    for (let i = 1; i < steps.length; i++) expect(steps[i]! - steps[i - 1]!).toBeGreaterThanOrEqual(99);
    expect(due[due.length - 1]! - due[0]!).toBeGreaterThanOrEqual(4_900);
    let end = 0;
    for (let first = 0; first < due.length; first++) {
      while (end < due.length && due[end]! < due[first]! + 1000) end++;
      expect(end - first).toBeLessThanOrEqual(REPLAY_PER_SECOND + 200);
    }
    // None was sent before its due time.
    const arrivedAt = new Map<string, number>();
    for (const r of receiver.received) {
      const id = new URL(r.url, 'http://x').searchParams.get('d');
      if (id && !arrivedAt.has(id)) arrivedAt.set(id, r.receivedAt.getTime());
    }
    expect(ordered.filter((d) => (arrivedAt.get(d.id) as number) < (planned.get(d.id) as number))).toEqual([]);
    const countByStatus = async () => {
      const rows = await ds.query(`SELECT status, COUNT(*) AS n FROM delivery WHERE callbackId = ? AND createdAt >= ? AND createdAt < ? GROUP BY status`.replace(/callbackId|createdAt|status/g, (c) => ds.driver.escape(c)), [
        callback.id,
        kind === 'mysql' ? new Date(filter.from) : filter.from.replace('T', ' ').replace('Z', ''),
        kind === 'mysql' ? new Date(filter.to) : filter.to.replace('T', ' ').replace('Z', ''),
      ]);
      return Object.fromEntries((rows as { status: string; n: unknown }[]).map((r) => [r.status, Number(r.n)]));
    };
    const byStatus = await waitFor(countByStatus, (c) => !c.SENDING && !c.PENDING, { timeoutMs: 30_000, what: 'every redelivery to be recorded' });
    expect(byStatus).toEqual({ DELIVERED: 10_005, RETRYING: 7 });
    expect([...seen.keys()].sort()).toEqual(window.map((d) => d.id).sort());
    expect([...seen.values()].every((n) => n === 1)).toBe(true);

    // Bad filters name their field.
    const bad = await t.admin.error(RedeliverManyDocument, { filter: { ...filter, statuses: ['PENDING'] } });
    expect(bad.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(bad)).toContain('filter.statuses');
    expect(JSON.stringify(await t.admin.error(RedeliverManyDocument, { filter: { ...filter, to: filter.from } }))).toContain('filter.to');
  }, 180_000);

  it('autoDisableAfterHours: failures only for that long disable the callback (enabled false, a reason); its events queue nothing until resumed', async () => {
    const app = await fx.app();
    // No delivery is sent here before the disable (a success would end the failures-only stretch).
    const callback = await fx.callback({ appId: app.id, urlTemplate: receiver.url('/dead'), autoDisableAfterHours: 1 });
    const services = t.service.services;
    const settings = { pauseMs: PAUSE_MS, maxPauseMs: 4 * PAUSE_MS };
    const t0 = Date.now();
    await services.callbackHealth.record(callback.id, ['failure'], new Date(t0), settings);
    const change = await services.callbackHealth.record(callback.id, ['failure'], new Date(t0 + 3_600_000), settings);
    expect(change?.after.health.state).toBe('DISABLED');
    expect(change?.stateChanged).toBe(true);
    services.announceHealthChange(change!);
    const read = await health(callback.id);
    expect(read.enabled).toBe(false);
    expect(read.health.state).toBe('DISABLED');
    expect(read.health.disabledReason).toMatch(/failures only for 1 h/);
    expect(await record(app.id)).toHaveLength(0);
    await t.admin.ok(ResumeCallbackDocument, { callbackId: callback.id });
    expect(await record(app.id)).toHaveLength(1);
  });
});
