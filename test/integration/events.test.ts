import {
  AppByIdDocument, CreateMacroDocument, DeleteCallbackDocument, DeliveriesDocument, DeliveryByIdDocument, DeliveryStatusByIdDocument,
  EventByIdDocument, PreviewCallbackDocument, RecordEventAsSdkDocument, RecordEventDocument, RecordEventInput, RecordEventsDocument,
  UpdateCallbackDocument,
} from '../generated/graphql';
import { testDatabases } from '../support/databases';
import { configurationFixtures, unique } from '../support/fixtures';
import { startTestService, TestService } from '../support/test-service';

const IFA = '6D92078A-8246-4BA4-AE5B-76104861E7DC';

describe.each(testDatabases())('recording events on %s', (kind) => {
  let t: TestService;
  let fx: ReturnType<typeof configurationFixtures>;
  beforeAll(async () => {
    t = await startTestService(kind);
    fx = configurationFixtures(t.admin);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const deliveriesOf = async (filter: { appId?: string; eventUuid?: string; callbackId?: string }) =>
    (await t.admin.ok(DeliveriesDocument, { filter, first: 100 })).deliveries.edges.map((e) => e.node);
  const countEvents = async (appId: string) => {
    const rows = await t.service.services.dataSource.query(`SELECT COUNT(*) AS n FROM event WHERE appId = ?`, [appId]);
    return Number(rows[0].n);
  };

  describe('rendering and queuing', () => {
    it('stores the event and one PENDING delivery per matching callback, rendered with encoded macros', async () => {
      const app = await fx.app();
      const network = await fx.network();
      await t.admin.ok(CreateMacroDocument, { input: { appId: app.id, name: 'sku', source: 'PARAM', path: 'item.sku' } });
      const callback = await fx.callback({
        appId: app.id, networkId: network.id, eventNames: ['purchase'],
        urlTemplate: 'https://postback.example/p?ifa={{advertising_id}}&e={{event_name}}&r={{revenue}}&c={{currency}}&sku={{sku}}&d={{delivery_id}}',
      });
      const post = await fx.callback({
        appId: app.id, method: 'POST', urlTemplate: 'https://advertiser.example/events',
        headers: [{ name: 'X-Event', value: '{{event_name}}' }],
        bodyTemplate: '{"event":"{{event_name}}","ip":"{{ip_address}}","app":"{{bundle_id}}"}',
      });

      const { recordEvent } = await t.admin.ok(RecordEventDocument, {
        input: {
          appId: app.id, eventId: 'order-1', name: 'purchase', advertisingId: IFA, ipAddress: '203.0.113.9', revenue: 1.5,
          currency: 'eur', country: 'de', network: network.slug, params: { item: { sku: 'A&B 1/2' } },
        },
      });
      expect(recordEvent.duplicate).toBe(false);
      expect(recordEvent.event).toMatchObject({ name: 'purchase', currency: 'EUR', country: 'DE', platform: 'IOS', networkSlug: network.slug, network: { id: network.id } });
      expect(recordEvent.deliveries).toHaveLength(2);
      const get = recordEvent.deliveries.find((d) => d.callback.id === callback.id)!;
      expect(get).toMatchObject({ status: 'PENDING', method: 'GET', attempts: 0, maxAttempts: 10, network: { id: network.id } });
      expect(get.url).toBe(`https://postback.example/p?ifa=${IFA}&e=purchase&r=1.5&c=EUR&sku=A%26B%201%2F2&d=${get.id}`);
      const body = recordEvent.deliveries.find((d) => d.callback.id === post.id)!;
      expect(JSON.parse(body.body!)).toEqual({ event: 'purchase', ip: '203.0.113.9', app: app.bundleId });
      expect(body.headers).toEqual([{ name: 'X-Event', value: 'purchase' }, { name: 'Content-Type', value: 'application/json' }]);

      // Visible right after recording, before any dispatcher ran.
      expect((await t.admin.ok(DeliveryByIdDocument, { id: get.id })).delivery).toMatchObject({ status: 'PENDING', url: get.url, event: { id: recordEvent.event.id } });
      expect((await t.admin.ok(EventByIdDocument, { id: recordEvent.event.id })).event).toMatchObject({ eventId: 'order-1', revenue: 1.5 });
    });

    it('renders once: a later change of the callback does not change a queued delivery', async () => {
      const app = await fx.app();
      const callback = await fx.callback({ appId: app.id, urlTemplate: 'https://a.example/v1?e={{event_name}}' });
      const { recordEvent } = await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'install' } });
      await t.admin.ok(UpdateCallbackDocument, { id: callback.id, input: { urlTemplate: 'https://a.example/v2?e={{event_name}}' } });
      expect((await t.admin.ok(DeliveryByIdDocument, { id: recordEvent.deliveries[0].id })).delivery?.url).toBe('https://a.example/v1?e=install');
      // ...and the next event uses the new template at once (the routing cache was invalidated).
      const next = await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'install' } });
      expect(next.recordEvent.deliveries[0].url).toBe('https://a.example/v2?e=install');
    });

    it('blanks device identifiers for partner callbacks under limit ad tracking, not for the advertiser\'s own', async () => {
      const app = await fx.app();
      const network = await fx.network();
      const template = 'https://x.example/?ifa={{advertising_id}}&ip={{ip_address}}&ua={{user_agent}}&lat={{limit_ad_tracking}}';
      const partner = await fx.callback({ appId: app.id, networkId: network.id, urlTemplate: template });
      const own = await fx.callback({ appId: app.id, urlTemplate: template });
      const { recordEvent } = await t.admin.ok(RecordEventDocument, {
        input: { appId: app.id, name: 'install', advertisingId: IFA, ipAddress: '203.0.113.9', userAgent: 'UA/1', limitAdTracking: true, network: network.slug },
      });
      const urlOf = (id: string) => recordEvent.deliveries.find((d) => d.callback.id === id)!.url;
      expect(urlOf(partner.id)).toBe('https://x.example/?ifa=&ip=&ua=&lat=1');
      expect(urlOf(own.id)).toBe(`https://x.example/?ifa=${IFA}&ip=203.0.113.9&ua=UA%2F1&lat=1`);
    });

    it('stores an iOS all-zero advertising id as missing, and the app\'s platform by default', async () => {
      const app = await fx.app('ANDROID');
      const { recordEvent } = await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'open', advertisingId: '00000000-0000-0000-0000-000000000000' } });
      expect(recordEvent.event).toMatchObject({ advertisingId: null, platform: 'ANDROID' });
    });
  });

  describe('which callbacks fire', () => {
    it('follows enabled, eventNames and attributedOnly, and keeps an unknown slug as networkSlug', async () => {
      const app = await fx.app();
      const mine = await fx.network();
      const other = await fx.network();
      const every = await fx.callback({ appId: app.id });
      const installsOnly = await fx.callback({ appId: app.id, eventNames: ['install'] });
      const attributedMine = await fx.callback({ appId: app.id, networkId: mine.id, attributedOnly: true });
      const anyToMine = await fx.callback({ appId: app.id, networkId: mine.id });
      const disabled = await fx.callback({ appId: app.id, enabled: false });
      const deleted = await fx.callback({ appId: app.id });
      await t.admin.ok(DeleteCallbackDocument, { id: deleted.id });
      const fired = async (input: Omit<RecordEventInput, 'appId'>) =>
        (await t.admin.ok(RecordEventDocument, { input: { appId: app.id, ...input } })).recordEvent.deliveries.map((d) => d.callback.id).sort();

      expect(await fired({ name: 'install', network: mine.slug })).toEqual([every.id, installsOnly.id, attributedMine.id, anyToMine.id].sort());
      expect(await fired({ name: 'purchase', network: mine.slug })).toEqual([every.id, attributedMine.id, anyToMine.id].sort());
      expect(await fired({ name: 'install', network: other.slug })).toEqual([every.id, installsOnly.id, anyToMine.id].sort());
      expect(await fired({ name: 'install' })).toEqual([every.id, installsOnly.id, anyToMine.id].sort());
      const unknownSlug = await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'purchase', network: 'not-configured' } });
      expect(unknownSlug.recordEvent.event).toMatchObject({ networkSlug: 'not-configured', network: null });
      expect(unknownSlug.recordEvent.deliveries.map((d) => d.callback.id).sort()).toEqual([every.id, anyToMine.id].sort());
      expect([disabled.id, deleted.id].some((id) => unknownSlug.recordEvent.deliveries.some((d) => d.callback.id === id))).toBe(false);
    });

    it('attributes a slug sent in another case or with spaces to the configured network, keeping it as sent', async () => {
      const app = await fx.app();
      const network = await fx.network();
      const attributed = await fx.callback({ appId: app.id, networkId: network.id, attributedOnly: true });
      const sent = ` ${network.slug.toUpperCase()}`;
      const { recordEvent } = await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'install', network: sent } });
      expect(recordEvent.event).toMatchObject({ networkSlug: network.slug.toUpperCase(), network: { id: network.id } });
      expect(recordEvent.deliveries.map((d) => d.callback.id)).toEqual([attributed.id]);
    });
  });

  describe('idempotency', () => {
    it('returns the first event and its deliveries for a repeated (app, eventId), queuing nothing', async () => {
      const app = await fx.app();
      await fx.callback({ appId: app.id });
      const first = (await t.admin.ok(RecordEventDocument, { input: { appId: app.id, eventId: 'e-1', name: 'install' } })).recordEvent;
      const again = (await t.admin.ok(RecordEventDocument, { input: { appId: app.id, eventId: 'e-1', name: 'install', campaignId: 'different' } })).recordEvent;
      expect(again.duplicate).toBe(true);
      expect(again.event.id).toBe(first.event.id);
      expect(again.event.campaignId).toBeNull();
      expect(again.deliveries.map((d) => d.id)).toEqual(first.deliveries.map((d) => d.id));
      expect(await countEvents(app.id)).toBe(1);
      // The same key in another app is another event.
      const otherApp = await fx.app();
      expect((await t.admin.ok(RecordEventDocument, { input: { appId: otherApp.id, eventId: 'e-1', name: 'install' } })).recordEvent.duplicate).toBe(false);
    });

    it('records one event for concurrent duplicates', async () => {
      const app = await fx.app();
      await fx.callback({ appId: app.id });
      await fx.callback({ appId: app.id });
      const splits = async () => (await t.service.services.metrics.eventWritesSplit.get()).values[0]?.value ?? 0;
      const splitsBefore = await splits();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => t.admin.ok(RecordEventDocument, { input: { appId: app.id, eventId: i % 2 ? 'same' : `other-${i}`, name: 'install' } })),
      ).then((all) => all.filter((_, i) => i % 2));
      // The resends never shared a transaction with their first (which would fail it for every call in it).
      expect(await splits()).toBe(splitsBefore);
      const eventIds = new Set(results.map((r) => r.recordEvent.event.id));
      expect(eventIds.size).toBe(1);
      expect(results.filter((r) => !r.recordEvent.duplicate)).toHaveLength(1);
      const deliveryIds = new Set(results.flatMap((r) => r.recordEvent.deliveries.map((d) => d.id)));
      expect(deliveryIds.size).toBe(2);
      expect(await countEvents(app.id)).toBe(1 + 6);
      expect(await deliveriesOf({ appId: app.id })).toHaveLength(2 * 7);
    });

    it('records one event for a key repeated inside a batch, and for concurrent overlapping batches', async () => {
      const app = await fx.app();
      await fx.callback({ appId: app.id });
      const { recordEvents } = await t.admin.ok(RecordEventsDocument, {
        inputs: [
          { appId: app.id, eventId: 'k1', name: 'a' },
          { appId: app.id, eventId: 'k2', name: 'b' },
          { appId: app.id, eventId: 'k1', name: 'c' },
          { appId: app.id, name: 'no-key' },
          { appId: app.id, name: 'no-key' },
        ],
      });
      expect(recordEvents.map((r) => r.duplicate)).toEqual([false, false, true, false, false]);
      expect(recordEvents[2].event.id).toBe(recordEvents[0].event.id);
      expect(recordEvents[2].deliveries.map((d) => d.id)).toEqual(recordEvents[0].deliveries.map((d) => d.id));
      expect(recordEvents[3].event.id).not.toBe(recordEvents[4].event.id);
      expect(await countEvents(app.id)).toBe(4);

      const keys = Array.from({ length: 30 }, (_, i) => `batch-${i}`);
      const batches = await Promise.all(
        Array.from({ length: 4 }, (_, b) =>
          t.admin.ok(RecordEventsDocument, { inputs: (b % 2 ? [...keys].reverse() : keys).map((eventId) => ({ appId: app.id, eventId, name: 'x' })) }),
        ),
      );
      expect(await countEvents(app.id)).toBe(4 + keys.length);
      for (const key of keys) {
        const events = new Set(batches.map((b) => b.recordEvents.find((r) => r.event.eventId === key)!.event.id));
        expect(events.size).toBe(1);
      }
      expect(await deliveriesOf({ appId: app.id })).toHaveLength(4 + keys.length);
    });
  });

  describe('validation and atomicity', () => {
    it.each<[string, Partial<RecordEventInput>, string]>([
      ['an empty name', { name: '  ' }, 'input.name'],
      ['a long eventId', { eventId: 'x'.repeat(129) }, 'input.eventId'],
      ['a bad IP address', { ipAddress: '300.1.1.1' }, 'input.ipAddress'],
      ['an unknown country', { country: 'XX' }, 'input.country'],
      ['an unknown currency', { currency: 'EURO' }, 'input.currency'],
      ['an event far in the future', { occurredAt: new Date(Date.now() + 3 * 86_400_000).toISOString() }, 'input.occurredAt'],
      ['an event in 1970', { occurredAt: '1970-01-02T00:00:00Z' }, 'input.occurredAt'],
      ['params over 16 KB', { params: { blob: 'x'.repeat(17 * 1024) } }, 'input.params'],
      ['an app id that is no UUID', { appId: 'nope' }, 'input.appId'],
      ['an app that does not exist', { appId: '00000000-0000-7000-8000-000000000000' }, 'input.appId'],
    ])('rejects %s, naming the field', async (_label, overrides, field) => {
      const app = await fx.app();
      const error = await t.admin.error(RecordEventDocument, { input: { appId: app.id, name: 'install', ...overrides } });
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect((error.extensions?.problems as { field: string }[]).map((p) => p.field)).toContain(field);
      expect(await countEvents(app.id)).toBe(0);
    });

    it('rejects params that are not an object at the GraphQL layer', async () => {
      const app = await fx.app();
      const error = await t.admin.error(RecordEventDocument, { input: { appId: app.id, name: 'x', params: [1, 2] as never } });
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('stores nothing of a batch with one invalid input, and names every invalid one', async () => {
      const app = await fx.app();
      await fx.callback({ appId: app.id });
      const error = await t.admin.error(RecordEventsDocument, {
        inputs: [
          { appId: app.id, name: 'ok-1' },
          { appId: app.id, name: 'ok-2', country: 'ZZ' },
          { appId: app.id, name: 'ok-3' },
          { appId: app.id, name: 'ok-4', currency: 'ABC' },
        ],
      });
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect((error.extensions?.problems as { field: string }[]).map((p) => p.field)).toEqual(['inputs.1.country', 'inputs.3.currency']);
      expect(await countEvents(app.id)).toBe(0);
      expect(await deliveriesOf({ appId: app.id })).toHaveLength(0);
    });

    it('rejects a batch over 500 inputs and accepts 500', async () => {
      const app = await fx.app();
      const inputs = Array.from({ length: 501 }, (_, i) => ({ appId: app.id, name: `e${i}` }));
      expect((await t.admin.error(RecordEventsDocument, { inputs })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputs' });
      const ok = await t.admin.ok(RecordEventsDocument, { inputs: inputs.slice(0, 500) });
      expect(ok.recordEvents).toHaveLength(500);
      expect(await countEvents(app.id)).toBe(500);
    });

    it('rolls the event back when queuing its deliveries fails', async () => {
      const app = await fx.app();
      await fx.callback({ appId: app.id });
      const db = t.service.services.dataSource;
      await db.query(
        kind === 'mysql'
          ? `CREATE TRIGGER refuse_delivery BEFORE INSERT ON delivery FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by test'`
          : `CREATE TRIGGER refuse_delivery BEFORE INSERT ON delivery BEGIN SELECT RAISE(ABORT, 'refused by test'); END`,
      );
      try {
        const error = await t.admin.error(RecordEventDocument, { input: { appId: app.id, eventId: 'tx', name: 'install' } });
        expect(error.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
        expect(error.message).not.toContain('refused by test');
      } finally {
        await db.query('DROP TRIGGER refuse_delivery');
      }
      expect(await countEvents(app.id)).toBe(0);
      // Nothing half-written blocks the retry.
      expect((await t.admin.ok(RecordEventDocument, { input: { appId: app.id, eventId: 'tx', name: 'install' } })).recordEvent.duplicate).toBe(false);
    });
  });

  describe('large writes', () => {
    it('stores a batch whose rendered bodies add up to more than one database packet (16 MB on MariaDB)', async () => {
      const app = await fx.app();
      // 60 KB bodies, 3 callbacks, 120 events: about 21 MB of rendered bodies in one call.
      const filler = 'x'.repeat(60_000);
      for (let i = 0; i < 3; i++) {
        await fx.callback({ appId: app.id, method: 'POST', urlTemplate: `https://advertiser.example/${i}`, bodyTemplate: `{"e":"{{event_id}}","pad":"${filler}"}` });
      }
      const inputs = Array.from({ length: 120 }, (_, i) => ({ appId: app.id, eventId: `big-${i}`, name: 'install' }));
      const { recordEvents } = await t.admin.ok(RecordEventsDocument, { inputs });
      expect(recordEvents).toHaveLength(120);
      expect(recordEvents.every((r) => r.deliveries.length === 3 && !r.duplicate)).toBe(true);
      const [row] = await t.service.services.dataSource.query(
        'SELECT COUNT(*) AS n, SUM(LENGTH(body)) AS bytes FROM delivery WHERE appId = ?', [app.id]);
      expect(Number(row.n)).toBe(360);
      const expectedBytes = inputs.reduce((sum, input) => sum + 3 * `{"e":"${input.eventId}","pad":"${filler}"}`.length, 0);
      expect(Number(row.bytes)).toBe(expectedBytes);
    });
  });

  describe('keys and scope', () => {
    it('lets an SDK key record for its app only, and see status but not what was sent', async () => {
      const app = await fx.app();
      const other = await fx.app();
      await fx.callback({ appId: app.id, urlTemplate: 'https://n.example/p?key=partner-secret' });
      const sdk = t.admin.as(await fx.sdkKey(app.id));
      const { recordEvent } = await sdk.ok(RecordEventAsSdkDocument, { input: { appId: app.id, name: 'install' } });
      expect(recordEvent.deliveries[0].status).toBe('PENDING');
      expect((await sdk.error(RecordEventAsSdkDocument, { input: { appId: other.id, name: 'install' } })).extensions?.code).toBe('FORBIDDEN');
      expect((await sdk.error(RecordEventsDocument, { inputs: [{ appId: app.id, name: 'a' }, { appId: other.id, name: 'b' }] })).extensions?.code).toBe('FORBIDDEN');
      expect(await countEvents(other.id)).toBe(0);

      const id = recordEvent.deliveries[0].id;
      expect((await sdk.ok(DeliveryStatusByIdDocument, { id })).delivery).toMatchObject({ id, status: 'PENDING' });
      const full = await sdk.request(DeliveryByIdDocument, { id });
      expect(JSON.stringify(full)).not.toContain('partner-secret');
      expect(full.errors?.map((e) => e.extensions?.code)).toContain('FORBIDDEN');
      for (const field of ['url', 'body', 'headers { value }', 'lastError', 'attemptLog { number }', 'callback { id }']) {
        const answer = await sdk.request(`query($id: ID!) { delivery(id: $id) { id ${field} } }`, { id });
        expect([answer.errors?.[0]?.extensions?.code, answer.errors?.[0]?.path?.at(-1)]).toEqual(['FORBIDDEN', field.split(' ')[0]]);
        expect(JSON.stringify(answer)).not.toContain('partner-secret');
      }
      expect((await sdk.ok(EventByIdDocument, { id: recordEvent.event.id })).event?.name).toBe('install');
      const otherEvent = (await t.admin.ok(RecordEventDocument, { input: { appId: other.id, name: 'x' } })).recordEvent.event;
      expect((await sdk.error(EventByIdDocument, { id: otherEvent.id })).extensions?.code).toBe('FORBIDDEN');
    });

    it('forbids PARTNER keys to record, and hides limit-ad-tracking identifiers and other tenants from them', async () => {
      const app = await fx.app();
      const mine = await fx.network();
      const theirs = await fx.network();
      await fx.callback({ appId: app.id, networkId: mine.id });
      await fx.callback({ appId: app.id, networkId: theirs.id });
      const partner = t.admin.as(await fx.partnerKey(mine.id));
      expect((await partner.error(RecordEventDocument, { input: { appId: app.id, name: 'x' } })).extensions?.code).toBe('FORBIDDEN');

      const { recordEvent } = await t.admin.ok(RecordEventDocument, {
        input: { appId: app.id, name: 'install', advertisingId: IFA, ipAddress: '203.0.113.1', userAgent: 'UA', limitAdTracking: true },
      });
      const own = recordEvent.deliveries.find((d) => d.network?.id === mine.id)!;
      const foreign = recordEvent.deliveries.find((d) => d.network?.id === theirs.id)!;
      const seen = (await partner.ok(DeliveryByIdDocument, { id: own.id })).delivery!;
      expect(seen.url).toBe(own.url);
      const event = (await partner.ok(EventByIdDocument, { id: recordEvent.event.id })).event!;
      expect(event).toMatchObject({ advertisingId: null, ipAddress: null, userAgent: null, limitAdTracking: true });
      expect((await t.admin.ok(EventByIdDocument, { id: recordEvent.event.id })).event?.advertisingId).toBe(IFA);
      expect((await partner.error(DeliveryByIdDocument, { id: foreign.id })).extensions?.code).toBe('FORBIDDEN');

      // Scope holds through nested fields: the app's callbacks are not the partner's to read.
      for (const selection of ['callback { signingSecret }', 'callback { app { callbacks { urlTemplate } } }', 'callback { app { macros { name } } }', 'event { app { callbacks { id } } }']) {
        const nested = await partner.request(`query($id: ID!) { delivery(id: $id) { id ${selection} } }`, { id: own.id });
        expect(nested.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        expect(JSON.stringify(nested.data)).not.toContain(theirs.id);
      }
      const allowed = await partner.ok(`query($id: ID!) { delivery(id: $id) { callback { urlTemplate app { name bundleId } network { slug } } } }`, { id: own.id });
      expect(JSON.stringify(allowed)).toContain(app.bundleId);

      const page = (await partner.ok(DeliveriesDocument, { first: 100 })).deliveries.edges.map((e) => e.node);
      expect(page.map((d) => d.id)).toEqual([own.id]);
      expect((await partner.error(DeliveriesDocument, { filter: { networkId: theirs.id } })).extensions?.code).toBe('FORBIDDEN');
      const stranger = await fx.app();
      expect((await partner.error(DeliveriesDocument, { filter: { appId: stranger.id } })).extensions?.code).toBe('FORBIDDEN');
      expect((await partner.ok(DeliveriesDocument, { filter: { appId: app.id } })).deliveries.edges).toHaveLength(1);
    });
  });

  describe('previewCallback', () => {
    it('renders without storing or sending, with the zero delivery id, and says whether it would fire', async () => {
      const app = await fx.app();
      const callback = await fx.callback({ appId: app.id, eventNames: ['purchase'], urlTemplate: 'https://p.example/?d={{delivery_id}}&e={{event_name}}&v={{revenue}}' });
      const { previewCallback } = await t.admin.ok(PreviewCallbackDocument, { callbackId: callback.id, event: { appId: app.id, name: 'purchase', revenue: 0.1 } });
      expect(previewCallback).toMatchObject({
        method: 'GET', url: 'https://p.example/?d=00000000-0000-0000-0000-000000000000&e=purchase&v=0.1', body: null, wouldFire: true, notFiredBecause: null,
      });
      const notFired = (await t.admin.ok(PreviewCallbackDocument, { callbackId: callback.id, event: { appId: app.id, name: 'install' } })).previewCallback;
      expect(notFired.wouldFire).toBe(false);
      expect(notFired.notFiredBecause).toContain('purchase');
      expect(await countEvents(app.id)).toBe(0);
      expect(await deliveriesOf({ callbackId: callback.id })).toHaveLength(0);

      const other = await fx.app();
      const error = await t.admin.error(PreviewCallbackDocument, { callbackId: callback.id, event: { appId: other.id, name: 'purchase' } });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'event.appId' });
      const sdk = t.admin.as(await fx.sdkKey(app.id));
      expect((await sdk.error(PreviewCallbackDocument, { callbackId: callback.id, event: { appId: app.id, name: 'x' } })).extensions?.code).toBe('FORBIDDEN');
    });
  });

  describe('deliveries', () => {
    it('pages newest first without losing or repeating anything while new deliveries arrive', async () => {
      const app = await fx.app();
      await fx.callback({ appId: app.id });
      const { recordEvents } = await t.admin.ok(RecordEventsDocument, { inputs: Array.from({ length: 25 }, (_, i) => ({ appId: app.id, name: `e${i}` })) });
      const expected = recordEvents.map((r) => r.deliveries[0].id).reverse();
      const seen: string[] = [];
      let after: string | null | undefined = null;
      for (;;) {
        const page: { deliveries: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor?: string | null } } } = await t.admin.ok(DeliveriesDocument, { filter: { appId: app.id }, first: 7, after });
        seen.push(...page.deliveries.edges.map((e) => e.node.id));
        // New deliveries arrive between pages; they are newer than every cursor and never appear mid-walk.
        await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'late' } });
        if (!page.deliveries.pageInfo.hasNextPage) break;
        after = page.deliveries.pageInfo.endCursor;
      }
      expect(seen).toEqual(expected);
    });

    it('resolves a page of 100 deliveries with their event, callback, network and attempts in a handful of queries', async () => {
      const app = await fx.app();
      const network = await fx.network();
      for (let i = 0; i < 4; i++) await fx.callback({ appId: app.id, networkId: network.id });
      await t.admin.ok(RecordEventsDocument, { inputs: Array.from({ length: 25 }, (_, i) => ({ appId: app.id, name: `e${i}` })) });
      const logger = t.service.services.dataSource.logger;
      const original = logger.logQuery.bind(logger);
      const queries: string[] = [];
      logger.logQuery = (query, parameters, runner) => {
        queries.push(query);
        return original(query, parameters, runner);
      };
      try {
        const page = await t.admin.ok(
          `query($appId: ID!) { deliveries(filter: { appId: $appId }, first: 100) { edges { node { id event { id name app { id name } network { slug } } callback { id name network { id } } network { slug } attemptLog { number } } } } }`,
          { appId: app.id },
        ) as { deliveries: { edges: unknown[] } };
        expect(page.deliveries.edges).toHaveLength(100);
      } finally {
        logger.logQuery = original;
      }
      // The page, then one batched query per related type: events, apps, networks, callbacks, attempts.
      expect(queries.length).toBeLessThanOrEqual(7);
    });

    it('rejects first over 100 and a forged cursor', async () => {
      expect((await t.admin.error(DeliveriesDocument, { first: 101 })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
      expect((await t.admin.error(DeliveriesDocument, { after: 'bm90LWEtY3Vyc29y' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    });

    it('filters by event, callback and status', async () => {
      const app = await fx.app();
      const a = await fx.callback({ appId: app.id });
      await fx.callback({ appId: app.id });
      const { recordEvent } = await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'x' } });
      expect(await deliveriesOf({ eventUuid: recordEvent.event.id })).toHaveLength(2);
      expect((await deliveriesOf({ callbackId: a.id })).map((d) => d.event.id)).toEqual([recordEvent.event.id]);
      const delivered = (await t.admin.ok(DeliveriesDocument, { filter: { appId: app.id, statuses: ['DELIVERED'] } })).deliveries.edges;
      expect(delivered).toHaveLength(0);
      expect((await t.admin.ok(AppByIdDocument, { id: app.id })).app?.callbacks).toHaveLength(2);
    });
  });

  it('uses unique names', () => expect(unique('a')).not.toBe(unique('a')));
});
