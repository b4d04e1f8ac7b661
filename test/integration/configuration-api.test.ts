import {
  ApiKeysDocument, AppByIdDocument, AppsDocument, BuiltInMacrosDocument, CallbackByIdDocument, CreateApiKeyDocument,
  CreateAppDocument, CreateCallbackDocument, CreateMacroDocument, CreateNetworkDocument, DeleteAppDocument,
  DeleteCallbackDocument, DeleteMacroDocument, DeleteNetworkDocument, MacrosDocument, NetworksDocument,
  RevokeApiKeyDocument, UpdateAppDocument, UpdateCallbackDocument, UpdateMacroDocument, UpdateNetworkDocument,
} from '../generated/graphql';
import { testDatabases } from '../support/databases';
import { startTestService, TestService } from '../support/test-service';

describe.each(testDatabases())('configuration API on %s', (kind) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService(kind);
  });
  afterAll(async () => {
    await t?.stop();
  });

  let counter = 0;
  const unique = (prefix: string) => `${prefix}${++counter}`;
  const createApp = async (overrides: Partial<{ name: string; bundleId: string; platform: 'IOS' | 'ANDROID' | 'WEB' | 'OTHER' }> = {}) =>
    (await t.admin.ok(CreateAppDocument, { input: { name: 'Game', bundleId: unique('com.example.game'), platform: 'IOS', ...overrides } })).createApp;
  const createNetwork = async (slug = unique('net')) => (await t.admin.ok(CreateNetworkDocument, { input: { name: `Network ${slug}`, slug } })).createNetwork;

  describe('apps', () => {
    it('creates, reads, updates and lists an app', async () => {
      const app = await createApp({ name: 'Puzzle' });
      expect(app).toMatchObject({ name: 'Puzzle', platform: 'IOS' });
      expect(new Date(app.createdAt).toISOString()).toBe(app.createdAt);
      const updated = (await t.admin.ok(UpdateAppDocument, { id: app.id, input: { name: 'Puzzle 2' } })).updateApp;
      expect(updated).toMatchObject({ id: app.id, name: 'Puzzle 2', bundleId: app.bundleId });
      const { apps } = await t.admin.ok(AppsDocument);
      expect(apps.map((a) => a.id)).toContain(app.id);
      expect((await t.admin.ok(AppByIdDocument, { id: app.id })).app?.name).toBe('Puzzle 2');
    });

    it('rejects a second app with the same bundle id and platform as CONFLICT, and allows another platform', async () => {
      const app = await createApp();
      const error = await t.admin.error(CreateAppDocument, { input: { name: 'Twin', bundleId: app.bundleId, platform: 'IOS' } });
      expect(error.extensions?.code).toBe('CONFLICT');
      await t.admin.ok(CreateAppDocument, { input: { name: 'Twin', bundleId: app.bundleId, platform: 'ANDROID' } });
    });

    it('names every invalid field and stores nothing', async () => {
      const before = (await t.admin.ok(AppsDocument)).apps.length;
      const error = await t.admin.error(CreateAppDocument, { input: { name: '  ', bundleId: 'has space', platform: 'IOS' } });
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      const fields = (error.extensions?.problems as { field: string }[]).map((p) => p.field);
      expect(fields).toEqual(['input.name', 'input.bundleId']);
      expect((await t.admin.ok(AppsDocument)).apps.length).toBe(before);
    });

    it('rejects an unknown platform as BAD_USER_INPUT', async () => {
      const error = await t.admin.error(CreateAppDocument, { input: { name: 'X', bundleId: 'x.y', platform: 'SYMBIAN' as never } });
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('soft-deletes an app: gone from lists, its bundle id free again, NOT_FOUND on a second delete', async () => {
      const app = await createApp();
      expect((await t.admin.ok(DeleteAppDocument, { id: app.id })).deleteApp).toBe(true);
      expect((await t.admin.ok(AppByIdDocument, { id: app.id })).app).toBeNull();
      expect((await t.admin.error(DeleteAppDocument, { id: app.id })).extensions?.code).toBe('NOT_FOUND');
      await t.admin.ok(CreateAppDocument, { input: { name: 'Again', bundleId: app.bundleId, platform: 'IOS' } });
    });
  });

  describe('networks', () => {
    it('creates and updates a network, and rejects a duplicate slug as CONFLICT', async () => {
      const network = await createNetwork('adnet_one');
      expect(network.slug).toBe('adnet_one');
      expect((await t.admin.error(CreateNetworkDocument, { input: { name: 'Dup', slug: 'adnet_one' } })).extensions?.code).toBe('CONFLICT');
      const other = await createNetwork('adnet-two');
      expect((await t.admin.error(UpdateNetworkDocument, { id: other.id, input: { slug: 'adnet_one' } })).extensions?.code).toBe('CONFLICT');
      const renamed = (await t.admin.ok(UpdateNetworkDocument, { id: other.id, input: { name: 'Renamed' } })).updateNetwork;
      expect(renamed).toMatchObject({ name: 'Renamed', slug: 'adnet-two' });
      expect((await t.admin.ok(NetworksDocument)).networks.map((n) => n.id)).toEqual(expect.arrayContaining([network.id, other.id]));
    });

    it('rejects a slug outside [a-z0-9_-]', async () => {
      const error = await t.admin.error(CreateNetworkDocument, { input: { name: 'Bad', slug: 'Has Caps' } });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.slug' });
    });

    it('deleting a network disables its callbacks but keeps them readable', async () => {
      const app = await createApp();
      const network = await createNetwork();
      const callback = (await t.admin.ok(CreateCallbackDocument, { input: { appId: app.id, networkId: network.id, name: 'cb', urlTemplate: 'https://n.example/p' } })).createCallback;
      await t.admin.ok(DeleteNetworkDocument, { id: network.id });
      expect((await t.admin.ok(CallbackByIdDocument, { id: callback.id })).callback).toBeNull();
      expect((await t.admin.ok(AppByIdDocument, { id: app.id })).app?.callbacks).toEqual([]);
    });
  });

  describe('callbacks', () => {
    it('creates a callback with defaults, a signing secret, and resolves app and network', async () => {
      const app = await createApp();
      const network = await createNetwork();
      const callback = (await t.admin.ok(CreateCallbackDocument, {
        input: {
          appId: app.id, networkId: network.id, name: 'install postback', signing: true, eventNames: ['install', 'install'],
          urlTemplate: 'https://postback.example/i?ifa={{advertising_id}}&ip={{ ip_address }}&cid={{campaign_id}}',
        },
      })).createCallback;
      expect(callback).toMatchObject({
        method: 'GET', enabled: true, maxAttempts: 10, timeoutMs: 10000, attributedOnly: false, eventNames: ['install'],
        app: { id: app.id }, network: { id: network.id, slug: network.slug }, headers: [], bodyTemplate: null,
      });
      expect(callback.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
      const off = (await t.admin.ok(UpdateCallbackDocument, { id: callback.id, input: { signing: false, enabled: false } })).updateCallback;
      expect(off).toMatchObject({ signingSecret: null, enabled: false });
    });

    it('lists every unknown macro name in one error and stores nothing', async () => {
      const app = await createApp();
      const error = await t.admin.error(CreateCallbackDocument, {
        input: {
          appId: app.id, name: 'cb', method: 'POST', urlTemplate: 'https://x.example/?a={{nope_one}}&b={{advertising_id}}',
          bodyTemplate: '{"v":"{{nope_two}}"}', headers: [{ name: 'X-Key', value: '{{nope_three}}' }],
        },
      });
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error.extensions?.unknownMacros).toEqual(['nope_one', 'nope_three', 'nope_two']);
      expect(error.message).toContain('nope_one, nope_three, nope_two');
      expect((await t.admin.ok(AppByIdDocument, { id: app.id })).app?.callbacks).toEqual([]);
    });

    it('accepts an app macro and a global macro in templates', async () => {
      const app = await createApp();
      await t.admin.ok(CreateMacroDocument, { input: { appId: app.id, name: unique('app_key'), source: 'CONSTANT', value: 'k' } });
      const globalName = unique('global_sku');
      await t.admin.ok(CreateMacroDocument, { input: { name: globalName, source: 'PARAM', path: 'item.sku' } });
      const appMacro = (await t.admin.ok(MacrosDocument, { appId: app.id })).macros.find((m) => m.app?.id === app.id)!;
      await t.admin.ok(CreateCallbackDocument, {
        input: { appId: app.id, name: 'cb', urlTemplate: `https://x.example/?k={{${appMacro.name}}}&s={{${globalName}}}` },
      });
    });

    it.each([
      ['timeoutMs below 100', { timeoutMs: 50 }, 'input.timeoutMs'],
      ['timeoutMs above 30000', { timeoutMs: 30001 }, 'input.timeoutMs'],
      ['maxAttempts 0', { maxAttempts: 0 }, 'input.maxAttempts'],
      ['maxAttempts 21', { maxAttempts: 21 }, 'input.maxAttempts'],
      ['attributedOnly without a network', { attributedOnly: true }, 'input.attributedOnly'],
      ['a URL that is not http(s)', { urlTemplate: 'ftp://x.example/' }, 'input.urlTemplate'],
      ['a malformed placeholder', { urlTemplate: 'https://x.example/?a={{ broken' }, 'input.urlTemplate'],
      ['a body on GET', { method: 'GET' as const, bodyTemplate: '{"a":"b"}' }, 'input.bodyTemplate'],
      ['a JSON body that does not parse', { method: 'POST' as const, bodyTemplate: '{"a": {{event_name}}}' }, 'input.bodyTemplate'],
      ['a reserved header', { headers: [{ name: 'webhook-id', value: 'x' }] }, 'input.headers.0.name'],
    ])('rejects %s', async (_label, overrides, field) => {
      const app = await createApp();
      const error = await t.admin.error(CreateCallbackDocument, { input: { appId: app.id, name: 'cb', urlTemplate: 'https://x.example/p', ...overrides } });
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect((error.extensions?.problems as { field: string }[]).map((p) => p.field)).toContain(field);
    });

    it('rejects a missing app and a missing network in the input', async () => {
      const error = await t.admin.error(CreateCallbackDocument, { input: { appId: '00000000-0000-7000-8000-000000000000', name: 'cb', urlTemplate: 'https://x.example' } });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.appId' });
      const app = await createApp();
      const e2 = await t.admin.error(CreateCallbackDocument, { input: { appId: app.id, networkId: '00000000-0000-7000-8000-000000000000', name: 'cb', urlTemplate: 'https://x.example' } });
      expect(e2.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.networkId' });
    });

    it('an invalid update changes nothing', async () => {
      const app = await createApp();
      const callback = (await t.admin.ok(CreateCallbackDocument, { input: { appId: app.id, name: 'keep', urlTemplate: 'https://x.example/a' } })).createCallback;
      const error = await t.admin.error(UpdateCallbackDocument, { id: callback.id, input: { name: 'changed', urlTemplate: 'https://x.example/{{unknown_macro}}' } });
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      const after = (await t.admin.ok(CallbackByIdDocument, { id: callback.id })).callback;
      expect(after).toMatchObject({ name: 'keep', urlTemplate: 'https://x.example/a' });
      expect((await t.admin.ok(DeleteCallbackDocument, { id: callback.id })).deleteCallback).toBe(true);
      expect((await t.admin.ok(CallbackByIdDocument, { id: callback.id })).callback).toBeNull();
    });
  });

  describe('macros', () => {
    it('lists the built-ins with descriptions', async () => {
      const { builtInMacros } = await t.admin.ok(BuiltInMacrosDocument);
      const names = builtInMacros.map((m) => m.name);
      for (const name of ['advertising_id', 'ip_address', 'bundle_id', 'campaign_id', 'event_name', 'revenue', 'delivery_id', 'limit_ad_tracking']) expect(names).toContain(name);
      expect(builtInMacros.every((m) => m.description.length > 0)).toBe(true);
    });

    it.each([
      ['a built-in name', { name: 'advertising_id', source: 'CONSTANT' as const, value: 'x' }, 'input.name'],
      ['a name with capitals', { name: 'BadName', source: 'CONSTANT' as const, value: 'x' }, 'input.name'],
      ['FIELD without a built-in path', { name: 'f1', source: 'FIELD' as const, path: 'not_a_builtin' }, 'input.path'],
      ['PARAM without a path', { name: 'p1', source: 'PARAM' as const }, 'input.path'],
      ['CONSTANT without a value', { name: 'c1', source: 'CONSTANT' as const }, 'input.value'],
    ])('rejects %s', async (_label, input, field) => {
      const error = await t.admin.error(CreateMacroDocument, { input });
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect((error.extensions?.problems as { field: string }[]).map((p) => p.field)).toContain(field);
    });

    it('scopes names per app and globally, with CONFLICT on a duplicate in one scope', async () => {
      const a = await createApp();
      const b = await createApp();
      const name = unique('partner_key');
      await t.admin.ok(CreateMacroDocument, { input: { appId: a.id, name, source: 'CONSTANT', value: 'A' } });
      await t.admin.ok(CreateMacroDocument, { input: { appId: b.id, name, source: 'CONSTANT', value: 'B' } });
      await t.admin.ok(CreateMacroDocument, { input: { name, source: 'CONSTANT', value: 'G' } });
      expect((await t.admin.error(CreateMacroDocument, { input: { appId: a.id, name, source: 'CONSTANT', value: 'A2' } })).extensions?.code).toBe('CONFLICT');
      const listed = (await t.admin.ok(MacrosDocument, { appId: a.id })).macros.filter((m) => m.name === name);
      expect(listed.map((m) => m.value).sort()).toEqual(['A', 'G']);
    });

    it('updates a macro and refuses to delete one that a callback uses', async () => {
      const app = await createApp();
      const name = unique('hashed_ifa');
      const macro = (await t.admin.ok(CreateMacroDocument, { input: { appId: app.id, name, source: 'FIELD', path: 'advertising_id', transform: 'SHA256' } })).createMacro;
      const updated = (await t.admin.ok(UpdateMacroDocument, { id: macro.id, input: { transform: 'MD5', defaultValue: 'none' } })).updateMacro;
      expect(updated).toMatchObject({ transform: 'MD5', defaultValue: 'none', path: 'advertising_id' });
      const badUpdate = await t.admin.error(UpdateMacroDocument, { id: macro.id, input: { source: 'PARAM' } });
      expect(badUpdate.extensions?.code).toBe('BAD_USER_INPUT');
      await t.admin.ok(CreateCallbackDocument, { input: { appId: app.id, name: 'cb', urlTemplate: `https://x.example/?h={{${name}}}` } });
      const conflict = await t.admin.error(DeleteMacroDocument, { id: macro.id });
      expect(conflict.extensions?.code).toBe('CONFLICT');
    });
  });

  describe('API keys and roles', () => {
    it('shows a secret once, hides it after, and enforces roles and revocation', async () => {
      const app = await createApp();
      const created = (await t.admin.ok(CreateApiKeyDocument, { input: { name: 'sdk', role: 'SDK', appId: app.id } })).createApiKey;
      expect(created.secret.length).toBeGreaterThanOrEqual(40);
      expect(created.apiKey).toMatchObject({ role: 'SDK', app: { id: app.id }, network: null });
      const listed = await t.admin.request(ApiKeysDocument);
      expect(JSON.stringify(listed)).not.toContain(created.secret);

      const sdk = t.admin.as(created.secret);
      expect((await sdk.error(AppsDocument)).extensions?.code).toBe('FORBIDDEN');
      expect((await sdk.error(CreateNetworkDocument, { input: { name: 'n', slug: unique('n') } })).extensions?.code).toBe('FORBIDDEN');
      expect((await sdk.error(ApiKeysDocument)).extensions?.code).toBe('FORBIDDEN');

      await t.admin.ok(RevokeApiKeyDocument, { id: created.apiKey.id });
      expect((await sdk.error(AppsDocument)).extensions?.code).toBe('UNAUTHENTICATED');
      const revoked = (await t.admin.ok(ApiKeysDocument)).apiKeys.find((k) => k.id === created.apiKey.id);
      expect(revoked?.revokedAt).not.toBeNull();
    });

    it('PARTNER keys are FORBIDDEN on configuration; a missing or unknown key is UNAUTHENTICATED', async () => {
      const network = await createNetwork();
      const partner = (await t.admin.ok(CreateApiKeyDocument, { input: { name: 'p', role: 'PARTNER', networkId: network.id } })).createApiKey;
      expect((await t.admin.as(partner.secret).error(NetworksDocument)).extensions?.code).toBe('FORBIDDEN');
      expect((await t.anonymous.error(AppsDocument)).extensions?.code).toBe('UNAUTHENTICATED');
      expect((await t.admin.as('pb_admin_not-a-real-key-at-all').error(AppsDocument)).extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('checks the binding of each role', async () => {
      const cases = [
        { input: { name: 'k', role: 'SDK' as const }, field: 'input.appId' },
        { input: { name: 'k', role: 'PARTNER' as const }, field: 'input.networkId' },
        { input: { name: '', role: 'ADMIN' as const }, field: 'input.name' },
      ];
      for (const { input, field } of cases) {
        const error = await t.admin.error(CreateApiKeyDocument, { input });
        expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      }
    });

    it('deleting an app revokes its SDK keys', async () => {
      const app = await createApp();
      const created = (await t.admin.ok(CreateApiKeyDocument, { input: { name: 'sdk', role: 'SDK', appId: app.id } })).createApiKey;
      await t.admin.ok(DeleteAppDocument, { id: app.id });
      const key = (await t.admin.ok(ApiKeysDocument)).apiKeys.find((k) => k.id === created.apiKey.id);
      expect(key?.revokedAt).not.toBeNull();
    });
  });
});
