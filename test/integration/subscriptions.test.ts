import { RecordEventDocument, RevokeApiKeyDocument, ApiKeysDocument } from '../generated/graphql';
import { testDatabases } from '../support/databases';
import { configurationFixtures } from '../support/fixtures';
import { startTestService, TestService, TEST_ADMIN_SECRET } from '../support/test-service';
import { subscriptionErrors, TestSubscription } from '../support/subscription-client';
import { Receiver } from '../support/receiver';

type Update = { deliveryUpdated: { id: string; status: string; attempts: number; network: { id: string } | null; attemptLog: { number: number }[]; event: { id: string; advertisingId: string | null } } };
const UPDATES = `subscription($appId: ID, $networkId: ID, $callbackId: ID) {
  deliveryUpdated(appId: $appId, networkId: $networkId, callbackId: $callbackId) {
    id status attempts network { id } attemptLog { number } event { id advertisingId }
  }
}`;
const STATUS_ONLY = `subscription($appId: ID) { deliveryUpdated(appId: $appId) { id status } }`;

describe.each(testDatabases())('deliveryUpdated on %s (API only, no dispatcher)', (kind) => {
  let t: TestService;
  let fx: ReturnType<typeof configurationFixtures>;
  const open: TestSubscription<unknown>[] = [];
  const subscribe = <T>(secret: string | null, query: string, variables: Record<string, unknown> = {}) => {
    const sub = new TestSubscription<T>(t.service.url, secret, query, variables);
    open.push(sub as TestSubscription<unknown>);
    return sub;
  };
  beforeAll(async () => {
    t = await startTestService(kind);
    fx = configurationFixtures(t.admin);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** graphql-ws does not acknowledge a subscribe: record events until the first update arrives, then the subscription is live. */
  async function untilLive(sub: TestSubscription<Update>, appId: string) {
    for (let i = 0; sub.messages.length === 0 && i < 100; i++) {
      await t.admin.ok(RecordEventDocument, { input: { appId, name: 'warm-up' } });
      await sub.waitFor((m) => m.length > 0, 100).catch(() => undefined);
    }
    await sub.waitFor((m) => m.length > 0);
    sub.messages.splice(0);
  }

  it('sends PENDING with the full delivery when an event is queued', async () => {
    const app = await fx.app();
    const network = await fx.network();
    await fx.callback({ appId: app.id, networkId: network.id });
    const sub = subscribe<Update>(TEST_ADMIN_SECRET, UPDATES, { appId: app.id });
    await untilLive(sub, app.id);
    const { recordEvent } = await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'install' } });
    const [message] = await sub.waitFor((m) => m.length >= 1);
    expect(message.errors).toBeUndefined();
    expect(message.data?.deliveryUpdated).toEqual({
      id: recordEvent.deliveries[0].id, status: 'PENDING', attempts: 0, network: { id: network.id }, attemptLog: [], event: { id: recordEvent.event.id, advertisingId: null },
    });
  });

  it('gives a partner only its own network\'s updates, even with no filter, with LAT identifiers hidden', async () => {
    const app = await fx.app();
    const mine = await fx.network();
    const theirs = await fx.network();
    await fx.callback({ appId: app.id, networkId: mine.id });
    await fx.callback({ appId: app.id, networkId: theirs.id });
    await fx.callback({ appId: app.id });
    const partner = subscribe<Update>(await fx.partnerKey(mine.id), UPDATES);
    await untilLive(partner, app.id);
    for (let i = 0; i < 5; i++) {
      await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'install', advertisingId: 'IFA-1', limitAdTracking: true } });
    }
    const admin = subscribe<Update>(TEST_ADMIN_SECRET, UPDATES, { appId: app.id });
    await untilLive(admin, app.id);
    await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'final' } });
    await admin.waitFor((m) => m.length >= 3);
    // Five events, the final one and the admin's warm-ups each queue one delivery to `mine`.
    await partner.waitFor((m) => m.length >= 7);
    const networks = new Set(partner.messages.map((m) => m.data?.deliveryUpdated.network?.id));
    expect([...networks]).toEqual([mine.id]);
    expect(partner.messages.every((m) => m.data?.deliveryUpdated.event.advertisingId === null)).toBe(true);
  });

  it('refuses subscriptions outside a key\'s scope with FORBIDDEN', async () => {
    const app = await fx.app();
    const other = await fx.app();
    const mine = await fx.network();
    const theirs = await fx.network();
    const theirCallback = await fx.callback({ appId: app.id, networkId: theirs.id });
    const partnerKey = await fx.partnerKey(mine.id);
    const sdkKey = await fx.sdkKey(app.id);
    for (const [secret, variables] of [
      [partnerKey, { networkId: theirs.id }],
      [partnerKey, { appId: other.id }],
      [partnerKey, { callbackId: theirCallback.id }],
      [sdkKey, { appId: other.id }],
    ] as const) {
      const sub = subscribe(secret, UPDATES, variables);
      const errors = await subscriptionErrors(sub);
      expect(errors[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('lets an SDK key watch its app\'s statuses', async () => {
    const app = await fx.app();
    await fx.callback({ appId: app.id });
    const sub = subscribe<Update>(await fx.sdkKey(app.id), STATUS_ONLY);
    await untilLive(sub, app.id);
    const { recordEvent } = await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'x' } });
    await sub.waitFor((m) => m.some((x) => x.data?.deliveryUpdated.id === recordEvent.deliveries[0].id));
  });

  it('closes the socket of a key when it is revoked, and refuses bad keys', async () => {
    const app = await fx.app();
    await fx.callback({ appId: app.id });
    const network = await fx.network();
    const secret = await fx.partnerKey(network.id);
    const keyId = (await t.admin.ok(ApiKeysDocument)).apiKeys.at(-1)!.id;
    const sub = subscribe<Update>(secret, UPDATES);
    await new Promise((r) => setTimeout(r, 300));
    await t.admin.ok(RevokeApiKeyDocument, { id: keyId });
    expect((await sub.closed).code).toBe(4403);

    expect((await subscribe(null, UPDATES).closed).code).toBe(4401);
  });

  it.each(['network', 'app'] as const)('revokes the keys of a deleted %s at once: sockets closed, HTTP refused', async (owner) => {
    const network = await fx.network();
    const app = await fx.app();
    const secret = owner === 'network' ? await fx.partnerKey(network.id) : await fx.sdkKey(app.id);
    const sub = subscribe<Update>(secret, owner === 'network' ? UPDATES : STATUS_ONLY);
    await new Promise((r) => setTimeout(r, 300));
    // Used once over HTTP, so the key sits in this process's key cache.
    expect((await t.anonymous.as(secret).request(`query { deliveries(first: 1) { edges { cursor } } }`)).errors).toBeUndefined();
    const deletedAt = Date.now();
    if (owner === 'network') await t.admin.ok(`mutation($id: ID!) { deleteNetwork(id: $id) }`, { id: network.id });
    else await t.admin.ok(`mutation($id: ID!) { deleteApp(id: $id) }`, { id: app.id });
    const refused = await t.anonymous.as(secret).request(`query { deliveries(first: 1) { edges { cursor } } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // Well before the 5 s key sweep that catches revocations this process was not told of.
    const closed = await Promise.race([sub.closed, new Promise<null>((r) => setTimeout(() => r(null), 2_000))]);
    expect(closed?.code).toBe(4403);
    expect(Date.now() - deletedAt).toBeLessThan(2_000);
    expect((await subscribe('pb_partner_not-a-key', UPDATES).closed).code).toBe(4403);
  });
});

describe.each(testDatabases())('deliveryUpdated on %s with the inline dispatcher', (kind) => {
  let t: TestService;
  let fx: ReturnType<typeof configurationFixtures>;
  let receiver: Receiver;
  let sub: TestSubscription<Update> | null = null;
  beforeAll(async () => {
    receiver = await new Receiver().start();
    t = await startTestService(kind, { DISPATCHER: 'inline', DISPATCH_BACKOFF_BASE_MS: '50', DISPATCH_BACKOFF_MAX_MS: '200' });
    fx = configurationFixtures(t.admin);
  });
  afterEach(async () => {
    await sub?.close();
    receiver.reset();
  });
  afterAll(async () => {
    await t?.stop();
    await receiver?.stop();
  });

  async function watch(appId: string): Promise<TestSubscription<Update>> {
    const s = new TestSubscription<Update>(t.service.url, TEST_ADMIN_SECRET, UPDATES, { appId });
    for (let i = 0; i < 100 && s.messages.length === 0; i++) {
      await t.admin.ok(RecordEventDocument, { input: { appId, name: 'warm-up' } });
      await s.waitFor((m) => m.length > 0, 100).catch(() => undefined);
    }
    await s.waitFor((m) => m.length > 0);
    return s;
  }
  const statusesOf = (s: TestSubscription<Update>, id: string) => s.messages.map((m) => m.data?.deliveryUpdated).filter((d) => d?.id === id);

  it('follows a delivery from PENDING to DELIVERED, with the attempt log at each step', async () => {
    const app = await fx.app();
    await fx.callback({ appId: app.id, eventNames: ['install'], urlTemplate: receiver.url('/ok') });
    await fx.callback({ appId: app.id, eventNames: ['warm-up'], urlTemplate: receiver.url('/warm') });
    sub = await watch(app.id);
    const { recordEvent } = await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'install' } });
    const id = recordEvent.deliveries[0].id;
    await sub.waitFor(() => statusesOf(sub!, id).some((d) => d?.status === 'DELIVERED'));
    expect(statusesOf(sub, id).map((d) => [d?.status, d?.attemptLog.length])).toEqual([['PENDING', 0], ['SENDING', 0], ['DELIVERED', 1]]);
  });

  it('follows a failing delivery through RETRYING to FAILED', async () => {
    const app = await fx.app();
    receiver.respond((req, res) => {
      res.statusCode = req.url.startsWith('/fail') ? 500 : 200;
      res.end();
    });
    await fx.callback({ appId: app.id, eventNames: ['install'], maxAttempts: 2, urlTemplate: receiver.url('/fail') });
    await fx.callback({ appId: app.id, eventNames: ['warm-up'], urlTemplate: receiver.url('/warm') });
    sub = await watch(app.id);
    const { recordEvent } = await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'install' } });
    const id = recordEvent.deliveries[0].id;
    await sub.waitFor(() => statusesOf(sub!, id).some((d) => d?.status === 'FAILED'));
    expect(statusesOf(sub, id).map((d) => [d?.status, d?.attempts, d?.attemptLog.length])).toEqual([
      ['PENDING', 0, 0], ['SENDING', 0, 0], ['RETRYING', 1, 1], ['SENDING', 1, 1], ['FAILED', 2, 2],
    ]);
  });
});
