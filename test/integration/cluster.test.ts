import { CreateAppDocument, CreateCallbackDocument, RecordEventDocument, UpdateCallbackDocument } from '../generated/graphql';
import { ApiProcess } from '../support/api-process';
import { createTestDatabase, TestDatabase, testDatabases } from '../support/databases';
import { unique } from '../support/fixtures';
import { GraphQLClient } from '../support/graphql-client';
import { Receiver } from '../support/receiver';
import { redisAvailable, TEST_REDIS_URL } from '../support/redis';
import { TestSubscription } from '../support/subscription-client';
import { TEST_ADMIN_SECRET } from '../support/test-service';
import { WorkerProcess } from '../support/worker-process';

type Update = { deliveryUpdated: { id: string; status: string; attempts: number; attemptLog: { number: number; statusCode: number | null }[] } };
const UPDATES = `subscription($appId: ID) { deliveryUpdated(appId: $appId) { id status attempts attemptLog { number statusCode } } }`;

const runs = testDatabases().includes('mysql') && redisAvailable();

/**
 * The deployment of the contract: two API processes and a separate worker against one MySQL,
 * fanned out through Redis. A partner subscribed on API 1 sees every status of a postback
 * recorded on API 2 and sent by the worker.
 */
(runs ? describe : describe.skip)('two API processes and a worker on MySQL + Redis', () => {
  let db: TestDatabase;
  let receiver: Receiver;
  let api1: ApiProcess;
  let api2: ApiProcess;
  let worker: WorkerProcess;
  let url1: string;
  let url2: string;
  const subscriptions: TestSubscription<unknown>[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    receiver = new Receiver();
    await receiver.start();
    const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, ADMIN_API_KEY: TEST_ADMIN_SECRET, DISPATCH_ALLOW_PRIVATE: 'true', LOG_LEVEL: 'info' };
    // API 1 applies the migrations; the others start once it listens.
    api1 = new ApiProcess({ ...env, DISPATCHER: 'off' });
    url1 = await api1.ready;
    api2 = new ApiProcess({ ...env, DISPATCHER: 'off' });
    url2 = await api2.ready;
    worker = new WorkerProcess({ ...env, DISPATCH_BACKOFF_BASE_MS: '100', DISPATCH_BACKOFF_MAX_MS: '1000' });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(subscriptions.map((s) => s.close()));
    await Promise.all([api1?.stop(), api2?.stop(), worker?.kill('SIGTERM')]);
    await receiver?.stop();
    await db?.drop();
  }, 60_000);

  it('delivers every status change made on any process to a subscriber on API 1', async () => {
    const admin1 = new GraphQLClient(url1, TEST_ADMIN_SECRET);
    const admin2 = new GraphQLClient(url2, TEST_ADMIN_SECRET);
    const app = (await admin1.ok(CreateAppDocument, { input: { name: 'Cluster', bundleId: unique('com.example.cluster'), platform: 'ANDROID' } })).createApp;
    await admin1.ok(CreateCallbackDocument, { input: { appId: app.id, name: 'to receiver', urlTemplate: receiver.url('/pb?e={{event_name}}&d={{delivery_id}}') } });

    const sub = new TestSubscription<Update>(url1, TEST_ADMIN_SECRET, UPDATES, { appId: app.id });
    subscriptions.push(sub as TestSubscription<unknown>);
    // graphql-ws does not acknowledge a subscription: warm up until one update makes it through.
    for (let i = 0; i < 100 && sub.messages.length === 0; i++) {
      await admin2.ok(RecordEventDocument, { input: { appId: app.id, name: 'warm-up' } });
      await sub.waitFor((m) => m.length > 0, 200).catch(() => undefined);
    }
    await sub.waitFor((m) => m.length > 0);

    const { recordEvent } = await admin2.ok(RecordEventDocument, { input: { appId: app.id, name: 'purchase' } });
    const deliveryId = recordEvent.deliveries[0].id;
    const mine = () => sub.messages.map((m) => m.data?.deliveryUpdated).filter((d) => d?.id === deliveryId);
    await sub.waitFor(() => mine().some((d) => d?.status === 'DELIVERED'), 30_000, `DELIVERED for ${deliveryId}`);
    expect(mine().map((d) => d?.status)).toEqual(['PENDING', 'SENDING', 'DELIVERED']);
    expect(mine().at(-1)).toMatchObject({ attempts: 1, attemptLog: [{ number: 1, statusCode: 200 }] });
    expect(receiver.received.filter((r) => r.headers['webhook-id'] === deliveryId)).toHaveLength(1);
  }, 90_000);

  it('reaches the other API process\'s routing cache at once when a callback changes', async () => {
    const admin1 = new GraphQLClient(url1, TEST_ADMIN_SECRET);
    const admin2 = new GraphQLClient(url2, TEST_ADMIN_SECRET);
    const app = (await admin1.ok(CreateAppDocument, { input: { name: 'Cache', bundleId: unique('com.example.cache'), platform: 'IOS' } })).createApp;
    const callback = (await admin1.ok(CreateCallbackDocument, { input: { appId: app.id, name: 'cb', urlTemplate: receiver.url('/v1') } })).createCallback;
    expect((await admin2.ok(RecordEventDocument, { input: { appId: app.id, name: 'x' } })).recordEvent.deliveries[0].url).toBe(receiver.url('/v1'));
    await admin1.ok(UpdateCallbackDocument, { id: callback.id, input: { urlTemplate: receiver.url('/v2') } });
    // Without the fan-out, API 2 would keep rendering /v1 for up to CONFIG_CACHE_TTL_MS (5 s).
    const changedAt = Date.now();
    let url = '';
    while (Date.now() - changedAt < 2000) {
      url = (await admin2.ok(RecordEventDocument, { input: { appId: app.id, name: 'x' } })).recordEvent.deliveries[0].url;
      if (url.endsWith('/v2')) break;
    }
    expect(url).toBe(receiver.url('/v2'));
  }, 60_000);
});
