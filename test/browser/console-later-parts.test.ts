// The console's parts for fields built later this round (deliveryStats, Callback.health):
// they appear when the schema has those fields. Until the service serves them, the page's
// GraphQL requests for them are answered here (request interception) with figures shaped as
// next.graphql declares, so the views are exercised now; every other request reaches the
// real service.
import type { HTTPRequest } from 'puppeteer-core';
import { describeInBrowser, openBrowser, RunningBrowser, screenshot, waitInPage } from './browser';
import { ensureConsoleBuilt } from '../support/console-assets';
import { startTestService, TestService, TEST_ADMIN_SECRET } from '../support/test-service';
import { unique } from '../support/fixtures';

// Page functions run in the browser (see console.test.ts).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const HOUR = 3600_000;

function sampleStats(now: number) {
  const series = Array.from({ length: 24 }, (_, i) => {
    const delivered = 40 + ((i * 7) % 23);
    const failed = i % 6 === 0 ? 5 : i % 4;
    return { start: new Date(Math.floor(now / HOUR) * HOUR - (23 - i) * HOUR).toISOString(), delivered, failed, p50LatencyMs: 80 + ((i * 13) % 40), p95LatencyMs: 220 + ((i * 37) % 160) };
  });
  const delivered = series.reduce((n, p) => n + p.delivered, 0);
  const failed = series.reduce((n, p) => n + p.failed, 0);
  return {
    queued: delivered + failed + 3, delivered, failed, inProgress: 3, attempts: delivered + failed * 3,
    successRate: delivered / (delivered + failed), p50LatencyMs: 96, p95LatencyMs: 310, p99LatencyMs: 820,
    topErrors: [{ error: 'HTTP 503', count: 41 }, { error: 'timeout after 10000 ms', count: 12 }],
    series,
  };
}

describeInBrowser('the console with the statistics and health fields', () => {
  let t: TestService;
  let base: string;
  let b: RunningBrowser;
  let appId: string;
  let callbackId: string;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    t = await startTestService('sqlite');
    base = t.service.url.replace(/\/graphql$/, '');
    appId = (await t.admin.ok<{ createApp: { id: string } }, unknown>('mutation($i: CreateAppInput!) { createApp(input: $i) { id } }', { i: { name: 'Puzzle Quest', bundleId: unique('com.example.'), platform: 'IOS' } })).createApp.id;
    callbackId = (await t.admin.ok<{ createCallback: { id: string } }, unknown>('mutation($i: CreateCallbackInput!) { createCallback(input: $i) { id } }', { i: { appId, name: 'Installs to Example Ads', urlTemplate: 'https://ads.example/p?ifa={{advertising_id}}' } })).createCallback.id;
    b = await openBrowser();
    await b.page.setRequestInterception(true);
    b.page.on('request', (request: HTTPRequest) => {
      const body = request.method() === 'POST' ? (request.postData() ?? '') : '';
      const answer = (data: unknown) => request.respond({ status: 200, contentType: 'application/json', body: JSON.stringify({ data }) });
      if (body.includes('ConsoleHasDeliveryStats') || body.includes('ConsoleHasCallbackHealth')) return void answer({});
      if (body.includes('ConsoleStats')) return void answer({ deliveryStats: sampleStats(Date.now()) });
      if (body.includes('query ConsoleCallbacks')) {
        return void answer({
          apps: [{ id: appId, name: 'Puzzle Quest', callbacks: [
            { id: callbackId, name: 'Installs to Example Ads', enabled: true, method: 'GET', urlTemplate: 'https://ads.example/p?ifa={{advertising_id}}', eventNames: ['install'], attributedOnly: false, network: null,
              health: { state: 'PAUSED', consecutiveFailures: 20, lastSuccessAt: null, lastFailureAt: new Date().toISOString(), pausedUntil: new Date(Date.now() + 60_000).toISOString(), disabledReason: null, changedAt: new Date().toISOString() } },
          ] }],
          networks: [],
        });
      }
      return void request.continue();
    });
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await t?.stop();
  });

  it('shows success rate and latency charts from deliveryStats, and each callback\'s health state', async () => {
    await b.page.goto(`${base}/console/`, { waitUntil: 'networkidle0' });
    await b.page.type('#signin input[name=key]', TEST_ADMIN_SECRET);
    await b.page.click('#signin button');
    await b.page.waitForSelector('#stats .charts svg');
    expect(await b.page.$$eval('#stats .charts svg', (charts) => charts.length)).toBe(2);
    const figures = await b.page.$eval('#stats .figures', (el) => el.textContent ?? '');
    expect(figures).toMatch(/\d+\.\d %success, last 24 h/);
    expect(figures).toContain('96 / 310 ms');
    expect(await b.page.$$eval('#stats rect.bar-ok', (bars) => bars.length)).toBe(24);
    expect(await b.page.$('[data-placeholder="deliveryStats"]')).toBeNull();
    await screenshot(b.page, 'stats-sample-data');

    await b.page.goto(`${base}/console/#/callbacks`);
    await waitInPage(b.page, () => (document.querySelector('#callbacks')?.textContent ?? '').includes('PAUSED'));
    expect(await b.page.$('[data-placeholder="health"]')).toBeNull();
    expect(b.pageErrors).toEqual([]);
  });
});
