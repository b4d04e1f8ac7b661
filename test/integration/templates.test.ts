import { createHash } from 'node:crypto';
import {
  AppByIdDocument, CreateAppDocument, CreateCallbackFromTemplateDocument, CreateMacroDocument, DeliveryRenderNotesDocument, ExchangeRatesDocument,
  PartnerTemplatesDocument, PreviewRenderedDocument, RecordEventWithNotesDocument, SetExchangeRatesDocument,
} from '../generated/graphql';
import { EXAMPLE_APP } from '../../src/presets/partner-preset';
import { testDatabases } from '../support/databases';
import { configurationFixtures, unique } from '../support/fixtures';
import { startTestService, TestService } from '../support/test-service';

const IFA = '6D92078A-8246-4BA4-AE5B-76104861E7DC';
const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');
const md5 = (value: string) => createHash('md5').update(value, 'utf8').digest('hex');

describe.each(testDatabases())('templates, revenue and partner presets on %s', (kind) => {
  let t: TestService;
  let fx: ReturnType<typeof configurationFixtures>;
  beforeAll(async () => {
    t = await startTestService(kind);
    fx = configurationFixtures(t.admin);
  });
  afterAll(async () => {
    await t?.stop();
  });

  describe('filters and fallbacks, one placeholder per context', () => {
    it('renders them in the URL, a JSON body, a form body and a header of recorded deliveries', async () => {
      const app = await fx.app();
      await t.admin.ok(CreateMacroDocument, { input: { appId: app.id, name: 'user_ref', source: 'PARAM', path: 'user.ref' } });
      const url = await fx.callback({ appId: app.id, urlTemplate: 'https://u.example/p?h={{advertising_id | lower | sha256}}&c={{campaign_id | default:"organic"}}&u={{user_ref || advertising_id | upper}}' });
      const json = await fx.callback({
        appId: app.id, urlTemplate: 'https://j.example/p',
        bodyTemplate: '{"id":"{{user_ref || advertising_id}}","ip":"{{ip_address | md5}}","c":"{{campaign_id | default:"a \\"b\\""}}"}',
      });
      const form = await fx.callback({
        appId: app.id, method: 'POST', urlTemplate: 'https://f.example/p', headers: [{ name: 'Content-Type', value: 'application/x-www-form-urlencoded' }],
        bodyTemplate: 'ifa={{advertising_id | sha1}}&c={{campaign_id | default:"x&y=z"}}&n={{country || platform | upper}}',
      });
      const header = await fx.callback({ appId: app.id, urlTemplate: 'https://h.example/p', headers: [{ name: 'X-Device', value: '{{user_ref || advertising_id | lower}}' }] });

      const { recordEvent } = await t.admin.ok(RecordEventWithNotesDocument, { input: { appId: app.id, name: 'install', advertisingId: IFA, ipAddress: '203.0.113.7' } });
      const byUrl = (prefix: string) => recordEvent.deliveries.find((d) => d.url.startsWith(prefix))!;
      expect(byUrl('https://u.example').url).toBe(`https://u.example/p?h=${sha256(IFA.toLowerCase())}&c=organic&u=${IFA}`);
      expect(JSON.parse(byUrl('https://j.example').body!)).toEqual({ id: IFA, ip: md5('203.0.113.7'), c: 'a "b"' });
      const formBody = new URLSearchParams(byUrl('https://f.example').body!);
      expect([formBody.get('ifa'), formBody.get('c'), formBody.get('n')]).toEqual([createHash('sha1').update(IFA).digest('hex'), 'x&y=z', 'IOS']);
      expect(byUrl('https://h.example').headers).toContainEqual({ name: 'X-Device', value: IFA.toLowerCase() });
      expect([url.id, json.id, form.id, header.id]).toHaveLength(4);
      for (const d of recordEvent.deliveries) expect(d.renderNotes).toEqual([]);

      // The fallback's first name wins when it has a value.
      const second = await t.admin.ok(RecordEventWithNotesDocument, { input: { appId: app.id, name: 'install', advertisingId: IFA, params: { user: { ref: 'U-7' } } } });
      expect(second.recordEvent.deliveries.find((d) => d.url.startsWith('https://h.example'))!.headers).toContainEqual({ name: 'X-Device', value: 'u-7' });
    });

    it('refuses an unknown filter or macro at save, naming it, and stores nothing', async () => {
      const app = await fx.app();
      const filter = await t.admin.error(`mutation($in: CreateCallbackInput!) { createCallback(input: $in) { id } }`, {
        in: { appId: app.id, name: 'bad', urlTemplate: 'https://x.example/?a={{advertising_id | sha512}}' },
      });
      expect(filter.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.urlTemplate' });
      expect(filter.message).toContain('"sha512"');
      const macro = await t.admin.error(`mutation($in: CreateCallbackInput!) { createCallback(input: $in) { id } }`, {
        in: { appId: app.id, name: 'bad', urlTemplate: 'https://x.example/?a={{device_ref || advertising_id}}' },
      });
      expect(macro.extensions).toMatchObject({ code: 'BAD_USER_INPUT', unknownMacros: ['device_ref'] });
      expect((await t.admin.ok(AppByIdDocument, { id: app.id })).app?.callbacks).toEqual([]);
    });
  });

  describe('revenue in USD', () => {
    it('stores a day of rates, replaces it on a second call, and reads the rates in force', async () => {
      const day = '2026-03-10';
      expect((await t.admin.ok(SetExchangeRatesDocument, { date: day, rates: [{ currency: 'eur', perUsd: 0.9 }, { currency: 'GBP', perUsd: 0.8 }] })).setExchangeRates).toEqual([
        { currency: 'EUR', perUsd: 0.9, date: day },
        { currency: 'GBP', perUsd: 0.8, date: day },
      ]);
      expect((await t.admin.ok(SetExchangeRatesDocument, { date: day, rates: [{ currency: 'EUR', perUsd: 0.92 }] })).setExchangeRates).toEqual([{ currency: 'EUR', perUsd: 0.92, date: day }]);
      await t.admin.ok(SetExchangeRatesDocument, { date: '2026-03-01', rates: [{ currency: 'JPY', perUsd: 150 }, { currency: 'GBP', perUsd: 0.7 }] });
      expect((await t.admin.ok(ExchangeRatesDocument, { date: '2026-03-08' })).exchangeRates).toEqual([
        { currency: 'GBP', perUsd: 0.7, date: '2026-03-01' },
        { currency: 'JPY', perUsd: 150, date: '2026-03-01' },
      ]);
      expect((await t.admin.ok(ExchangeRatesDocument, { date: '2026-03-10' })).exchangeRates).toEqual([{ currency: 'EUR', perUsd: 0.92, date: day }]);
      const bad = await t.admin.error(SetExchangeRatesDocument, { date: day, rates: [{ currency: 'EUR', perUsd: 1 }, { currency: 'XYZ', perUsd: 1 }] });
      expect(bad.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rates.1.currency' });
      expect((await t.admin.ok(ExchangeRatesDocument, { date: day })).exchangeRates).toEqual([{ currency: 'EUR', perUsd: 0.92, date: day }]);
      expect((await t.admin.error(ExchangeRatesDocument, { date: '2026-02-30' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'date' });
    });

    it('renders EUR revenue in USD with a rate, and empty with a renderNote without one', async () => {
      const app = await fx.app();
      await fx.callback({
        appId: app.id,
        urlTemplate: 'https://r.example/p?usd={{revenue_usd}}&cents={{revenue_usd_cents}}&micros={{revenue_usd_micros}}&net={{revenue_net}}&usdnet={{revenue_usd_net}}&d={{revenue_usd | default:"none"}}',
      });
      await t.admin.ok(SetExchangeRatesDocument, { date: '2026-04-01', rates: [{ currency: 'EUR', perUsd: 0.92 }] });
      const withRate = await t.admin.ok(RecordEventWithNotesDocument, { input: { appId: app.id, name: 'purchase', revenue: 4.99, currency: 'EUR', occurredAt: '2026-04-03T10:00:00.000Z' } });
      const delivered = withRate.recordEvent.deliveries[0];
      expect(delivered.url).toBe('https://r.example/p?usd=5.423913&cents=542&micros=5423913&net=4.99&usdnet=5.423913&d=5.423913');
      expect(delivered.renderNotes).toEqual([]);

      // 2026-04-09 is 8 days after the only EUR rate: none is in force.
      const without = await t.admin.ok(RecordEventWithNotesDocument, { input: { appId: app.id, name: 'purchase', revenue: 4.99, currency: 'EUR', occurredAt: '2026-04-09T10:00:00.000Z' } });
      const noted = without.recordEvent.deliveries[0];
      expect(noted.url).toBe('https://r.example/p?usd=&cents=&micros=&net=4.99&usdnet=&d=none');
      expect(noted.renderNotes).toEqual([
        'revenue_usd: no USD rate for EUR on 2026-04-09',
        'revenue_usd_cents: no USD rate for EUR on 2026-04-09',
        'revenue_usd_micros: no USD rate for EUR on 2026-04-09',
        'revenue_usd_net: no USD rate for EUR on 2026-04-09',
      ]);
      expect((await t.admin.ok(DeliveryRenderNotesDocument, { id: noted.id })).delivery?.renderNotes).toEqual(noted.renderNotes);

      // A rate set afterwards is used at once (the cache is cleared) for new events only.
      await t.admin.ok(SetExchangeRatesDocument, { date: '2026-04-09', rates: [{ currency: 'EUR', perUsd: 0.5 }] });
      const later = await t.admin.ok(RecordEventWithNotesDocument, { input: { appId: app.id, name: 'purchase', revenue: 4.99, currency: 'EUR', occurredAt: '2026-04-09T10:00:00.000Z' } });
      expect(later.recordEvent.deliveries[0].url).toBe('https://r.example/p?usd=9.98&cents=998&micros=9980000&net=4.99&usdnet=9.98&d=9.98');
      expect((await t.admin.ok(DeliveryRenderNotesDocument, { id: noted.id })).delivery?.url).toBe(noted.url);

      // USD and currency-less revenue need no rate.
      const usd = await t.admin.ok(RecordEventWithNotesDocument, { input: { appId: app.id, name: 'purchase', revenue: 2.5, currency: 'USD', occurredAt: '2026-01-01T00:00:00.000Z' } });
      expect(usd.recordEvent.deliveries[0]).toMatchObject({ url: 'https://r.example/p?usd=2.5&cents=250&micros=2500000&net=2.5&usdnet=2.5&d=2.5', renderNotes: [] });
    });

    it('previews the same notes', async () => {
      const app = await fx.app();
      const callback = await fx.callback({ appId: app.id, urlTemplate: 'https://r.example/p?usd={{revenue_usd}}' });
      const { previewCallback } = await t.admin.ok(PreviewRenderedDocument, {
        callbackId: callback.id, event: { appId: app.id, name: 'purchase', revenue: 1000, currency: 'HUF', occurredAt: '2026-05-05T00:00:00.000Z' },
      });
      expect(previewCallback).toMatchObject({ url: 'https://r.example/p?usd=', renderNotes: ['revenue_usd: no USD rate for HUF on 2026-05-05'] });
    });
  });

  describe('partner templates', () => {
    it('lists presets that each cite their documentation and carry an example', async () => {
      const { partnerTemplates } = await t.admin.ok(PartnerTemplatesDocument);
      expect(partnerTemplates.map((p) => p.id)).toEqual(expect.arrayContaining(['advertiser-server', 'amplitude', 'ga4', 'mixpanel', 'segment', 'slack']));
      for (const preset of partnerTemplates) {
        expect(preset.documentationUrl).toMatch(/^https:\/\//);
        expect(preset.example.credentials.map((c) => c.name).sort()).toEqual(preset.credentials.map((c) => c.name).sort());
        expect(preset.example.rendered).toMatchObject({ wouldFire: true, notFiredBecause: null, renderNotes: [] });
      }
    });

    it("renders, through previewCallback, exactly each preset's example", async () => {
      const { partnerTemplates } = await t.admin.ok(PartnerTemplatesDocument);
      const app = (await t.admin.ok(CreateAppDocument, { input: { ...EXAMPLE_APP } })).createApp;
      const network = await fx.network('exampleads');
      for (const preset of partnerTemplates) {
        const { createCallbackFromTemplate: callback } = await t.admin.ok(CreateCallbackFromTemplateDocument, {
          input: { templateId: preset.id, appId: app.id, networkId: preset.attributedOnly ? network.id : null, credentials: preset.example.credentials },
        });
        const { previewCallback } = await t.admin.ok(PreviewRenderedDocument, { callbackId: callback.id, event: { ...preset.example.event, appId: app.id } as never });
        expect({ id: preset.id, ...previewCallback }).toEqual({ id: preset.id, ...preset.example.rendered });
        if (preset.example.rendered.body !== null && preset.example.rendered.headers.every((h) => h.name !== 'Content-Type' || /json/.test(h.value))) {
          expect(() => JSON.parse(preset.example.rendered.body!)).not.toThrow();
        }
      }
    });

    it('stores credentials as app CONSTANT macros, reusing one with the same value and refusing another value', async () => {
      const app = await fx.app();
      const credentials = [{ name: 'amplitude_api_key', value: 'key-1' }];
      const { createCallbackFromTemplate: cb } = await t.admin.ok(CreateCallbackFromTemplateDocument, { input: { templateId: 'amplitude', appId: app.id, name: 'to Amplitude', credentials } });
      expect(cb).toMatchObject({ name: 'to Amplitude', method: 'POST', urlTemplate: 'https://api2.amplitude.com/2/httpapi', signingSecret: null });
      expect(cb.app.macros).toEqual([{ name: 'amplitude_api_key', source: 'CONSTANT', value: 'key-1' }]);
      // Same value: reused.
      await t.admin.ok(CreateCallbackFromTemplateDocument, { input: { templateId: 'amplitude', appId: app.id, credentials, eventNames: ['purchase'] } });
      // Another value: CONFLICT, nothing written.
      const clash = await t.admin.error(CreateCallbackFromTemplateDocument, { input: { templateId: 'amplitude', appId: app.id, credentials: [{ name: 'amplitude_api_key', value: 'key-2' }] } });
      expect(clash.extensions?.code).toBe('CONFLICT');
      expect(clash.message).toContain('amplitude_api_key');
      const after = (await t.admin.ok(AppByIdDocument, { id: app.id })).app!;
      expect(after.callbacks).toHaveLength(2);
      expect(after.macros.map((m) => m.name)).toEqual(['amplitude_api_key']);
    });

    it('signs when the preset says so', async () => {
      const app = await fx.app();
      const { createCallbackFromTemplate: cb } = await t.admin.ok(CreateCallbackFromTemplateDocument, {
        input: { templateId: 'advertiser-server', appId: app.id, credentials: [{ name: 'advertiser_host', value: 'api.example.com' }] },
      });
      expect(cb.signingSecret).toMatch(/^whsec_/);
    });

    it.each([
      ['a missing credential', 'ga4', [{ name: 'ga4_measurement_id', value: 'G-1' }], 'input.credentials', 'ga4_api_secret'],
      ['an unknown credential', 'segment', [{ name: 'segment_write_key', value: 'k' }, { name: 'api_token', value: 'x' }], 'input.credentials.1.name', 'api_token'],
      ['an empty credential', 'segment', [{ name: 'segment_write_key', value: ' ' }], 'input.credentials.0.value', 'segment_write_key'],
      ['an unknown template', 'nope', [], 'input.templateId', 'nope'],
    ])('refuses %s naming it, and writes nothing', async (_what, templateId, credentials, field, named) => {
      const app = await fx.app();
      const error = await t.admin.error(CreateCallbackFromTemplateDocument, { input: { templateId, appId: app.id, credentials } });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(error.message).toContain(named);
      const after = (await t.admin.ok(AppByIdDocument, { id: app.id })).app!;
      expect([after.callbacks, after.macros]).toEqual([[], []]);
    });

    it('leaves no macro behind when the callback is refused', async () => {
      const app = await fx.app();
      const error = await t.admin.error(CreateCallbackFromTemplateDocument, {
        input: { templateId: 'slack', appId: app.id, networkId: unique('00000000-0000-0000-0000-'), credentials: [
          { name: 'slack_team_id', value: 'T1' }, { name: 'slack_hook_id', value: 'B1' }, { name: 'slack_hook_secret', value: 's' },
        ] },
      });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.networkId' });
      expect((await t.admin.ok(AppByIdDocument, { id: app.id })).app!.macros).toEqual([]);
    });

    it('is for ADMIN keys only', async () => {
      const app = await fx.app();
      const sdk = t.admin.as(await fx.sdkKey(app.id));
      expect((await sdk.error(PartnerTemplatesDocument)).extensions?.code).toBe('FORBIDDEN');
      expect((await sdk.error(SetExchangeRatesDocument, { date: '2026-01-01', rates: [] })).extensions?.code).toBe('FORBIDDEN');
    });
  });
});
