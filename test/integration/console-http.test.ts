// How the console and the IDE are served beside the API, and the two API additions the
// console relies on: `viewer` (a key learns its role) and previewCallback's `draft`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDatabases } from '../support/databases';
import { startTestService, TestService, TEST_ADMIN_SECRET } from '../support/test-service';
import { consoleBuildInfo, ensureConsoleBuilt } from '../support/console-assets';
import { unique } from '../support/fixtures';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('the console build', () => {
  beforeAll(() => ensureConsoleBuilt(), 120_000);

  it("keeps the console's own JavaScript and CSS under 200 KB gzipped (GraphiQL aside)", () => {
    const info = consoleBuildInfo();
    expect(info.consoleBudgetGzipBytes).toBe(200 * 1024);
    expect(info.consoleGzipBytes).toBeGreaterThan(1000);
    expect(info.consoleGzipBytes).toBeLessThanOrEqual(info.consoleBudgetGzipBytes);
  });

  it('loads nothing from another origin', () => {
    const dir = join(__dirname, '..', '..', 'dist', 'public', 'console');
    for (const page of ['index.html', join('ide', 'index.html')]) {
      const html = readFileSync(join(dir, page), 'utf8');
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
  });
});

describe.each(testDatabases())('the console and GraphiQL over HTTP on %s', (kind) => {
  let t: TestService;
  let base: string;
  beforeAll(async () => {
    await ensureConsoleBuilt();
    t = await startTestService(kind);
    base = t.service.url.replace(/\/graphql$/, '');
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('gives a browser GraphiQL at /graphql, from its own files, and API clients GraphQL as before', async () => {
    const page = await fetch(`${base}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script src="/console/ide/ide.js">');
    const script = await fetch(`${base}/console/ide/ide.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await script.text()).length).toBeGreaterThan(100_000);

    const query = encodeURIComponent('{ viewer { role } }');
    for (const accept of ['application/json', 'application/graphql-response+json', '*/*']) {
      const api = await fetch(`${base}/graphql?query=${query}`, { headers: { accept, authorization: `Bearer ${TEST_ADMIN_SECRET}` } });
      expect(api.headers.get('content-type')).toMatch(/json/);
      expect(await api.json()).toEqual({ data: { viewer: { role: 'ADMIN' } } });
    }
    const post = await fetch(`${base}/graphql`, { method: 'POST', headers: { accept: BROWSER_ACCEPT, 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_SECRET}` }, body: JSON.stringify({ query: '{ viewer { role } }' }) });
    expect(await post.json()).toEqual({ data: { viewer: { role: 'ADMIN' } } });
  });

  it('serves the console at /console/', async () => {
    const bare = await fetch(`${base}/console`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/console/');
    const page = await fetch(`${base}/console/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('src="/console/app.js"');
    const script = await fetch(`${base}/console/app.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${base}/console/missing.js`)).status).toBe(404);
  });

  it('tells each key its role and binding through viewer', async () => {
    const { createApp: app } = await t.admin.ok<{ createApp: { id: string } }, unknown>('mutation($i: CreateAppInput!) { createApp(input: $i) { id } }', { i: { name: 'Puzzle', bundleId: unique('com.example.'), platform: 'IOS' } });
    const { createNetwork: net } = await t.admin.ok<{ createNetwork: { id: string } }, unknown>('mutation($i: CreateNetworkInput!) { createNetwork(input: $i) { id } }', { i: { name: 'Example Ads', slug: unique('ads') } });
    const key = async (input: Record<string, unknown>) =>
      (await t.admin.ok<{ createApiKey: { secret: string } }, unknown>('mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }', { i: input })).createApiKey.secret;
    const partner = await key({ name: 'Example Ads', role: 'PARTNER', networkId: net.id });
    const sdk = await key({ name: 'puzzle backend', role: 'SDK', appId: app.id });
    const VIEWER = '{ viewer { role apiKey { name } app { id } network { id } } }';

    expect(await t.admin.ok(VIEWER)).toEqual({ viewer: { role: 'ADMIN', apiKey: null, app: null, network: null } });
    expect(await t.anonymous.as(partner).ok(VIEWER)).toEqual({ viewer: { role: 'PARTNER', apiKey: { name: 'Example Ads' }, app: null, network: { id: net.id } } });
    expect(await t.anonymous.as(sdk).ok(VIEWER)).toEqual({ viewer: { role: 'SDK', apiKey: { name: 'puzzle backend' }, app: { id: app.id }, network: null } });
    expect((await t.anonymous.error(VIEWER)).extensions?.code).toBe('UNAUTHENTICATED');
    expect((await t.anonymous.as('not-a-key-0123456789').error(VIEWER)).extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('previews an unsaved draft of a callback, names its unknown macros, and stores nothing', async () => {
    const { createApp: app } = await t.admin.ok<{ createApp: { id: string } }, unknown>('mutation($i: CreateAppInput!) { createApp(input: $i) { id } }', { i: { name: 'Draft', bundleId: unique('com.example.'), platform: 'ANDROID' } });
    const { createCallback: cb } = await t.admin.ok<{ createCallback: { id: string } }, unknown>('mutation($i: CreateCallbackInput!) { createCallback(input: $i) { id } }', {
      i: { appId: app.id, name: 'bi', urlTemplate: 'https://bi.example/e?n={{event_name}}' },
    });
    const PREVIEW = 'query($id: ID!, $e: RecordEventInput!, $d: UpdateCallbackInput) { previewCallback(callbackId: $id, event: $e, draft: $d) { method url body } }';
    const event = { appId: app.id, name: 'purchase', campaignId: 'summer sale' };

    const stored = await t.admin.ok<{ previewCallback: { url: string } }, unknown>(PREVIEW, { id: cb.id, e: event });
    expect(stored.previewCallback.url).toBe('https://bi.example/e?n=purchase');
    const drafted = await t.admin.ok<{ previewCallback: { method: string; url: string; body: string } }, unknown>(PREVIEW, {
      id: cb.id,
      e: event,
      d: { urlTemplate: 'https://bi.example/v2?c={{campaign_id}}', bodyTemplate: '{"e":"{{event_name}}"}', method: 'POST' },
    });
    expect(drafted.previewCallback).toEqual({ method: 'POST', url: 'https://bi.example/v2?c=summer%20sale', body: '{"e":"purchase"}' });

    const unknown = await t.admin.error(PREVIEW, { id: cb.id, e: event, d: { urlTemplate: 'https://bi.example/?a={{nope_one}}&b={{nope_two}}&c={{campaign_id}}' } });
    expect(unknown.extensions?.code).toBe('BAD_USER_INPUT');
    expect(unknown.message).toContain('nope_one, nope_two');
    expect(unknown.extensions?.unknownMacros).toEqual(['nope_one', 'nope_two']);
    expect(unknown.extensions?.field).toBe('draft');

    const badUrl = await t.admin.error(PREVIEW, { id: cb.id, e: event, d: { urlTemplate: 'ftp://x' } });
    expect(badUrl.extensions?.field).toBe('draft.urlTemplate');

    // Nothing was saved by any of these.
    expect((await t.admin.ok<{ previewCallback: { url: string } }, unknown>(PREVIEW, { id: cb.id, e: event })).previewCallback.url).toBe('https://bi.example/e?n=purchase');
    const partnerless = await t.anonymous.as('not-a-key-0123456789').error(PREVIEW, { id: cb.id, e: event, d: { name: 'x' } });
    expect(partnerless.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
