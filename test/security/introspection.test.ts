// Introspection only for keys (GRAPHQL_INTROSPECTION), "Did you mean" only for ADMIN.
import { testDatabases } from '../support/databases';
import { configurationFixtures } from '../support/fixtures';
import { startTestService, type TestService } from '../support/test-service';
import { subscriptionErrors, TestSubscription } from '../support/subscription-client';

const SCHEMA = '{ __schema { queryType { name } types { name } } }';
const TYPE = '{ __type(name: "Delivery") { fields { name } } }';
const HIDDEN_IN_FRAGMENT = 'query { ...Q } fragment Q on Query { __schema { types { name } } }';

describe.each(testDatabases())('introspection and suggestions on %s', (kind) => {
  let t: TestService;
  let partner: string;
  let sdk: string;
  beforeAll(async () => {
    t = await startTestService(kind);
    const fx = configurationFixtures(t.admin);
    partner = await fx.partnerKey((await fx.network()).id);
    sdk = await fx.sdkKey((await fx.app()).id);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('refuses introspection to a caller without a key, also through a fragment', async () => {
    for (const query of [SCHEMA, TYPE, HIDDEN_IN_FRAGMENT]) {
      const answer = await t.anonymous.request(query);
      expect(answer.data ?? null).toBeNull();
      expect(answer.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(answer.status).toBe(401);
    }
    // __typename is not introspection of the schema.
    expect((await t.anonymous.request('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('lets every valid key introspect', async () => {
    for (const client of [t.admin, t.anonymous.as(partner), t.anonymous.as(sdk)]) {
      const data = await client.ok<{ __schema: { queryType: { name: string } } }, Record<string, never>>(SCHEMA);
      expect(data.__schema.queryType.name).toBe('Query');
    }
  });

  it('gives "Did you mean" suggestions to ADMIN keys only', async () => {
    const typo = '{ deliverys(first: 1) { edges { cursor } } }';
    expect((await t.admin.error(typo)).message).toMatch(/Did you mean .*"deliveries"/);
    for (const client of [t.anonymous, t.anonymous.as(partner), t.anonymous.as(sdk)]) {
      const error = await client.error(typo);
      expect(error.message).toBe('Cannot query field "deliverys" on type "Query".');
    }
    // Enum values misspelt in a variable are suggested at execution, not validation.
    const enumTypo = 'query($s: [DeliveryStatus!]) { deliveries(filter: {statuses: $s}) { edges { cursor } } }';
    const partnerError = await t.anonymous.as(partner).error(enumTypo, { s: ['DELIVERD'] });
    expect(partnerError.message).not.toMatch(/Did you mean/);
    expect(partnerError.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await t.admin.error(enumTypo, { s: ['DELIVERD'] })).message).toMatch(/Did you mean/);
  });

  it('strips suggestions over WebSocket for non-ADMIN keys', async () => {
    const sub = new TestSubscription(t.service.url, partner, 'subscription { deliveryUpdated { id statuss } }');
    try {
      const [error] = await subscriptionErrors(sub);
      expect(error.message).toBe('Cannot query field "statuss" on type "Delivery".');
    } finally {
      await sub.close();
    }
  });
});

describe.each(testDatabases())('GRAPHQL_INTROSPECTION=off on %s', (kind) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService(kind, { GRAPHQL_INTROSPECTION: 'off' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('refuses introspection to every key, ADMIN included, over HTTP and WebSocket', async () => {
    const answer = await t.admin.request(SCHEMA);
    expect(answer.errors?.[0]?.extensions?.code).toBe('INTROSPECTION_DISABLED');
    expect(answer.data ?? null).toBeNull();
    expect((await t.admin.ok<{ __typename: string }, Record<string, never>>('{ __typename }')).__typename).toBe('Query');
  });
});
