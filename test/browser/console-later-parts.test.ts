// The console's parts for the delivery operations fields (deliveryStats, Callback.health),
// against the real service: postbacks sent to a local receiver that fails some of them give
// the statistics, and one callback is paused through the health store.
import { describeInBrowser, openBrowser, RunningBrowser, screenshot, waitInPage } from './browser';
import { ensureConsoleBuilt } from '../support/console-assets';
import { Receiver, waitFor } from '../support/receiver';
import { startTestService, TestService, TEST_ADMIN_SECRET } from '../support/test-service';
import { unique } from '../support/fixtures';

// Page functions run in the browser (see console.test.ts).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

describeInBrowser('the console with the statistics and health fields', () => {
  let t: TestService;
  let base: string;
  let b: RunningBrowser;
  let appId: string;
  let callbackId: string;
  let receiver: Receiver;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    receiver = await new Receiver().start();
    t = await startTestService('sqlite', { DISPATCHER: 'inline', DISPATCH_ALLOW_PRIVATE: 'true' });
    base = t.service.url.replace(/\/graphql$/, '');
    appId = (await t.admin.ok<{ createApp: { id: string } }, unknown>('mutation($i: CreateAppInput!) { createApp(input: $i) { id } }', { i: { name: 'Puzzle Quest', bundleId: unique('com.example.'), platform: 'IOS' } })).createApp.id;
    callbackId = (await t.admin.ok<{ createCallback: { id: string } }, unknown>('mutation($i: CreateCallbackInput!) { createCallback(input: $i) { id } }', { i: { appId, name: 'Installs to Example Ads', urlTemplate: `${receiver.url('/p')}?ifa={{advertising_id}}` } })).createCallback.id;
    // Every third postback fails for good (400), the rest are delivered.
    let n = 0;
    receiver.respond((_req, res) => {
      n++;
      res.statusCode = n % 3 === 0 ? 400 : 200;
      res.end('x');
    });
    for (let i = 0; i < 12; i++) await t.admin.ok('mutation($i: RecordEventInput!) { recordEvent(input: $i) { deliveries { id } } }', { i: { appId, name: 'install' } });
    const deliveries = () => t.admin.ok<{ deliveries: { edges: { node: { status: string } }[] } }, unknown>('{ deliveries(first: 50) { edges { node { status } } } }');
    await waitFor(deliveries, (d) => d.deliveries.edges.length === 12 && d.deliveries.edges.every((e) => e.node.status === 'DELIVERED' || e.node.status === 'FAILED'), { timeoutMs: 20_000, what: 'the postbacks to finish' });
    // Open the callback's circuit as 20 failures would.
    const settings = { pauseMs: 60_000, maxPauseMs: 3_600_000 };
    const change = await t.service.services.callbackHealth.record(callbackId, Array(20).fill('failure'), new Date(), settings);
    t.service.services.announceHealthChange(change!);
    b = await openBrowser();
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await t?.stop();
    await receiver?.stop();
  });

  it('shows success rate and latency charts from deliveryStats, and each callback\'s health state', async () => {
    await b.page.goto(`${base}/console/`, { waitUntil: 'networkidle0' });
    await b.page.type('#signin input[name=key]', TEST_ADMIN_SECRET);
    await b.page.click('#signin button');
    await b.page.waitForSelector('#stats .charts svg');
    expect(await b.page.$$eval('#stats .charts svg', (charts) => charts.length)).toBe(2);
    const figures = await b.page.$eval('#stats .figures', (el) => el.textContent ?? '');
    expect(figures).toMatch(/\d+\.\d %success, last 24 h/);
    expect(figures).toMatch(/66\.7 %/);
    expect(figures).toMatch(/\d+ \/ \d+ ms/);
    // One bar per hour of the last 24 h (from and to rounded out to the hour).
    expect(await b.page.$$eval('#stats rect.bar-ok', (bars) => bars.length)).toBeGreaterThanOrEqual(24);
    expect(await b.page.$('[data-placeholder="deliveryStats"]')).toBeNull();
    await screenshot(b.page, 'stats-real-data');

    await b.page.goto(`${base}/console/#/callbacks`);
    await waitInPage(b.page, () => (document.querySelector('#callbacks')?.textContent ?? '').includes('PAUSED'));
    expect(await b.page.$('[data-placeholder="health"]')).toBeNull();
    expect(b.pageErrors).toEqual([]);
  });
});
