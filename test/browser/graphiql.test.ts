// GraphiQL at /graphql in a real browser: the bundled IDE (no CDN) runs a query over HTTP
// and a subscription over graphql-ws with the key typed into its API key field.
import { describeInBrowser, openBrowser, RunningBrowser, screenshot, waitInPage } from './browser';
import { ensureConsoleBuilt } from '../support/console-assets';
import { startTestService, TestService, TEST_ADMIN_SECRET } from '../support/test-service';
import { Receiver } from '../support/receiver';
import { unique } from '../support/fixtures';

// Page functions run in the browser. The project's type check has no DOM library (adding it
// would change Node's fetch types everywhere), so the few browser globals used are declared here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const window: any, document: any, sessionStorage: any;

type CodeMirrorHost = { CodeMirror: { setValue(v: string): void; getValue(): string } };

/** Puts `document` in the query editor and runs it, once GraphiQL has taken the edit in (its tab is named after the operation). */
async function runInIde(b: RunningBrowser, document: string, operationName: string): Promise<void> {
  await b.page.evaluate((text) => (window.document.querySelector('.graphiql-query-editor .CodeMirror') as CodeMirrorHost).CodeMirror.setValue(text), document);
  await waitInPage(b.page, (name: string) => [...window.document.querySelectorAll('.graphiql-tab-button')].some((tab) => tab.textContent?.trim() === name), operationName);
  await b.page.click('.graphiql-execute-button');
}

function responseText(): string {
  const host = document.querySelector('.graphiql-response .CodeMirror') as { CodeMirror?: { getValue(): string } } | null;
  return host?.CodeMirror?.getValue() ?? '';
}

describeInBrowser('GraphiQL in a browser', () => {
  let t: TestService;
  let base: string;
  let receiver: Receiver;
  let b: RunningBrowser;
  let app: string;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    receiver = await new Receiver().start();
    t = await startTestService('sqlite', { DISPATCHER: 'inline' });
    base = t.service.url.replace(/\/graphql$/, '');
    app = (await t.admin.ok<{ createApp: { id: string } }, unknown>('mutation($i: CreateAppInput!) { createApp(input: $i) { id } }', { i: { name: 'Puzzle', bundleId: unique('com.example.'), platform: 'IOS' } })).createApp.id;
    await t.admin.ok('mutation($i: CreateCallbackInput!) { createCallback(input: $i) { id } }', { i: { appId: app, name: 'to BI', urlTemplate: receiver.url('/bi?e={{event_name}}') } });
    b = await openBrowser();
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await t?.stop();
    await receiver?.stop();
  });

  it('loads offline from the service, runs a query with the key from its API key field, and a subscription', async () => {
    const outside: string[] = [];
    b.page.on('request', (request) => {
      if (!request.url().startsWith(base) && !request.url().startsWith('data:') && !request.url().startsWith(base.replace('http', 'ws'))) outside.push(request.url());
    });
    await b.page.goto(`${base}/graphql`, { waitUntil: 'networkidle0' });
    await b.page.waitForSelector('.graphiql-query-editor .CodeMirror');
    await b.page.type('#api-key', TEST_ADMIN_SECRET);

    await runInIde(b, 'query Who {\n  viewer { role }\n  apps { name }\n}', 'Who');
    await waitInPage(b.page, () => (document.querySelector('.graphiql-response .CodeMirror') as { CodeMirror?: { getValue(): string } } | null)?.CodeMirror?.getValue().includes('"role": "ADMIN"') ?? false);
    expect(JSON.parse(await b.page.evaluate(responseText))).toEqual({ data: { viewer: { role: 'ADMIN' }, apps: [{ name: 'Puzzle' }] } });
    await screenshot(b.page, 'graphiql-query');

    await runInIde(b, 'subscription Watch {\n  deliveryUpdated { id status url }\n}', 'Watch');
    // graphql-ws does not acknowledge a subscription: record events until one shows up.
    const recorded: string[] = [];
    for (let i = 0; i < 40 && !(await b.page.evaluate(responseText)).includes('deliveryUpdated'); i++) {
      const result = await t.admin.ok<{ recordEvent: { deliveries: { id: string }[] } }, unknown>('mutation($i: RecordEventInput!) { recordEvent(input: $i) { deliveries { id } } }', { i: { appId: app, eventId: unique('e'), name: 'purchase' } });
      recorded.push(result.recordEvent.deliveries[0].id);
      await new Promise((r) => setTimeout(r, 250));
    }
    const streamed = JSON.parse(await b.page.evaluate(responseText)) as { data: { deliveryUpdated: { id: string; status: string; url: string } } };
    expect(recorded).toContain(streamed.data.deliveryUpdated.id);
    expect(streamed.data.deliveryUpdated.url).toBe(receiver.url('/bi?e=purchase'));
    await waitInPage(b.page, () => (document.querySelector('.graphiql-response .CodeMirror') as { CodeMirror?: { getValue(): string } } | null)?.CodeMirror?.getValue().includes('"DELIVERED"') ?? false);
    await screenshot(b.page, 'graphiql-subscription');

    expect(outside).toEqual([]);
    expect(b.pageErrors).toEqual([]);
    expect(await b.page.evaluate(() => sessionStorage.getItem('postbacks.apiKey'))).toBe(TEST_ADMIN_SECRET);
  });
});
