// The console in a real browser: a partner watches a postback arrive and turn DELIVERED
// without reloading and opens its attempt; an admin edits a template and sees the preview
// follow and an unknown macro flagged. Screenshots go to docs/screenshots/ (the README
// shows them). On SQLite: what is tested here is the browser side; the API under it is
// tested on both databases by the integration tests.
import type { ServerResponse } from 'node:http';
import { describeInBrowser, openBrowser, RunningBrowser, screenshot, waitInPage } from './browser';
import { ensureConsoleBuilt } from '../support/console-assets';
import { startTestService, TestService, TEST_ADMIN_SECRET } from '../support/test-service';
import { Receiver } from '../support/receiver';
import { unique } from '../support/fixtures';
import { buildGraphQLSchema } from '../../src/graphql/schema';

// Page functions run in the browser. The project's type check has no DOM library (adding it
// would change Node's fetch types everywhere), so the few browser globals used are declared here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const window: any, document: any, sessionStorage: any;

async function signIn(b: RunningBrowser, base: string, secret: string): Promise<void> {
  await b.page.goto(`${base}/console/`, { waitUntil: 'networkidle0' });
  await b.page.type('#signin input[name=key]', secret);
  await b.page.click('#signin button');
  await b.page.waitForSelector('#who');
}

describeInBrowser('the console in a browser', () => {
  let t: TestService;
  let base: string;
  let receiver: Receiver;
  let b: RunningBrowser;
  const held: ServerResponse[] = [];
  let deliveredId = '';
  let ids: { app: string; network: string; slug: string; callback: string; partner: string; sdk: string };

  beforeAll(async () => {
    await ensureConsoleBuilt();
    receiver = await new Receiver().start();
    // Answers wait until the test releases them, so a delivery is seen in progress first.
    receiver.respond((_req, res) => {
      held.push(res);
    });
    t = await startTestService('sqlite', { DISPATCHER: 'inline' });
    base = t.service.url.replace(/\/graphql$/, '');
    const slug = unique('exampleads');
    const app = (await t.admin.ok<{ createApp: { id: string } }, unknown>('mutation($i: CreateAppInput!) { createApp(input: $i) { id } }', { i: { name: 'Puzzle Quest', bundleId: unique('com.example.puzzle'), platform: 'IOS' } })).createApp.id;
    const network = (await t.admin.ok<{ createNetwork: { id: string } }, unknown>('mutation($i: CreateNetworkInput!) { createNetwork(input: $i) { id } }', { i: { name: 'Example Ads', slug } })).createNetwork.id;
    const callback = (
      await t.admin.ok<{ createCallback: { id: string } }, unknown>('mutation($i: CreateCallbackInput!) { createCallback(input: $i) { id } }', {
        i: { appId: app, networkId: network, name: 'Installs to Example Ads', eventNames: ['install'], attributedOnly: true, urlTemplate: receiver.url('/install?ifa={{advertising_id}}&cid={{campaign_id}}') },
      })
    ).createCallback.id;
    const key = async (input: Record<string, unknown>) => (await t.admin.ok<{ createApiKey: { secret: string } }, unknown>('mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }', { i: input })).createApiKey.secret;
    ids = { app, network, slug, callback, partner: await key({ name: 'Example Ads', role: 'PARTNER', networkId: network }), sdk: await key({ name: 'puzzle backend', role: 'SDK', appId: app }) };
    b = await openBrowser();
  }, 120_000);

  afterAll(async () => {
    for (const res of held.splice(0)) res.end('ok');
    await b?.close();
    await t?.stop();
    await receiver?.stop();
  });

  it('shows a partner its postback live, PENDING or SENDING then DELIVERED without a reload, and its attempt', async () => {
    await signIn(b, base, ids.partner);
    await b.page.waitForSelector('.live.on');
    expect(await b.page.$$eval('header nav a', (links) => links.map((a) => a.textContent))).toEqual(['Deliveries']);
    // The charts come with deliveryStats: shown when the served schema has it, a marked placeholder until then.
    const schemaHasStats = Boolean((await buildGraphQLSchema()).getQueryType()?.getFields().deliveryStats);
    if (schemaHasStats) await b.page.waitForSelector('#stats .charts svg');
    else expect(await b.page.$('[data-placeholder="deliveryStats"]')).not.toBeNull();
    await b.page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

    const recorded = await t.anonymous.as(ids.sdk).ok<{ recordEvent: { deliveries: { id: string }[] } }, unknown>('mutation($i: RecordEventInput!) { recordEvent(input: $i) { deliveries { id } } }', {
      i: { appId: ids.app, eventId: unique('install-'), name: 'install', network: ids.slug, advertisingId: '6D92078A-8246-4BA4-AE5B-76104861E7DC', campaignId: 'summer sale' },
    });
    const deliveryId = recorded.recordEvent.deliveries[0].id;
    deliveredId = deliveryId;
    const row = `tr[data-delivery-id="${deliveryId}"]`;
    await b.page.waitForSelector(row);
    // The receiver holds its answer: the row is still in progress.
    expect(await b.page.$eval(`${row} .badge`, (el) => el.getAttribute('data-status'))).toMatch(/^(PENDING|SENDING)$/);
    await waitInPage(b.page, () => document.querySelectorAll('tr[data-delivery-id]').length === 1);
    await screenshot(b.page, 'partner-deliveries-sending');

    while (held.length === 0) await new Promise((r) => setTimeout(r, 50));
    for (const res of held.splice(0)) res.end('ok');
    await waitInPage(b.page, (selector: string) => document.querySelector(`${selector} .badge`)?.getAttribute('data-status') === 'DELIVERED', row);
    expect(await b.page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await b.page.$eval(row, (el) => el.textContent)).toContain('Installs to Example Ads');
    await screenshot(b.page, 'partner-deliveries');

    // Filters: by status (asked of the server again), and by the app and callback its deliveries name.
    await b.page.select('select[name=status]', 'FAILED');
    await waitInPage(b.page, () => document.querySelectorAll('tr[data-delivery-id]').length === 0);
    await b.page.select('select[name=status]', 'DELIVERED');
    await b.page.waitForSelector(row);
    expect(await b.page.$$eval('select[name=app] option', (options) => options.map((o) => o.textContent))).toEqual(['all', 'Puzzle Quest']);
    await b.page.select('select[name=callback]', ids.callback);
    await b.page.waitForSelector(row);
    await b.page.select('select[name=status]', '');
    await b.page.select('select[name=callback]', '');
    await b.page.waitForSelector(row);

    await b.page.click(row);
    await b.page.waitForSelector('#attempts tr[data-attempt="1"]');
    const attempt = await b.page.$eval('#attempts tr[data-attempt="1"]', (el) => el.textContent ?? '');
    expect(attempt).toContain('200');
    expect(attempt).toContain('ok');
    const request = await b.page.$eval('#request', (el) => el.textContent ?? '');
    expect(request).toContain('GET http://127.0.0.1:');
    expect(request).toContain('cid=summer%20sale');
    expect(await b.page.$('#redeliver')).toBeNull(); // redeliver is ADMIN only
    await screenshot(b.page, 'partner-delivery');

    // What a PARTNER key may not read was neither shown nor asked for.
    const asked = b.graphqlRequests.join('\n');
    for (const adminOnly of ['apps', 'networks', 'apiKeys', 'macros', 'previewCallback', 'redeliver']) expect(asked).not.toMatch(new RegExp(`[{\\s]${adminOnly}[\\s({]`));
    expect(b.pageErrors).toEqual([]);
    await b.page.click('#signout');
    expect(await b.page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('lets an admin edit a template with the preview following as they type, and flags an unknown macro', async () => {
    await signIn(b, base, TEST_ADMIN_SECRET);
    await b.page.goto(`${base}/console/#/callbacks/${ids.callback}`);
    await b.page.waitForSelector('#preview');
    await waitInPage(b.page, () => (document.querySelector('#preview')?.textContent ?? '').includes('ifa=6D92078A'));

    const url = 'textarea[name=urlTemplate]';
    await b.page.click(url, { count: 3 });
    await b.page.keyboard.press('Backspace');
    await b.page.type(url, 'https://partner.example/v2/install?campaign={{campaign_id}}&country={{country}}');
    await waitInPage(b.page, () => (document.querySelector('#preview')?.textContent ?? '').includes('GET https://partner.example/v2/install?campaign=summer%20sale&country=US'));
    await screenshot(b.page, 'admin-callback-editor');

    await b.page.type(url, '&sub={{sub_id}}');
    await b.page.waitForSelector('#unknown-macros');
    expect(await b.page.$eval('#unknown-macros', (el) => el.textContent)).toContain('{{sub_id}}');
    expect(await b.page.$$eval('mark.macro.unknown', (marks) => marks.map((m) => m.textContent))).toEqual(['{{sub_id}}']);
    expect(await b.page.$eval('#save', (el) => (el as unknown as { disabled: boolean }).disabled)).toBe(true);
    await screenshot(b.page, 'admin-unknown-macro');

    // Fixed, then saved: the stored callback changes only now.
    for (let i = 0; i < '&sub={{sub_id}}'.length; i++) await b.page.keyboard.press('Backspace');
    await waitInPage(b.page, () => !document.querySelector('#unknown-macros') && !document.querySelector('#save')?.hasAttribute('disabled'));
    const before = await t.admin.ok<{ callback: { urlTemplate: string } }, unknown>('query($id: ID!) { callback(id: $id) { urlTemplate } }', { id: ids.callback });
    expect(before.callback.urlTemplate).toContain('/install?ifa=');
    await b.page.click('#save');
    await b.page.waitForSelector('.ok');
    const after = await t.admin.ok<{ callback: { urlTemplate: string } }, unknown>('query($id: ID!) { callback(id: $id) { urlTemplate } }', { id: ids.callback });
    expect(after.callback.urlTemplate).toBe('https://partner.example/v2/install?campaign={{campaign_id}}&country={{country}}');
    expect(b.pageErrors).toEqual([]);
  });

  it('lets an admin redeliver a finished delivery and watch the new attempt', async () => {
    await b.page.goto(`${base}/console/#/deliveries/${deliveredId}`);
    await b.page.waitForSelector('#attempts tr[data-attempt="1"]');
    await b.page.click('#redeliver');
    while (held.length === 0) await new Promise((r) => setTimeout(r, 50));
    for (const res of held.splice(0)) res.end('ok again');
    await b.page.waitForSelector('#attempts tr[data-attempt="2"]');
    await waitInPage(b.page, () => document.querySelector('#delivery .badge')?.getAttribute('data-status') === 'DELIVERED');
    expect(await b.page.$eval('#attempts tr[data-attempt="2"]', (el) => el.textContent ?? '')).toContain('ok again');
    expect(b.pageErrors).toEqual([]);
  });

  it('shows an admin an API key secret once when it is created', async () => {
    await b.page.goto(`${base}/console/#/keys`);
    await b.page.waitForSelector('#keys');
    await b.page.type('form input[name=name]', 'Second partner');
    await b.page.click('form.inline-form button');
    await b.page.waitForSelector('#new-secret');
    const secret = await b.page.$eval('#new-secret .secret-value', (el) => el.textContent ?? '');
    expect(secret.length).toBeGreaterThan(20);
    await waitInPage(b.page, () => (document.querySelector('#keys')?.textContent ?? '').includes('Second partner'));
    await screenshot(b.page, 'admin-api-keys');
    const viewer = await t.anonymous.as(secret).ok<{ viewer: { role: string } }, unknown>('{ viewer { role } }');
    expect(viewer.viewer.role).toBe('PARTNER');
    expect(b.pageErrors).toEqual([]);
  });
});
