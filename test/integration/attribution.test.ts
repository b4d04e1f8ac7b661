// Attribution memory and partner rules end to end: events recorded through GraphQL, postbacks
// sent by the inline dispatcher to a real receiver, on SQLite and MySQL.
import {
  BuiltInMacrosDocument,
  CreateAttributedAppDocument,
  CreateMacroDocument,
  CreateRuledCallbackDocument,
  PartnerDeliveryDocument,
  AttributedEventByIdDocument,
  PreviewRuledDocument,
  RecordAttributedEventDocument,
  RecordAttributedEventsDocument,
  RecordEventInput,
  UpdateAttributedAppDocument,
  UpdateRuledCallbackDocument,
  CreateCallbackInput,
} from '../generated/graphql';
import { Attribution1796000000000 } from '../../migrations/1796000000000-Attribution';
import { deleteExpiredTouchpoints } from '../../src/attribution/touchpoint.statements';
import { createTestDatabase, testDatabases } from '../support/databases';
import { createDataSource } from '../../src/db/data-source';
import { configurationFixtures, unique } from '../support/fixtures';
import { Receiver, waitFor, type ReceivedPostback } from '../support/receiver';
import { startTestService, TestService } from '../support/test-service';

const DAY = 24 * 60 * 60 * 1000;

describe.each(testDatabases())('attribution and partner rules on %s', (kind) => {
  let t: TestService;
  let fx: ReturnType<typeof configurationFixtures>;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await new Receiver().start();
    t = await startTestService(kind, { DISPATCHER: 'inline', DISPATCH_ALLOW_PRIVATE: 'true' });
    fx = configurationFixtures(t.admin);
  });
  afterAll(async () => {
    await t?.stop();
    await receiver?.stop();
  });

  const app = async (attributionMemoryDays?: number) =>
    (await t.admin.ok(CreateAttributedAppDocument, { input: { name: 'Puzzle', bundleId: unique('com.example.attr'), platform: 'IOS', attributionMemoryDays } })).createApp;
  const callback = async (input: Partial<CreateCallbackInput> & { appId: string }) =>
    (await t.admin.ok(CreateRuledCallbackDocument, { input: { name: unique('cb'), urlTemplate: 'https://postback.example/p', ...input } })).createCallback;
  const record = async (input: RecordEventInput) => (await t.admin.ok(RecordAttributedEventDocument, { input })).recordEvent;
  const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
  /** The query of the postback a delivery sent, as the receiver got it. */
  const sent = async (deliveryId: string): Promise<Record<string, string>> => {
    const [postback] = await waitFor<ReceivedPostback[]>(() => receiver.of(deliveryId), (r) => r.length > 0, { what: `postback ${deliveryId}` });
    return Object.fromEntries(new URL(postback.url, 'http://x').searchParams);
  };
  const ATTRIBUTION_QUERY = 'n={{network}}&c={{campaign_id}}&t={{attribution_type}}&at={{attributed_at}}&ia={{is_attributed}}&d={{days_since_attribution}}&e={{event_name}}';

  it('attributes a purchase with only the device id to the network of the install, and sends it to that network with its campaign', async () => {
    const a = await app();
    const netA = await fx.network();
    const netB = await fx.network();
    const toA = await callback({ appId: a.id, networkId: netA.id, attributedOnly: true, eventNames: ['purchase'], urlTemplate: receiver.url(`/a?${ATTRIBUTION_QUERY}`) });
    const toB = await callback({ appId: a.id, networkId: netB.id, attributedOnly: true, eventNames: ['purchase'], urlTemplate: receiver.url(`/b?${ATTRIBUTION_QUERY}`) });
    const installedAt = ago(2);
    const install = await record({ appId: a.id, name: 'install', network: netA.slug, campaignId: 'cmp-a', deviceId: 'idfv-1', advertisingId: 'ifa-1', occurredAt: installedAt });
    expect(install.event).toMatchObject({ attribution: 'INSTALL', attributionSource: 'SENT', attributedAt: installedAt, network: { id: netA.id } });

    const purchase = await record({ appId: a.id, name: 'purchase', deviceId: 'idfv-1', revenue: 4.99, currency: 'USD' });
    expect(purchase.event).toMatchObject({
      network: { id: netA.id }, networkSlug: netA.slug, campaignId: 'cmp-a', attribution: 'INSTALL', attributionSource: 'INHERITED', attributedAt: installedAt,
    });
    expect(purchase.deliveries.map((d) => d.callback.id)).toEqual([toA.id]);
    expect(toB.id).not.toBe(toA.id);
    expect(await sent(purchase.deliveries[0].id)).toEqual({ n: netA.slug, c: 'cmp-a', t: 'install', at: installedAt, ia: '1', d: '2', e: 'purchase' });

    // Stored as returned: read back, and an unrelated device stays unattributed.
    expect((await t.admin.ok(AttributedEventByIdDocument, { id: purchase.event.id })).event).toMatchObject({ attributionSource: 'INHERITED', campaignId: 'cmp-a' });
    // The advertising id matches in any case; device ids exactly.
    expect((await record({ appId: a.id, name: 'open', advertisingId: 'IFA-1' })).event.attributionSource).toBe('INHERITED');
    expect((await record({ appId: a.id, name: 'open', deviceId: 'IDFV-1' })).event.attributionSource).toBe('NONE');
    const stranger = await record({ appId: a.id, name: 'purchase', deviceId: 'idfv-other' });
    expect(stranger.event).toMatchObject({ network: null, networkSlug: null, attributionSource: 'NONE', attributedAt: null, attribution: null });
    expect(stranger.deliveries).toEqual([]);
  });

  it('moves later events to the network of a re-engagement, and keeps earlier ones with the install', async () => {
    const a = await app();
    const netA = await fx.network();
    const netB = await fx.network();
    await record({ appId: a.id, name: 'install', network: netA.slug, campaignId: 'cmp-a', deviceId: 'dev-r', customerUserId: 'user-r', occurredAt: ago(10) });
    const reengagedAt = ago(3);
    const reengagement = await record({ appId: a.id, name: 'open', network: netB.slug, campaignId: 'cmp-b', attribution: 'REENGAGEMENT', customerUserId: 'user-r', occurredAt: reengagedAt });
    expect(reengagement.event).toMatchObject({ attribution: 'REENGAGEMENT', attributionSource: 'SENT', attributedAt: reengagedAt });

    const later = await record({ appId: a.id, name: 'purchase', deviceId: 'dev-r' , customerUserId: 'user-r' });
    expect(later.event).toMatchObject({ network: { id: netB.id }, campaignId: 'cmp-b', attribution: 'REENGAGEMENT', attributionSource: 'INHERITED', attributedAt: reengagedAt });
    // Reported late, it occurred before the re-engagement: the install's.
    const earlier = await record({ appId: a.id, name: 'purchase', deviceId: 'dev-r', occurredAt: ago(5) });
    expect(earlier.event).toMatchObject({ network: { id: netA.id }, campaignId: 'cmp-a', attribution: 'INSTALL', attributionSource: 'INHERITED' });
    // Sent with the network, the event is SENT and dated by that network's touchpoint.
    const named = await record({ appId: a.id, name: 'purchase', network: netB.slug, customerUserId: 'user-r' });
    expect(named.event).toMatchObject({ attributionSource: 'SENT', attributedAt: reengagedAt, campaignId: null });
  });

  it('forgets a touchpoint after the app\'s attribution memory', async () => {
    const a = await app(2);
    expect(a.attributionMemoryDays).toBe(2);
    const netA = await fx.network();
    const toA = await callback({ appId: a.id, networkId: netA.id, attributedOnly: true });
    await record({ appId: a.id, name: 'install', network: netA.slug, advertisingId: 'ifa-m', occurredAt: ago(3) });
    const late = await record({ appId: a.id, name: 'purchase', advertisingId: 'ifa-m' });
    expect(late.event).toMatchObject({ attributionSource: 'NONE', network: null, attributedAt: null });
    expect(late.deliveries).toEqual([]);
    const inTime = await record({ appId: a.id, name: 'purchase', advertisingId: 'ifa-m', occurredAt: ago(1.5) });
    expect(inTime.event).toMatchObject({ attributionSource: 'INHERITED', network: { id: netA.id } });
    expect(inTime.deliveries.map((d) => d.callback.id)).toEqual([toA.id]);

    await t.admin.ok(UpdateAttributedAppDocument, { id: a.id, input: { attributionMemoryDays: 30 } });
    expect((await record({ appId: a.id, name: 'purchase', advertisingId: 'ifa-m' })).event.attributionSource).toBe('INHERITED');
  });

  it("never shares another partner's attribution: in postbacks and in what a PARTNER key reads", async () => {
    const a = await app();
    const netA = await fx.network();
    const netX = await fx.network();
    const toX = await callback({ appId: a.id, networkId: netX.id, urlTemplate: receiver.url(`/x?${ATTRIBUTION_QUERY}`) });
    const toA = await callback({ appId: a.id, networkId: netA.id, urlTemplate: receiver.url(`/a?${ATTRIBUTION_QUERY}`) });
    const own = await callback({ appId: a.id, urlTemplate: receiver.url(`/own?${ATTRIBUTION_QUERY}`) });
    const installedAt = ago(1);
    const install = await record({ appId: a.id, name: 'install', network: netA.slug, campaignId: 'cmp-a', deviceId: 'dev-m', occurredAt: installedAt });
    const purchase = await record({ appId: a.id, name: 'purchase', deviceId: 'dev-m' });
    const blank = { n: '', c: '', t: '', at: '', ia: '0', d: '' };
    const full = { n: netA.slug, c: 'cmp-a', t: 'install', at: installedAt, ia: '1' };
    for (const recorded of [install, purchase]) {
      const deliveryTo = (id: string) => recorded.deliveries.find((d) => d.callback.id === id)!.id;
      expect(await sent(deliveryTo(toX.id))).toMatchObject({ ...blank, e: recorded.event.name });
      expect(await sent(deliveryTo(toA.id))).toMatchObject(full);
      expect(await sent(deliveryTo(own.id))).toMatchObject(full);
    }
    // An unconfigured slug is attributed to no network: is_attributed 0 even for the advertiser.
    const ghost = await record({ appId: a.id, name: 'purchase', network: 'ghost-net', campaignId: 'cmp-g' });
    expect(await sent(ghost.deliveries.find((d) => d.callback.id === own.id)!.id)).toMatchObject({ n: 'ghost-net', c: 'cmp-g', ia: '0' });
    expect(await sent(ghost.deliveries.find((d) => d.callback.id === toX.id)!.id)).toMatchObject({ n: '', c: '', ia: '0' });

    const asX = t.admin.as(await fx.partnerKey(netX.id));
    const asA = t.admin.as(await fx.partnerKey(netA.id));
    const xDelivery = purchase.deliveries.find((d) => d.callback.id === toX.id)!;
    const aDelivery = purchase.deliveries.find((d) => d.callback.id === toA.id)!;
    const hidden = { network: null, networkSlug: null, campaignId: null, attribution: null, attributedAt: null };
    expect((await asX.ok(PartnerDeliveryDocument, { id: xDelivery.id })).delivery?.event).toMatchObject({ ...hidden, id: purchase.event.id, name: 'purchase', deviceId: 'dev-m' });
    expect((await asX.ok(AttributedEventByIdDocument, { id: purchase.event.id })).event).toMatchObject(hidden);
    expect((await asA.ok(PartnerDeliveryDocument, { id: aDelivery.id })).delivery?.event).toMatchObject({
      network: { id: netA.id }, networkSlug: netA.slug, campaignId: 'cmp-a', attribution: 'INSTALL', attributedAt: installedAt,
    });
  });

  it('renders the partner event name and withholds values and revenue as the mapping says', async () => {
    const a = await app();
    await t.admin.ok(CreateMacroDocument, { input: { appId: a.id, name: 'sku', source: 'PARAM', path: 'sku', defaultValue: 'n/a' } });
    const mapped = await callback({
      appId: a.id,
      eventNames: ['purchase', 'level_up', 'tutorial'],
      eventMappings: [{ eventName: 'purchase', partnerEventName: 'af_purchase', share: 'NONE' }, { eventName: 'level_up', partnerEventName: 'af_level', share: 'VALUES' }],
      urlTemplate: receiver.url('/m?e={{partner_event_name}}&own={{event_name}}&r={{revenue}}&cur={{currency}}&p={{params_json}}&sku={{sku}}'),
    });
    expect(mapped.eventMappings).toEqual([
      { eventName: 'purchase', partnerEventName: 'af_purchase', share: 'NONE' },
      { eventName: 'level_up', partnerEventName: 'af_level', share: 'VALUES' },
    ]);
    const event = { revenue: 9.99, currency: 'EUR', params: { sku: 'gems' } };
    const query = async (name: string) => sent((await record({ appId: a.id, name, ...event })).deliveries[0].id);
    expect(await query('purchase')).toEqual({ e: 'af_purchase', own: 'purchase', r: '', cur: '', p: '', sku: 'n/a' });
    expect(await query('level_up')).toEqual({ e: 'af_level', own: 'level_up', r: '', cur: '', p: '{"sku":"gems"}', sku: 'gems' });
    expect(await query('tutorial')).toEqual({ e: 'tutorial', own: 'tutorial', r: '9.99', cur: 'EUR', p: '{"sku":"gems"}', sku: 'gems' });
  });

  it('fires on each condition and refuses, naming it', async () => {
    const a = await app();
    const ruled = async (conditions: CreateCallbackInput['conditions']) => callback({ appId: a.id, conditions, urlTemplate: receiver.url('/c?e={{event_name}}') });
    const preview = async (callbackId: string, event: Omit<RecordEventInput, 'appId' | 'name'>) =>
      (await t.admin.ok(PreviewRuledDocument, { callbackId, event: { ...event, appId: a.id, name: 'purchase' } })).previewCallback;
    const cases: [CreateCallbackInput['conditions'], Omit<RecordEventInput, 'appId' | 'name'>, Omit<RecordEventInput, 'appId' | 'name'>, string][] = [
      [{ countries: ['us', 'CA'] }, { country: 'US' }, { country: 'FR' }, 'countries'],
      [{ excludeCountries: ['FR'] }, { country: 'US' }, { country: 'fr' }, 'excludeCountries'],
      [{ platforms: ['ANDROID'] }, { platform: 'ANDROID' }, { platform: 'IOS' }, 'platforms'],
      [{ minRevenue: 5 }, { revenue: 5 }, { revenue: 4.99 }, 'minRevenue'],
      [{ minRevenue: 0 }, { revenue: 0 }, {}, 'minRevenue'],
      [{ params: [{ path: 'level', values: ['7', '8'] }] }, { params: { level: 7 } }, { params: { level: 9 } }, 'params'],
    ];
    for (const [conditions, fires, refuses, field] of cases) {
      const cb = await ruled(conditions);
      expect(await preview(cb.id, fires)).toMatchObject({ wouldFire: true, notFiredBecause: null });
      const refused = await preview(cb.id, refuses);
      expect(refused.wouldFire).toBe(false);
      expect(refused.notFiredBecause).toMatch(new RegExp(`^${field}\\b`));
      // Recording agrees with the preview.
      const queuedFor = async (input: Omit<RecordEventInput, 'appId' | 'name'>) =>
        (await record({ appId: a.id, name: 'purchase', ...input })).deliveries.filter((d) => d.callback.id === cb.id).length;
      expect([await queuedFor(fires), await queuedFor(refuses)]).toEqual([1, 0]);
    }
  });

  it('holds the postback window, counted from the touchpoint', async () => {
    const a = await app();
    const netA = await fx.network();
    const windowed = await callback({ appId: a.id, networkId: netA.id, attributedOnly: true, eventNames: ['purchase'], postbackWindowDays: 7, urlTemplate: receiver.url('/w?d={{days_since_attribution}}') });
    expect(windowed.postbackWindowDays).toBe(7);
    await record({ appId: a.id, name: 'install', network: netA.slug, deviceId: 'dev-w', occurredAt: ago(10) });
    const inside = await record({ appId: a.id, name: 'purchase', deviceId: 'dev-w', occurredAt: ago(4) });
    expect(inside.deliveries.map((d) => d.callback.id)).toEqual([windowed.id]);
    expect(await sent(inside.deliveries[0].id)).toEqual({ d: '6' });
    const outside = await record({ appId: a.id, name: 'purchase', deviceId: 'dev-w' });
    expect(outside.event.attributionSource).toBe('INHERITED');
    expect(outside.deliveries).toEqual([]);
    const why = (await t.admin.ok(PreviewRuledDocument, { callbackId: windowed.id, event: { appId: a.id, name: 'purchase', deviceId: 'dev-w' } })).previewCallback;
    expect(why).toMatchObject({ wouldFire: false });
    expect(why.notFiredBecause).toMatch(/^postbackWindowDays\b/);
    // No window: it fires again; an event with no touchpoint fails any window.
    await t.admin.ok(UpdateRuledCallbackDocument, { id: windowed.id, input: { postbackWindowDays: null, attributedOnly: false } });
    expect((await record({ appId: a.id, name: 'purchase', deviceId: 'dev-w' })).deliveries).toHaveLength(1);
    await t.admin.ok(UpdateRuledCallbackDocument, { id: windowed.id, input: { postbackWindowDays: 365 } });
    expect((await record({ appId: a.id, name: 'purchase', deviceId: 'nobody' })).deliveries).toEqual([]);
  });

  it('delays the first attempt by delaySeconds', async () => {
    const a = await app();
    const delayed = await callback({ appId: a.id, delaySeconds: 2, urlTemplate: receiver.url('/delayed') });
    expect(delayed.delaySeconds).toBe(2);
    const before = Date.now();
    const recorded = await record({ appId: a.id, name: 'install' });
    const [delivery] = recorded.deliveries;
    expect(Date.parse(delivery.nextAttemptAt!) - Date.parse(delivery.createdAt)).toBe(2000);
    const [postback] = await waitFor(() => receiver.of(delivery.id), (r) => r.length > 0, { what: 'the delayed postback' });
    expect(postback.receivedAt.getTime() - before).toBeGreaterThanOrEqual(2000);
  });

  it('refuses out-of-range and inconsistent rules, naming the field, and stores nothing', async () => {
    const a = await app();
    const code = async (p: Promise<{ extensions?: { code?: string; field?: string } }>) => {
      const e = await p;
      return [e.extensions?.code, e.extensions?.field];
    };
    const bad = (input: Partial<CreateCallbackInput>) => code(t.admin.error(CreateRuledCallbackDocument, { input: { appId: a.id, name: 'bad', urlTemplate: 'https://p.example/', ...input } }));
    expect(await bad({ postbackWindowDays: 0 })).toEqual(['BAD_USER_INPUT', 'input.postbackWindowDays']);
    expect(await bad({ postbackWindowDays: 366 })).toEqual(['BAD_USER_INPUT', 'input.postbackWindowDays']);
    expect(await bad({ delaySeconds: -1 })).toEqual(['BAD_USER_INPUT', 'input.delaySeconds']);
    expect(await bad({ delaySeconds: 86_401 })).toEqual(['BAD_USER_INPUT', 'input.delaySeconds']);
    expect(await bad({ eventNames: ['install'], eventMappings: [{ eventName: 'purchase', partnerEventName: 'af_purchase' }] })).toEqual(['BAD_USER_INPUT', 'input.eventMappings.0.eventName']);
    expect(await bad({ conditions: { countries: ['XX'] } })).toEqual(['BAD_USER_INPUT', 'input.conditions.countries.0']);
    expect(await bad({ conditions: { params: [{ path: 'tier', values: [] }] } })).toEqual(['BAD_USER_INPUT', 'input.conditions.params.0.values']);
    expect(await code(t.admin.error(CreateAttributedAppDocument, { input: { name: 'x', bundleId: unique('com.x'), platform: 'IOS', attributionMemoryDays: 731 } }))).toEqual(['BAD_USER_INPUT', 'input.attributionMemoryDays']);
    expect(await code(t.admin.error(UpdateAttributedAppDocument, { id: a.id, input: { attributionMemoryDays: 0 } }))).toEqual(['BAD_USER_INPUT', 'input.attributionMemoryDays']);
    expect(await code(t.admin.error(UpdateAttributedAppDocument, { id: a.id, input: { storeCutPercent: 101 } }))).toEqual(['BAD_USER_INPUT', 'input.storeCutPercent']);
    const ok = await callback({ appId: a.id, eventNames: ['purchase'] });
    expect(await code(t.admin.error(UpdateRuledCallbackDocument, { id: ok.id, input: { eventMappings: [{ eventName: 'install' }] } }))).toEqual(['BAD_USER_INPUT', 'input.eventMappings.0.eventName']);
    expect(ok).toMatchObject({ eventMappings: [], postbackWindowDays: null, delaySeconds: 0, conditions: { countries: [], excludeCountries: [], platforms: [], minRevenue: null, params: [] } });
    const rows = await t.service.services.dataSource.query('SELECT COUNT(*) AS n FROM callback WHERE appId = ?', [a.id]);
    expect(Number(rows[0].n)).toBe(1);
    const [appRow] = await t.service.services.dataSource.query('SELECT attributionMemoryDays, storeCutPercent FROM app WHERE id = ?', [a.id]);
    expect([Number(appRow.attributionMemoryDays), Number(appRow.storeCutPercent)]).toEqual([90, 0]);
  });

  it('attributes a purchase recorded together with its install, or not at all, never half', async () => {
    const a = await app();
    const netA = await fx.network();
    const toA = await callback({ appId: a.id, networkId: netA.id, attributedOnly: true, eventNames: ['purchase'] });
    // In one call: the install attributes the purchase after it.
    const [, batched] = (await t.admin.ok(RecordAttributedEventsDocument, {
      inputs: [
        { appId: a.id, name: 'install', network: netA.slug, campaignId: 'cmp-a', deviceId: 'dev-batch', occurredAt: ago(0.01) },
        { appId: a.id, name: 'purchase', deviceId: 'dev-batch' },
      ],
    })).recordEvents;
    expect(batched.event).toMatchObject({ attributionSource: 'INHERITED', campaignId: 'cmp-a' });
    expect(batched.deliveries.map((d) => d.callback.id)).toEqual([toA.id]);

    // In concurrent calls: each purchase sees the install whole or not at all.
    const installedAt = ago(0.01);
    const pairs = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const deviceId = `dev-race-${i}`;
        const [, purchase] = await Promise.all([
          record({ appId: a.id, name: 'install', network: netA.slug, campaignId: 'cmp-a', deviceId, occurredAt: installedAt }),
          record({ appId: a.id, name: 'purchase', deviceId }),
        ]);
        return purchase;
      }),
    );
    for (const purchase of pairs) {
      const stored = (await t.admin.ok(AttributedEventByIdDocument, { id: purchase.event.id })).event!;
      const toNetwork = purchase.deliveries.filter((d) => d.callback.id === toA.id).length;
      const { id: _id, occurredAt: _o, ...fields } = stored;
      if (stored.attributionSource === 'INHERITED') {
        expect(fields).toMatchObject({ network: { id: netA.id }, networkSlug: netA.slug, campaignId: 'cmp-a', attribution: 'INSTALL', attributedAt: installedAt });
        expect(toNetwork).toBe(1);
      } else {
        expect(fields).toMatchObject({ attributionSource: 'NONE', network: null, networkSlug: null, campaignId: null, attribution: null, attributedAt: null });
        expect(toNetwork).toBe(0);
      }
      expect(purchase.event).toEqual(stored);
    }
  });

  it('lists the new built-ins with examples', async () => {
    const { builtInMacros } = await t.admin.ok(BuiltInMacrosDocument);
    const names = ['is_attributed', 'attribution_type', 'attributed_at', 'attributed_at_unix', 'days_since_attribution', 'customer_user_id', 'device_id', 'os_version', 'app_version', 'partner_event_name', 'params_json'];
    for (const name of names) expect(builtInMacros.find((m) => m.name === name)).toMatchObject({ name, example: expect.any(String), description: expect.any(String) });
  });

  it('keeps touchpoints for retention to purge, and its migration runs again without harm', async () => {
    const a = await app(1);
    const netA = await fx.network();
    await record({ appId: a.id, name: 'install', network: netA.slug, deviceId: 'dev-old', advertisingId: 'ifa-old', occurredAt: ago(3) });
    await record({ appId: a.id, name: 'install', network: netA.slug, deviceId: 'dev-new' });
    const ds = t.service.services.dataSource;
    const count = async () => Number((await ds.query('SELECT COUNT(*) AS n FROM attribution_touchpoint WHERE appId = ?', [a.id]))[0].n);
    expect(await count()).toBe(3);
    expect(await deleteExpiredTouchpoints(ds, new Date(), 1000)).toBeGreaterThanOrEqual(2);
    expect(await count()).toBe(1);

    const runner = ds.createQueryRunner();
    try {
      await new Attribution1796000000000().up(runner);
    } finally {
      await runner.release();
    }
    expect((await record({ appId: a.id, name: 'purchase', deviceId: 'dev-new' })).event.attributionSource).toBe('INHERITED');
  });
});

describe.each(testDatabases().filter((k) => k === 'mysql'))('the Attribution migration on a latin1 %s database', (kind) => {
  it('gives every new string column utf8mb4_bin, reverts, and runs again', async () => {
    const db = await createTestDatabase(kind);
    if (db.config.type !== 'mysql') return;
    const name = db.config.database;
    const mysql = await import('mysql2/promise');
    const server = await mysql.createConnection({ host: db.config.host, port: db.config.port, user: db.config.user, password: db.config.password });
    const ds = createDataSource(db.config, { poolSize: 2 });
    try {
      await ds.initialize();
      await ds.runMigrations({ transaction: 'each' });
      const runner = ds.createQueryRunner();
      try {
        await new Attribution1796000000000().down(runner);
        // What an operator's database looks like: latin1 by default, for new tables and columns.
        await server.query(`ALTER DATABASE \`${name}\` CHARACTER SET latin1 COLLATE latin1_swedish_ci`);
        for (const table of ['event', 'app', 'callback']) await server.query(`ALTER TABLE \`${name}\`.\`${table}\` DEFAULT CHARACTER SET latin1 COLLATE latin1_swedish_ci`);
        await new Attribution1796000000000().up(runner);
        await new Attribution1796000000000().up(runner);
      } finally {
        await runner.release();
      }
      const [columns] = await server.query(
        `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLLATION_NAME AS collation FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = ? AND COLLATION_NAME IS NOT NULL
           AND (TABLE_NAME = 'attribution_touchpoint' OR COLUMN_NAME IN ('customerUserId', 'deviceId', 'osVersion', 'appVersion', 'attribution', 'attributionSource', 'eventMappings', 'conditions'))`,
        [name],
      );
      const rows = columns as { t: string; c: string; collation: string }[];
      expect(rows.length).toBe(8 + 9);
      expect(rows.filter((r) => r.collation !== 'utf8mb4_bin')).toEqual([]);
    } finally {
      if (ds.isInitialized) await ds.destroy();
      await server.end();
      await db.drop();
    }
  });
});
