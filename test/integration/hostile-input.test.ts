import WebSocket from 'ws';
import { CreateMacroDocument, RecordEventDocument, RecordEventsDocument } from '../generated/graphql';
import { testDatabases } from '../support/databases';
import { configurationFixtures } from '../support/fixtures';
import { startTestService, TestService, TEST_ADMIN_SECRET } from '../support/test-service';

/**
 * What a hostile or broken client may send. For each: a clear error, and the server unharmed
 * (it still answers /readyz and serves the next request).
 */
describe.each(testDatabases())('hostile input on %s', (kind) => {
  let t: TestService;
  let fx: ReturnType<typeof configurationFixtures>;
  let base: string;
  beforeAll(async () => {
    t = await startTestService(kind);
    fx = configurationFixtures(t.admin);
    base = t.service.url.replace(/\/graphql$/, '');
  });
  afterAll(async () => {
    await t?.stop();
  });

  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(t.service.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_SECRET}`, ...headers }, body });

  async function expectHealthy(): Promise<void> {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const answer = await t.admin.request('{ networks { id } }');
    expect(answer.errors).toBeUndefined();
  }
  afterEach(expectHealthy);

  it('answers a body over 1 MB with 413', async () => {
    const response = await post(JSON.stringify({ query: '{ apps { id } }', padding: 'x'.repeat(1_100_000) }));
    expect(response.status).toBe(413);
    expect(JSON.stringify(await response.json())).toContain('exceeds 1048576 bytes');
  });

  it('answers malformed JSON with 400', async () => {
    const response = await post('{"query": "{ apps { id } }"');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { message: string; extensions: { code: string } }[] }).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('answers a body that is not UTF-8 with 400 instead of storing U+FFFD', async () => {
    const body = Buffer.concat([Buffer.from('{"query":"{ apps { name } }","x":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { message: string; extensions: { code: string } }[] }).errors[0].message).toContain('not valid UTF-8');
  });

  it('refuses a query deeper than 12 before running it', async () => {
    const deep = `{ deliveries { edges { node { callback { app { callbacks { app { callbacks { app { callbacks { app { callbacks { id } } } } } } } } } } } } }`;
    const error = await t.admin.error(deep);
    expect(error.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(error.message).toContain('exceeds the limit of 12');
  });

  it('refuses thousands of aliases and fragment bombs', async () => {
    const wide = `{ ${Array.from({ length: 2500 }, (_, i) => `a${i}: builtInMacros { name }`).join(' ')} }`;
    expect((await t.admin.error(wide)).message).toContain('more than 2000 fields');
    // Each level doubles: 2^20 fields if expanded, refused without expanding it all.
    const levels = Array.from({ length: 20 }, (_, i) => `fragment F${i} on BuiltInMacro { ...F${i + 1} n${i}: name ...F${i + 1} }`);
    const bomb = `{ builtInMacros { ...F0 } } ${levels.join(' ')} fragment F20 on BuiltInMacro { name }`;
    expect((await t.admin.error(bomb)).extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses a document of more than 100,000 tokens', async () => {
    const error = await t.admin.error(`{ builtInMacros { ${'name '.repeat(120_000)} } }`);
    expect(error.message).toMatch(/more th\w+ 100000 tokens/);
  });

  it('refuses batches over 500 events, also written inline', async () => {
    const app = await fx.app();
    const inputs = Array.from({ length: 600 }, (_, i) => ({ appId: app.id, name: `e${i}` }));
    expect((await t.admin.error(RecordEventsDocument, { inputs })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputs' });
    const inline = `mutation { recordEvents(inputs: [${inputs.map((i) => `{appId: "${i.appId}", name: "${i.name}"}`).join(',')}]) { duplicate } }`;
    expect((await t.admin.error(inline)).extensions?.code).toBe('BAD_USER_INPUT');
  });

  it.each([
    ['a DateTime without a zone', { occurredAt: '2026-11-25T10:00:00' }],
    ['a DateTime that is no date', { occurredAt: 'yesterday' }],
    ['params as an array', { params: [1, 2, 3] }],
    ['params as a string', { params: 'a=b' }],
    ['revenue as a string', { revenue: '4.99' }],
    ['an unknown platform', { platform: 'SYMBIAN' }],
    ['limitAdTracking as a number', { limitAdTracking: 1 }],
    ['an unknown input field', { favouriteColour: 'red' }],
  ])('refuses %s as BAD_USER_INPUT', async (_label, overrides) => {
    const app = await fx.app();
    const error = await t.admin.error(RecordEventDocument, { input: { appId: app.id, name: 'x', ...(overrides as object) } });
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message.length).toBeGreaterThan(10);
  });

  it('refuses an Int out of range, inline or as a variable, as BAD_USER_INPUT', async () => {
    expect((await t.admin.error(`{ deliveries(first: 99999999999) { edges { cursor } } }`)).extensions?.code).toBe('BAD_USER_INPUT');
    const error = await t.admin.error(`query($first: Int) { deliveries(first: $first) { edges { cursor } } }`, { first: 99999999999 });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('names the field of a value GraphQL could not coerce, and refuses dates the calendar lacks', async () => {
    const app = await fx.app();
    for (const occurredAt of ['yesterday', '2026-02-30T00:00:00Z', '2026-11-25T25:00:00Z']) {
      const error = await t.admin.error(RecordEventDocument, { input: { appId: app.id, name: 'x', occurredAt } });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.occurredAt' });
    }
  });

  it('refuses params nested thousands of levels deep, and a lone surrogate that would break idempotency', async () => {
    const app = await fx.app();
    // 20,000 levels in 80 KB of JSON: enough to overflow a recursive JSON.stringify.
    const deep = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    const query = 'mutation($input: RecordEventInput!) { recordEvent(input: $input) { event { id } } }';
    const answer = await post(`{"query":${JSON.stringify(query)},"variables":{"input":{"appId":"${app.id}","name":"x","params":${deep}}}}`);
    const body = (await answer.json()) as { errors: { extensions: Record<string, unknown>; message: string }[] };
    expect(body.errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.params' });
    expect(body.errors[0]?.message).toMatch(/deeper than 32/);

    // "\ud800" is valid JSON but no UTF-8 text: stored, it would turn into U+FFFD.
    const surrogate = await post(`{"query":${JSON.stringify(query)},"variables":{"input":{"appId":"${app.id}","name":"x","eventId":"order-\\ud800"}}}`);
    const refused = (await surrogate.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(refused.errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.eventId' });
  });

  it('names the field of a bad value written into the document itself', async () => {
    const app = await fx.app();
    const cases: [string, string][] = [
      [`mutation { recordEvent(input: { appId: "${app.id}", name: "x", occurredAt: "2026-02-30T00:00:00Z" }) { duplicate } }`, 'input.occurredAt'],
      [`mutation { recordEvent(input: { appId: "${app.id}", name: "x", revenue: "a lot" }) { duplicate } }`, 'input.revenue'],
      [`mutation { recordEvent(input: { appId: "${app.id}", name: "x", colour: "red" }) { duplicate } }`, 'input.colour'],
      [`mutation { recordEvent(input: { appId: "${app.id}" }) { duplicate } }`, 'input.name'],
      [`mutation { recordEvents(inputs: [{ appId: "${app.id}", name: "a" }, { appId: "${app.id}", name: 7 }]) { duplicate } }`, 'inputs.1.name'],
      [`{ deliveries(first: 99999999999) { edges { cursor } } }`, 'first'],
    ];
    for (const [query, field] of cases) {
      const answer = await t.admin.request(query);
      expect([query, answer.errors?.[0]?.extensions]).toEqual([query, expect.objectContaining({ code: 'BAD_USER_INPUT', field })]);
    }
  });

  it('never parses event values as templates, and keeps CR/LF out of header values', async () => {
    const app = await fx.app();
    await t.admin.ok(CreateMacroDocument, { input: { appId: app.id, name: 'note', source: 'PARAM', path: 'note' } });
    await fx.callback({
      appId: app.id, method: 'POST', urlTemplate: 'https://x.example/?ifa={{advertising_id}}',
      headers: [{ name: 'X-Note', value: 'n={{note}}' }], bodyTemplate: '{"ua":"{{user_agent}}"}',
    });
    const { recordEvent } = await t.admin.ok(RecordEventDocument, {
      input: { appId: app.id, name: 'x', advertisingId: '{{ip_address}}', ipAddress: '203.0.113.5', params: { note: 'a\r\nX-Injected: yes' }, userAgent: '"},"evil":"{{bundle_id}}' },
    });
    const [delivery] = recordEvent.deliveries;
    expect(delivery.url).toBe('https://x.example/?ifa=%7B%7Bip_address%7D%7D');
    expect(delivery.headers.find((h) => h.name === 'X-Note')?.value).toBe('n=aX-Injected: yes');
    expect(JSON.parse(delivery.body!)).toEqual({ ua: '"},"evil":"{{bundle_id}}' });
    // Identifiers with control characters are refused outright.
    const refused = await t.admin.error(RecordEventDocument, { input: { appId: app.id, name: 'x', campaignId: 'a\r\nX-Injected: yes' } });
    expect(refused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.campaignId' });

    const error = await t.admin.error(
      `mutation($appId: ID!) { createCallback(input: {appId: $appId, name: "h", urlTemplate: "https://x.example", headers: [{name: "X-A", value: "a\\r\\nX-B: b"}]}) { id } }`,
      { appId: app.id },
    );
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.headers.0.value' });
  });

  it('caps macros per scope: thousands of createMacro calls end in a clear error', async () => {
    const app = await fx.app();
    const mutation = `mutation($appId: ID!) { ${Array.from({ length: 520 }, (_, i) => `m${i}: createMacro(input: {appId: $appId, name: "k${i}", source: CONSTANT, value: "v"}) { id }`).join(' ')} }`;
    const answer = await t.admin.request(mutation, { appId: app.id });
    // Mutations run in order, and the first failure of a non-null root field ends the operation.
    expect(answer.errors?.map((e) => [e.path?.[0], e.extensions?.code])).toEqual([['m500', 'BAD_USER_INPUT']]);
    expect(answer.errors?.[0].message).toContain('500 macros');
    const stored = (await t.admin.ok(`query($appId: ID!) { app(id: $appId) { macros { id } } }`, { appId: app.id })) as { app: { macros: unknown[] } };
    expect(stored.app.macros).toHaveLength(500);
    const one = await t.admin.error(CreateMacroDocument, { input: { appId: app.id, name: 'one_more', source: 'CONSTANT', value: 'v' } });
    expect(one.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('closes a WebSocket that sends more than 1 MB in one message, with 1009 and no console noise', async () => {
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const socket = new WebSocket(t.service.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TEST_ADMIN_SECRET}`, padding: 'x'.repeat(1_100_000) } }));
    expect(await closed).toBe(1009);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(consoleError).not.toHaveBeenCalled();
    consoleError.mockRestore();
  });
});
