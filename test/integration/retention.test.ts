import { randomBytes } from 'node:crypto';
import {
  CreateApiKeyDocument, CreateAppDocument, CreateCallbackDocument, CreateNetworkDocument, DeleteAppDocument, DeleteNetworkDocument,
  DeliveryStatusByIdDocument, EventByIdDocument, RecordEventDocument,
} from '../generated/graphql';
import { retentionCutoff, retentionLockName } from '../../src/retention/retention';
import { testDatabases } from '../support/databases';
import { Receiver, waitFor } from '../support/receiver';
import { startTestService, TestService } from '../support/test-service';

const DAY_MS = 86_400_000;

describe('retentionCutoff', () => {
  it('is RETENTION_DAYS before now, and null with 0 (keep everything)', () => {
    const now = new Date('2026-03-31T12:00:00.000Z');
    expect(retentionCutoff(now, 30)?.toISOString()).toBe('2026-03-01T12:00:00.000Z');
    expect(retentionCutoff(now, 0)).toBeNull();
  });
});

describe.each(testDatabases())('retention on %s', (kind) => {
  let t: TestService;
  let receiver: Receiver;
  const q = (name: string) => (kind === 'mysql' ? `\`${name}\`` : `"${name}"`);
  const sql = (text: string, params: unknown[] = []) => t.service.services.dataSource.query(text.replace(/"(\w+)"/g, (_m, name) => q(name)), params);
  const time = (date: Date) => (kind === 'mysql' ? date : date.toISOString().replace('T', ' ').replace('Z', ''));
  const count = async (table: string, where = '1 = 1', params: unknown[] = []) => Number((await sql(`SELECT COUNT(*) AS n FROM "${table}" WHERE ${where}`, params))[0].n);
  const old = () => time(new Date(Date.now() - 40 * DAY_MS));

  beforeAll(async () => {
    receiver = await new Receiver().start();
    receiver.respond((req, res) => {
      res.statusCode = req.url?.startsWith('/gone') ? 400 : req.url?.startsWith('/retry') ? 503 : 200;
      res.end('r');
    });
    t = await startTestService(kind, {
      DISPATCHER: 'inline', RETENTION_DAYS: '30', RETENTION_BATCH_SIZE: '2', RETENTION_PAUSE_MS: '0', RETENTION_INTERVAL_MS: '86400000',
      DISPATCH_BACKOFF_BASE_MS: '3600000',
    });
  });
  afterAll(async () => {
    await t?.stop();
    await receiver?.stop();
  });

  const tag = () => randomBytes(3).toString('hex');
  async function appWithCallbacks() {
    const app = (await t.admin.ok(CreateAppDocument, { input: { name: 'Ret', bundleId: `com.ret.${tag()}`, platform: 'ANDROID' } })).createApp;
    for (const path of ['ok', 'gone', 'retry']) {
      await t.admin.ok(CreateCallbackDocument, { input: { appId: app.id, name: path, urlTemplate: receiver.url(`/${path}`), eventNames: [path], maxAttempts: 5 } });
    }
    return app;
  }
  async function record(appId: string, name: string) {
    const { event, deliveries } = (await t.admin.ok(RecordEventDocument, { input: { appId, name, eventId: `${name}-${tag()}` } })).recordEvent;
    return { eventId: event.id, deliveryId: deliveries[0]?.id ?? null };
  }
  const statusOf = async (id: string) => (await t.admin.ok(DeliveryStatusByIdDocument, { id })).delivery?.status ?? null;
  const settle = (id: string, status: string) => waitFor(() => statusOf(id), (s) => s === status, { what: `delivery ${id} to be ${status}` });
  const backdate = async (eventIds: string[]) => {
    for (const id of eventIds) {
      await sql('UPDATE "event" SET "receivedAt" = ? WHERE "id" = ?', [old(), id]);
      await sql('UPDATE "delivery" SET "createdAt" = ? WHERE "eventId" = ?', [old(), id]);
    }
  };

  it('deletes old finished deliveries, their attempts and events; keeps what is in progress or recent; counts it', async () => {
    const app = await appWithCallbacks();
    const delivered = await Promise.all([1, 2, 3].map(() => record(app.id, 'ok')));
    const failed = await record(app.id, 'gone');
    const retrying = await record(app.id, 'retry');
    const pending = await record(app.id, 'ok');
    const bare = await record(app.id, 'nothing-fires');
    const recent = await record(app.id, 'ok');
    for (const d of [...delivered, pending, recent]) await settle(d.deliveryId as string, 'DELIVERED');
    await settle(failed.deliveryId as string, 'FAILED');
    await settle(retrying.deliveryId as string, 'RETRYING');
    // As if it were redelivered and is queued again: PENDING, due far ahead.
    await sql('UPDATE "delivery" SET "status" = \'PENDING\', "dueAt" = ? WHERE "id" = ?', [time(new Date(Date.now() + DAY_MS)), pending.deliveryId]);
    await backdate([...delivered, failed, retrying, pending, bare].map((d) => d.eventId));
    const purgedIds = [...delivered, failed].map((d) => d.deliveryId as string);
    expect(await count('delivery_attempt', `"deliveryId" IN (${purgedIds.map(() => '?').join(', ')})`, purgedIds)).toBe(4);

    const purged = await t.service.retention.runPass();
    expect(purged).toMatchObject({ delivery: 4, delivery_attempt: 4, event: 5 });

    for (const d of [...delivered, failed]) {
      expect(await statusOf(d.deliveryId as string)).toBeNull();
      expect((await t.admin.ok(EventByIdDocument, { id: d.eventId })).event).toBeNull();
    }
    expect(await count('delivery_attempt', `"deliveryId" IN (${purgedIds.map(() => '?').join(', ')})`, purgedIds)).toBe(0);
    expect((await t.admin.ok(EventByIdDocument, { id: bare.eventId })).event).toBeNull();
    // In progress: the delivery and its event stay, however old.
    expect(await statusOf(retrying.deliveryId as string)).toBe('RETRYING');
    expect(await statusOf(pending.deliveryId as string)).toBe('PENDING');
    expect((await t.admin.ok(EventByIdDocument, { id: retrying.eventId })).event?.id).toBe(retrying.eventId);
    expect((await t.admin.ok(EventByIdDocument, { id: pending.eventId })).event?.id).toBe(pending.eventId);
    // Within the window: untouched.
    expect(await statusOf(recent.deliveryId as string)).toBe('DELIVERED');
    expect((await t.admin.ok(EventByIdDocument, { id: recent.eventId })).event?.id).toBe(recent.eventId);

    const metrics = await t.service.services.metrics.registry.getSingleMetricAsString('postbacks_purged_rows_total');
    expect(metrics).toMatch(/postbacks_purged_rows_total\{table="delivery"\} \d+/);
    expect(metrics).toMatch(/postbacks_purged_rows_total\{table="event"\} \d+/);

    // A second pass finds nothing more.
    expect(Object.values((await t.service.retention.runPass()) ?? {}).every((n) => n === 0)).toBe(true);
  });

  it('deletes touchpoints whose attribution memory has ended, and keeps those still remembered', async () => {
    const app = await appWithCallbacks();
    const slug = `ret${tag()}`;
    await t.admin.ok(CreateNetworkDocument, { input: { name: 'Ret Ads', slug } });
    const install = async (deviceId: string) =>
      (await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'install', eventId: `install-${tag()}`, network: slug, deviceId } })).recordEvent.event.id;
    const ended = await install(`dev-ended-${tag()}`);
    const remembered = await install(`dev-kept-${tag()}`);
    expect(await count('attribution_touchpoint', '"eventUuid" IN (?, ?)', [ended, remembered])).toBe(2);
    await sql('UPDATE "attribution_touchpoint" SET "expiresAt" = ? WHERE "eventUuid" = ?', [time(new Date(Date.now() - DAY_MS)), ended]);

    const purged = await t.service.retention.runPass();
    expect(purged?.attribution_touchpoint).toBeGreaterThanOrEqual(1);
    expect(await count('attribution_touchpoint', '"eventUuid" = ?', [ended])).toBe(0);
    expect(await count('attribution_touchpoint', '"eventUuid" = ?', [remembered])).toBe(1);
    const metrics = await t.service.services.metrics.registry.getSingleMetricAsString('postbacks_purged_rows_total');
    expect(metrics).toMatch(/postbacks_purged_rows_total\{table="attribution_touchpoint"\} [1-9]/);
  });

  it('removes soft-deleted apps, callbacks, keys and networks once their history is gone, and not before', async () => {
    const app = await appWithCallbacks();
    const done = await record(app.id, 'ok');
    await settle(done.deliveryId as string, 'DELIVERED');
    await t.admin.ok(CreateApiKeyDocument, { input: { name: 'sdk', role: 'SDK', appId: app.id } });
    await t.admin.ok(DeleteAppDocument, { id: app.id });
    const gone = (await t.admin.ok(CreateNetworkDocument, { input: { name: 'Gone', slug: `gone${tag()}` } })).createNetwork;
    const fresh = (await t.admin.ok(CreateNetworkDocument, { input: { name: 'Fresh', slug: `fresh${tag()}` } })).createNetwork;
    await t.admin.ok(DeleteNetworkDocument, { id: gone.id });
    await t.admin.ok(DeleteNetworkDocument, { id: fresh.id });
    await sql('UPDATE "app" SET "deletedAt" = ? WHERE "id" = ?', [old(), app.id]);
    await sql('UPDATE "callback" SET "deletedAt" = ? WHERE "appId" = ?', [old(), app.id]);
    await sql('UPDATE "api_key" SET "revokedAt" = ? WHERE "appId" = ?', [old(), app.id]);
    await sql('UPDATE "network" SET "deletedAt" = ? WHERE "id" = ?', [old(), gone.id]);

    // The app's history (a recent event and its delivery) is still there: the app and the callback
    // that delivered stay; its two callbacks that never fired have no history and go.
    await t.service.retention.runPass();
    expect(await count('app', '"id" = ?', [app.id])).toBe(1);
    expect(await count('api_key', '"appId" = ?', [app.id])).toBe(0);
    expect((await sql('SELECT "name" FROM "callback" WHERE "appId" = ?', [app.id])).map((r: { name: string }) => r.name)).toEqual(['ok']);
    expect(await count('network', '"id" = ?', [gone.id])).toBe(0);
    expect(await count('network', '"id" = ?', [fresh.id])).toBe(1);

    await backdate([done.eventId]);
    const purged = await t.service.retention.runPass();
    expect(purged).toMatchObject({ delivery: 1, event: 1, callback: 1, app: 1 });
    expect(await count('app', '"id" = ?', [app.id])).toBe(0);
    expect(await count('callback', '"appId" = ?', [app.id])).toBe(0);
  });

  if (kind === 'mysql') {
    it('runs in one process at a time: a pass skips while another holds the lock', async () => {
      const mysql = await import('mysql2/promise');
      const c = t.config.database as Extract<typeof t.config.database, { type: 'mysql' }>;
      const other = await mysql.createConnection({ host: c.host, port: c.port, user: c.user, password: c.password, database: c.database });
      try {
        const [rows] = await other.query('SELECT GET_LOCK(?, 0) AS got', [retentionLockName(c.database)]);
        expect(Number((rows as Array<{ got: number }>)[0]?.got)).toBe(1);
        expect(await t.service.retention.runPass()).toBeNull();
        await other.query('SELECT RELEASE_LOCK(?)', [retentionLockName(c.database)]);
        expect(await t.service.retention.runPass()).not.toBeNull();
      } finally {
        await other.end();
      }
    });
  }
});

describe('retention with RETENTION_DAYS=0', () => {
  it('keeps everything', async () => {
    const t = await startTestService('sqlite', { RETENTION_DAYS: '0' });
    try {
      expect(await t.service.retention.runPass()).toBeNull();
    } finally {
      await t.stop();
    }
  });
});
