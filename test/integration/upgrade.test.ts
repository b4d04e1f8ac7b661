import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config';
import { startService, RunningService } from '../../src/app';
import { InitialSchema1764093600000 } from '../fixtures/release-7163edf/1764093600000-InitialSchema';
import { DeliveryDueAtIndex1795639200000 } from '../fixtures/release-7163edf/1795639200000-DeliveryDueAtIndex';
import { WiderRenderedColumns1795650000000 } from '../fixtures/release-7163edf/1795650000000-WiderRenderedColumns';
import { AppByIdDocument, AppsDocument, CallbackByIdDocument, DeliveryByIdDocument, EventByIdDocument, NetworksDocument, RecordEventDocument } from '../generated/graphql';
import { createTestDatabase, TestDatabase, testDatabases } from '../support/databases';
import { GraphQLClient } from '../support/graphql-client';
import { Receiver, waitFor } from '../support/receiver';
import { TEST_ADMIN_SECRET } from '../support/test-service';

/** What release 7163edf ran: its three migrations, in a database it created itself (utf8mb4_bin). */
const RELEASE_MIGRATIONS = [InitialSchema1764093600000, DeliveryDueAtIndex1795639200000, WiderRenderedColumns1795650000000];

const STATUSES = ['PENDING', 'SENDING', 'RETRYING', 'DELIVERED', 'FAILED'] as const;

/** 'YYYY-MM-DD HH:MM:SS.mmm' in UTC: how both databases held times in that release. */
const sqlTime = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '');

interface Seeded {
  appId: string;
  deletedAppId: string;
  networkId: string;
  callbackId: string;
  events: Record<(typeof STATUSES)[number], string>;
  deliveries: Record<(typeof STATUSES)[number], string>;
}

async function buildReleaseDatabase(db: TestDatabase, receiver: Receiver): Promise<Seeded> {
  const dataSource = new DataSource(
    db.config.type === 'sqlite'
      ? { type: 'better-sqlite3', database: db.config.path, migrations: RELEASE_MIGRATIONS }
      : { type: 'mysql', host: db.config.host, port: db.config.port, username: db.config.user, password: db.config.password, database: db.config.database, timezone: 'Z', charset: 'utf8mb4_bin', migrations: RELEASE_MIGRATIONS },
  );
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    const insert = (table: string, row: Record<string, unknown>) => {
      const columns = Object.keys(row);
      const q = (name: string) => (db.kind === 'mysql' ? `\`${name}\`` : `"${name}"`);
      return dataSource.query(`INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, Object.values(row));
    };
    const created = new Date(Date.now() - 3_600_000);
    const t = sqlTime(created);
    const appId = randomUUID();
    const deletedAppId = randomUUID();
    const networkId = randomUUID();
    const callbackId = randomUUID();
    await insert('app', { id: appId, name: 'Old game ✓', bundleId: 'com.example.old', platform: 'IOS', createdAt: t, updatedAt: t, deletedAt: null, isLive: 1 });
    await insert('app', { id: deletedAppId, name: 'Gone', bundleId: 'com.example.gone', platform: 'ANDROID', createdAt: t, updatedAt: t, deletedAt: t, isLive: null });
    await insert('network', { id: networkId, name: 'Old network', slug: 'oldnet', createdAt: t, updatedAt: t, deletedAt: null, isLive: 1 });
    await insert('callback', {
      id: callbackId, appId, networkId, name: 'old callback', enabled: 1, method: 'GET',
      urlTemplate: `${receiver.url('/new')}?e={{event_name}}`, bodyTemplate: null, headers: '[]', eventNames: '[]',
      attributedOnly: 0, maxAttempts: 5, timeoutMs: 5000, signingSecret: null, createdAt: t, updatedAt: t, deletedAt: null,
    });
    const events = {} as Seeded['events'];
    const deliveries = {} as Seeded['deliveries'];
    for (const status of STATUSES) {
      const eventRowId = randomUUID();
      events[status] = eventRowId;
      await insert('event', {
        id: eventRowId, appId, eventId: `old-${status}`, name: 'purchase', occurredAt: t, receivedAt: t, advertisingId: null,
        ipAddress: '203.0.113.9', userAgent: null, country: 'DE', platform: 'IOS', campaignId: 'c1', networkId, networkSlug: 'oldnet',
        revenue: 4.99, currency: 'EUR', limitAdTracking: 0, params: JSON.stringify({ level: '7' }),
      });
      const deliveryId = randomUUID();
      deliveries[status] = deliveryId;
      const live = status === 'PENDING' || status === 'SENDING' || status === 'RETRYING';
      const tried = status === 'PENDING' ? 0 : status === 'FAILED' ? 5 : 1;
      await insert('delivery', {
        id: deliveryId, eventId: eventRowId, callbackId, appId, networkId, status, method: 'GET',
        url: receiver.url(`/old/${status}`), body: null, headers: '[]', timeoutMs: 5000, attempts: status === 'SENDING' ? 0 : tried, maxAttempts: 5,
        lastStatusCode: status === 'DELIVERED' ? 200 : status === 'PENDING' || status === 'SENDING' ? null : 503,
        lastError: status === 'FAILED' || status === 'RETRYING' ? 'HTTP 503' : null,
        // A SENDING row's lease (dueAt) ran out when its worker died with the old release.
        nextAttemptAt: live ? t : null, dueAt: live ? t : null, leaseOwner: status === 'SENDING' ? 'old-worker' : null,
        deliveredAt: status === 'DELIVERED' ? t : null, createdAt: t, updatedAt: t,
      });
      if (status !== 'PENDING' && status !== 'SENDING') {
        for (let n = 1; n <= tried; n++) {
          await insert('delivery_attempt', {
            id: randomUUID(), deliveryId, number: n, startedAt: t, statusCode: status === 'DELIVERED' ? 200 : 503, latencyMs: 12,
            error: status === 'DELIVERED' ? null : 'HTTP 503', responseSnippet: 'old',
          });
        }
      }
    }
    return { appId, deletedAppId, networkId, callbackId, events, deliveries };
  } finally {
    await dataSource.destroy();
  }
}

describe.each(testDatabases())('upgrade from release 7163edf on %s', (kind) => {
  let db: TestDatabase;
  let receiver: Receiver;
  let seeded: Seeded;
  let service: RunningService;
  let admin: GraphQLClient;

  beforeAll(async () => {
    db = await createTestDatabase(kind, { charset: 'utf8mb4', collation: 'utf8mb4_bin' });
    receiver = await new Receiver().start();
    seeded = await buildReleaseDatabase(db, receiver);
    const config = loadConfig({
      PORT: '0', DATABASE_URL: db.url, ADMIN_API_KEY: TEST_ADMIN_SECRET, DISPATCHER: 'inline', DISPATCH_ALLOW_PRIVATE: 'true',
      DISPATCH_BACKOFF_BASE_MS: '50', DISPATCH_LEASE_MS: '1000',
    });
    service = await startService(config, { logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
    admin = new GraphQLClient(service.url, TEST_ADMIN_SECRET);
  });
  afterAll(async () => {
    await service?.stop();
    await receiver?.stop();
    await db?.drop();
  });

  it('reads back every configuration row through the API', async () => {
    const apps = (await admin.ok(AppsDocument)).apps;
    expect(apps.map((a) => a.id)).toEqual([seeded.appId]);
    const app = (await admin.ok(AppByIdDocument, { id: seeded.appId })).app;
    expect(app).toMatchObject({ name: 'Old game ✓', bundleId: 'com.example.old', platform: 'IOS', callbacks: [{ id: seeded.callbackId }] });
    expect((await admin.ok(NetworksDocument)).networks).toEqual([expect.objectContaining({ id: seeded.networkId, slug: 'oldnet' })]);
    const callback = (await admin.ok(CallbackByIdDocument, { id: seeded.callbackId })).callback;
    expect(callback).toMatchObject({ name: 'old callback', enabled: true, maxAttempts: 5, headers: [], eventNames: [], network: { slug: 'oldnet' } });
  });

  it('reads back every event, and the finished deliveries as they were', async () => {
    for (const status of STATUSES) {
      const event = (await admin.ok(EventByIdDocument, { id: seeded.events[status] })).event;
      expect(event).toMatchObject({ eventId: `old-${status}`, name: 'purchase', revenue: 4.99, currency: 'EUR', params: { level: '7' }, network: { slug: 'oldnet' } });
    }
    const delivered = (await admin.ok(DeliveryByIdDocument, { id: seeded.deliveries.DELIVERED })).delivery;
    expect(delivered).toMatchObject({ status: 'DELIVERED', attempts: 1, lastStatusCode: 200 });
    const failed = (await admin.ok(DeliveryByIdDocument, { id: seeded.deliveries.FAILED })).delivery;
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 5, lastError: 'HTTP 503' });
  });

  it('sends the deliveries the old release left PENDING, RETRYING and SENDING (lease run out) to the receiver', async () => {
    for (const status of ['PENDING', 'RETRYING', 'SENDING'] as const) {
      await waitFor(
        async () => (await admin.ok(DeliveryByIdDocument, { id: seeded.deliveries[status] })).delivery?.status,
        (value) => value === 'DELIVERED',
        { what: `the old ${status} delivery to be delivered` },
      );
      expect(receiver.received.some((r) => r.url === `/old/${status}`)).toBe(true);
    }
    expect(receiver.received.some((r) => r.url === '/old/DELIVERED' || r.url === '/old/FAILED')).toBe(false);
  });

  it('records and delivers a new event for the old callback', async () => {
    const recorded = (await admin.ok(RecordEventDocument, { input: { appId: seeded.appId, name: 'install', eventId: 'new-1', network: 'oldnet' } })).recordEvent;
    expect(recorded.deliveries).toHaveLength(1);
    await waitFor(() => receiver.received.filter((r) => r.url === '/new?e=install').length, (n) => n === 1, { what: 'the new postback' });
  });
});
