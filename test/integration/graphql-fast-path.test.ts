// The fast path for plain recordEvent/recordEvents POSTs (src/server/graphql-fast-path.ts) must
// answer exactly as Apollo does. Every request here is sent twice, once through Apollo (an
// Accept header the fast path leaves to Apollo, which answers it with the same content type)
// and once through the fast path, and the two answers are compared: status, headers, body
// (ids aside, as each call records its own event).
import { randomUUID } from 'node:crypto';
import { testDatabases } from '../support/databases';
import { configurationFixtures, unique } from '../support/fixtures';
import { startTestService, TestService, TEST_ADMIN_SECRET } from '../support/test-service';

const RECORD_ONE = 'mutation Record($input: RecordEventInput!) { recordEvent(input: $input) { duplicate event { id name country platform network { slug } campaignId } deliveries { id status } } }';
const RECORD_URL = 'mutation($input: RecordEventInput!) { recordEvent(input: $input) { duplicate deliveries { id url } } }';
const RECORD_MANY = 'mutation RecordMany($inputs: [RecordEventInput!]!) { recordEvents(inputs: $inputs) { duplicate event { id } deliveries { id status } } }';
const NAMED = `${RECORD_ONE} query Other { __typename }`;
const VIA_APOLLO = 'application/json;q=0.9';

type Answer = { status: number; headers: Record<string, string>; body: unknown };

/** Ids and times differ from call to call; everything else must not. */
function normalized(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalized);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'id' || k === 'url' ? '<varies>' : normalized(v)]));
  }
  return value;
}

describe.each(testDatabases())('the recordEvent fast path on %s', (kind) => {
  let t: TestService;
  let appId: string;
  let sdk: string;
  let partner: string;
  let slug: string;
  beforeAll(async () => {
    // PARTNER keys may not record events, but the guard takes their budget first. RECORD_ONE
    // costs 4 (its result, event, network, deliveries): a burst of 8 lets one call each way pass.
    t = await startTestService(kind, { RATE_LIMIT_PARTNER_BURST: '8', RATE_LIMIT_PARTNER_PER_SECOND: '1', MAX_QUERY_COST: '40' });
    const fx = configurationFixtures(t.admin);
    const app = await fx.app();
    appId = app.id;
    const network = await fx.network();
    slug = network.slug;
    await fx.callback({ appId, networkId: network.id, eventNames: ['install', 'purchase'], urlTemplate: 'https://postback.example/p?e={{event_id}}&c={{campaign_id}}' });
    sdk = await fx.sdkKey(appId);
    partner = await fx.partnerKey(network.id);
    // A document is taken by the fast path from its second sighting on.
    for (const query of [RECORD_ONE, RECORD_MANY, NAMED, RECORD_URL]) await post({ query, variables: {} }, TEST_ADMIN_SECRET);
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function post(body: unknown, key: string | null, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await fetch(t.service.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    const kept = ['content-type', 'retry-after', 'x-request-id'];
    return { status: response.status, headers: Object.fromEntries([...response.headers].filter(([name]) => kept.includes(name))), body: normalized(JSON.parse(text)) };
  }

  /** The answers of both paths to the same request (`body(n)`: n = 0 Apollo, 1 fast, for fresh event ids). */
  async function bothWays(body: (n: number) => unknown, key: string | null, headers: Record<string, string> = {}): Promise<[Answer, Answer]> {
    const requestId = randomUUID();
    const viaApollo = await post(body(0), key, { ...headers, accept: VIA_APOLLO, 'x-request-id': requestId });
    const before = t.service.http.fastPath.answered;
    const viaFast = await post(body(1), key, { ...headers, 'x-request-id': requestId });
    expect(t.service.http.fastPath.answered).toBe(before + 1);
    expect(viaFast).toEqual(viaApollo);
    return [viaApollo, viaFast];
  }

  const event = (extra: Record<string, unknown> = {}) => ({ appId, eventId: unique('e'), name: 'install', network: slug, campaignId: 'summer', country: 'us', ...extra });

  it('records an event as Apollo does', async () => {
    const [answer] = await bothWays(() => ({ query: RECORD_ONE, variables: { input: event() } }), sdk);
    expect(answer.body).not.toHaveProperty('errors');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.body).toMatchObject({ data: { recordEvent: { duplicate: false, event: { name: 'install', country: 'US', network: { slug } }, deliveries: [{ status: 'PENDING' }] } } });
  });

  it('answers a duplicate, a batch, and a named operation among others as Apollo does', async () => {
    const input = event();
    await post({ query: RECORD_ONE, variables: { input } }, sdk);
    const [duplicate] = await bothWays(() => ({ query: RECORD_ONE, variables: { input } }), sdk);
    expect(duplicate.body).toMatchObject({ data: { recordEvent: { duplicate: true } } });
    await bothWays(() => ({ query: RECORD_MANY, variables: { inputs: [event(), event({ name: 'purchase', revenue: 1.5, currency: 'EUR' })] } }), sdk);
    await bothWays(() => ({ query: NAMED, operationName: 'Record', variables: { input: event() } }), sdk);
  });

  it('answers refusals inside the resolver as Apollo does: no key, another app, bad input, an unknown app', async () => {
    const [noKey] = await bothWays(() => ({ query: RECORD_ONE, variables: { input: event() } }), null);
    expect(noKey.body).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    const otherApp = (await configurationFixtures(t.admin).app()).id;
    const [forbidden] = await bothWays(() => ({ query: RECORD_ONE, variables: { input: event({ appId: otherApp }) } }), sdk);
    expect(forbidden.body).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    const [bad] = await bothWays(() => ({ query: RECORD_ONE, variables: { input: event({ country: 'Narnia' }) } }), sdk);
    expect(bad.body).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', field: 'input.country' } }] });
    const missingApp = randomUUID();
    const [unknown] = await bothWays(() => ({ query: RECORD_ONE, variables: { input: event({ appId: missingApp }) } }), TEST_ADMIN_SECRET);
    expect(unknown.body).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
    // A field refused after the event is recorded: an error with its path, and no data.
    const [unreadable] = await bothWays(() => ({ query: RECORD_URL, variables: { input: event() } }), sdk);
    expect(unreadable.body).toMatchObject({ errors: [{ path: ['recordEvent', 'deliveries', 0, 'url'], extensions: { code: 'FORBIDDEN' } }], data: null });
  });

  it('answers variables that do not coerce as Apollo does (400), with suggestions only for ADMIN keys', async () => {
    const [missing] = await bothWays(() => ({ query: RECORD_ONE, variables: { input: { appId } } }), sdk);
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
    const [forSdk] = await bothWays(() => ({ query: RECORD_ONE, variables: { input: event({ platform: 'IOSS' }) } }), sdk);
    expect(JSON.stringify(forSdk.body)).not.toContain('Did you mean');
    const [forAdmin] = await bothWays(() => ({ query: RECORD_ONE, variables: { input: event({ platform: 'IOSS' }) } }), TEST_ADMIN_SECRET);
    expect(JSON.stringify(forAdmin.body)).toContain('Did you mean');
    await bothWays(() => ({ query: RECORD_ONE }), sdk);
  });

  it('answers the guard\'s refusals as Apollo does: the text rule, the query cost, a spent budget (429, Retry-After)', async () => {
    const [text] = await bothWays(() => ({ query: RECORD_ONE, variables: { input: event({ campaignId: 'a\u0000b' }) } }), sdk);
    expect(text.body).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', field: 'input.campaignId' } }] });
    const [costly] = await bothWays(() => ({ query: RECORD_MANY, variables: { inputs: Array.from({ length: 30 }, () => event()) } }), sdk);
    expect(costly.status).toBe(400);
    expect(costly.body).toMatchObject({ errors: [{ extensions: { code: 'QUERY_TOO_COSTLY' } }] });
    // One call each way passes the guard (and is refused by the resolver); the budget is then spent.
    const [passed] = await bothWays(() => ({ query: RECORD_ONE, variables: { input: event() } }), partner);
    expect(passed.body).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    const [spent] = await bothWays(() => ({ query: RECORD_ONE, variables: { input: event() } }), partner);
    expect(spent.status).toBe(429);
    expect(spent.headers['retry-after']).toBeDefined();
    expect(spent.body).toMatchObject({ errors: [{ extensions: { code: 'RATE_LIMITED' } }] });
  });

  it('leaves everything else to Apollo', async () => {
    const before = t.service.http.fastPath.answered;
    const once = { query: `${RECORD_ONE} # ${unique('new')}`, variables: { input: event() } };
    expect((await post(once, sdk)).status).toBe(200); // a document seen for the first time
    await post({ query: '{ apps { id } }' }, TEST_ADMIN_SECRET); // not recordEvent
    await post({ query: RECORD_ONE, variables: { input: event() }, extensions: {} }, sdk);
    await post([{ query: RECORD_ONE, variables: { input: event() } }], sdk); // a batch array
    await post({ query: RECORD_ONE, variables: { input: event() } }, sdk, { accept: 'application/graphql-response+json' });
    await post({ query: `${RECORD_ONE} query Other { __typename }`, operationName: 'Other' }, sdk);
    await post({ query: 'mutation($input: RecordEventInput!) { recordEvent(input: $input) { duplicate } nope }', variables: { input: event() } }, sdk);
    await post({ query: 'mutation($input: RecordEventInput!) { recordEvent(input: $input) { duplicate } nope }', variables: { input: event() } }, sdk);
    const long = { query: `${RECORD_ONE} # ${'x'.repeat(5000)}`, variables: { input: event() } };
    for (let i = 0; i < 2; i++) expect((await post({ ...long, variables: { input: event() } }, sdk)).status).toBe(200);
    expect(t.service.http.fastPath.answered).toBe(before);
  });

  it('leaves every request to Apollo once closed (the server is stopping)', async () => {
    const before = t.service.http.fastPath.answered;
    t.service.http.fastPath.close();
    expect((await post({ query: RECORD_ONE, variables: { input: event() } }, sdk)).body).toMatchObject({ data: { recordEvent: { duplicate: false } } });
    expect(t.service.http.fastPath.answered).toBe(before);
  });
});
