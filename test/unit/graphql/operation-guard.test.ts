// The operation guard analyses an operation once and coerces variables only when what it checks
// depends on them. Its answers must be those of coercing every request first (the reference
// below, the guard as it was): same refusals, same paths, same order, same cost.
import { buildSchema, getOperationAST, getVariableValues, parse, type GraphQLError, type GraphQLScalarType } from 'graphql';
import { createMemoryBudget } from '../../../src/auth/request-budget';
import { ApiKeyRole } from '../../../src/common/enums';
import { loadConfig } from '../../../src/config/config';
import { createOperationGuard } from '../../../src/graphql/operation-guard';
import { operationCost } from '../../../src/graphql/query-cost';
import { fragmentsOf } from '../../../src/graphql/selections';
import { textInputProblems } from '../../../src/graphql/text-inputs';
import type { Principal } from '../../../src/auth/principal';
import type { ServiceMetrics } from '../../../src/observability/metrics';

const schema = buildSchema(`
  type Query { ok: Boolean }
  input EventIn { appId: ID! name: String! note: String tags: [String!] when: Int }
  type R { id: ID! }
  type Mutation { record(input: EventIn!): R! recordMany(inputs: [EventIn!]!): [R!]! tag(label: String, labels: [String!]): R! }`);

const RECORD = 'mutation($input: EventIn!) { record(input: $input) { id } }';
const BAD = 'a\u0000b';

function guardOf(maxQueryCost = 10_000) {
  const refusals: string[] = [];
  const metrics = { requestsRefused: { inc: ({ reason }: { reason: string }) => refusals.push(reason) } } as unknown as ServiceMetrics;
  const security = { ...loadConfig({}).security, maxQueryCost };
  return { guard: createOperationGuard({ schema, security, budget: createMemoryBudget(), metrics }), refusals };
}

async function verdict(query: string, variables?: Record<string, unknown>, principal: Principal | null = null, maxQueryCost?: number) {
  const { guard } = guardOf(maxQueryCost);
  const document = parse(query);
  const errors = await guard.check(principal, document, getOperationAST(document)!, variables);
  return errors?.map((e: GraphQLError) => ({ message: e.message, path: e.path, problems: (e.originalError as { problems?: { field: string }[] } | undefined)?.problems })) ?? null;
}

/** The text problems the guard found when it coerced every request first. */
function referenceProblems(query: string, variables?: Record<string, unknown>) {
  const document = parse(query);
  const operation = getOperationAST(document)!;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}).coerced;
  return coerced ? textInputProblems(schema, operation, fragmentsOf(document), coerced).map(({ field }) => field) : [];
}

function fieldsOfVerdict(v: Awaited<ReturnType<typeof verdict>>): string[] {
  return v?.[0]?.problems?.map((p) => p.field) ?? [];
}

describe('the operation guard', () => {
  const cases: [string, string, Record<string, unknown> | undefined][] = [
    ['clean text', RECORD, { input: { appId: 'a', name: 'install', note: 'fine' } }],
    ['a refused text in a variable', RECORD, { input: { appId: 'a', name: BAD } }],
    // Sent in the opposite order to the input type's fields: the answer lists them in the type's order, as coercion orders them.
    ['two refused texts, sent out of order', RECORD, { input: { note: BAD, appId: 'a', name: BAD } }],
    ['a refused text in variables that do not coerce (execution refuses them)', RECORD, { input: { appId: 'a', name: BAD, when: 'not a number' } }],
    ['a refused text in variables with an unknown field', RECORD, { input: { appId: 'a', name: BAD, nope: 1 } }],
    ['a refused text as a single value for a list', RECORD, { input: { appId: 'a', name: 'x', tags: BAD } }],
    ['a variable default holding refused text, not sent', `mutation($l: String = "${'a\\u0000b'}") { tag(label: $l) { id } }`, {}],
    ['a variable default, sent clean', `mutation($l: String = "${'a\\u0000b'}") { tag(label: $l) { id } }`, { l: 'ok' }],
    ['a literal input with a variable inside', 'mutation($n: String!) { record(input: { appId: "a", name: $n }) { id } }', { n: BAD }],
    ['a literal holding refused text', `mutation { tag(label: "${'a\\u0000b'}") { id } }`, undefined],
    ['aliases and a fragment', 'mutation($a: String, $b: [String!]) { one: tag(label: $a) { ...F } two: tag(labels: $b) { ...F } } fragment F on R { id }', { a: 'fine', b: ['ok', BAD] }],
    ['a batch', 'mutation($i: [EventIn!]!) { recordMany(inputs: $i) { id } }', { i: [{ appId: 'a', name: 'ok' }, { appId: 'b', name: BAD, note: BAD }] }],
  ];

  it.each(cases)('answers %s as coercing first would', async (_label, query, variables) => {
    const expected = referenceProblems(query, variables);
    const got = await verdict(query, variables);
    expect(fieldsOfVerdict(got)).toEqual(expected);
    expect(got === null).toBe(expected.length === 0);
  });

  it('sees new variables each time it checks an operation it has analysed', async () => {
    const { guard } = guardOf();
    const document = parse(RECORD);
    const operation = getOperationAST(document)!;
    expect(await guard.check(null, document, operation, { input: { appId: 'a', name: 'ok' } })).toBeNull();
    expect(await guard.check(null, document, operation, { input: { appId: 'a', name: BAD } })).toHaveLength(1);
    expect(await guard.check(null, document, operation, { input: { appId: 'a', name: 'ok' } })).toBeNull();
  });

  it('prices a batch from its length as sent, whether or not it coerces, without coercing it', async () => {
    const query = 'mutation($i: [EventIn!]!) { recordMany(inputs: $i) { id } }';
    const batch = Array.from({ length: 50 }, (_, n) => ({ appId: 'a', name: `e${n}` }));
    const [refusal] = (await verdict(query, { i: batch }, null, 40)) ?? [];
    expect(refusal?.message).toMatch(/may cost 50 /);
    // Uncoercible (a number for a String): refused for its cost before execution would refuse its values.
    const [uncoercible] = (await verdict(query, { i: batch.map((e) => ({ ...e, name: 7 })) }, null, 40)) ?? [];
    expect(uncoercible?.message).toMatch(/may cost 50 /);
    // A single value for the list is a batch of one, as coercion makes it.
    expect(await verdict(query, { i: { appId: 'a', name: 'one' } }, null, 1)).toBeNull();
  });

  it('checks a clean batch without coercing it (execution coerces it once)', async () => {
    const counted = buildSchema('scalar Counted input In { stamp: Counted name: String } type R { id: ID! } type Query { ok: Boolean } type Mutation { recordMany(inputs: [In!]!): [R!]! }');
    let parsed = 0;
    (counted.getType('Counted') as GraphQLScalarType).parseValue = (value: unknown) => {
      parsed += 1;
      return value;
    };
    const guard = createOperationGuard({ schema: counted, security: { ...loadConfig({}).security, maxQueryCost: 100 }, budget: createMemoryBudget(), metrics: { requestsRefused: { inc: () => undefined } } as unknown as ServiceMetrics });
    const document = parse('mutation($i: [In!]!) { recordMany(inputs: $i) { id } }');
    const operation = getOperationAST(document)!;
    const batch = Array.from({ length: 20 }, (_, n) => ({ stamp: n, name: `e${n}` }));
    expect(await guard.check(null, document, operation, { i: batch })).toBeNull();
    expect(parsed).toBe(0);
    // Text that looks refused is confirmed on the coerced values: coerced then, once.
    expect(await guard.check(null, document, operation, { i: [...batch, { stamp: 0, name: BAD }] })).toHaveLength(1);
    expect(parsed).toBe(21);
  });

  it('prices a page size taken from a variable with a default from the coerced values', async () => {
    const paged = buildSchema('type Item { id: ID! } type Edge { node: Item! } type Page { edges: [Edge!]! } type Query { items(first: Int): Page! }');
    const guard = createOperationGuard({ schema: paged, security: { ...loadConfig({}).security, maxQueryCost: 30 }, budget: createMemoryBudget(), metrics: { requestsRefused: { inc: () => undefined } } as unknown as ServiceMetrics });
    const document = parse('query($n: Int = 50) { items(first: $n) { edges { node { id } } } }');
    const operation = getOperationAST(document)!;
    // The page, 50 edges and 50 nodes; 21 with 10.
    expect((await guard.check(null, document, operation, {}))?.[0]?.message).toMatch(/may cost 101 /);
    expect(await guard.check(null, document, operation, { n: 10 })).toBeNull();
  });

  it('takes the cost from the caller\'s budget once per check', async () => {
    const refusals: string[] = [];
    const metrics = { requestsRefused: { inc: ({ reason }: { reason: string }) => refusals.push(reason) } } as unknown as ServiceMetrics;
    const security = { ...loadConfig({}).security, rateLimits: { ...loadConfig({}).security.rateLimits, SDK: { perSecond: 0.001, burst: 3 } } };
    const guard = createOperationGuard({ schema, security, budget: createMemoryBudget(), metrics });
    const principal: Principal = { role: ApiKeyRole.SDK, keyId: 'k1', appId: 'a' };
    const document = parse(RECORD);
    const operation = getOperationAST(document)!;
    // record { id }: cost 1; a burst of 3 lets exactly three through.
    for (let i = 0; i < 3; i++) expect(await guard.check(principal, document, operation, { input: { appId: 'a', name: 'ok' } })).toBeNull();
    expect((await guard.check(principal, document, operation, { input: { appId: 'a', name: 'ok' } }))?.[0]?.message).toMatch(/request budget/);
    expect(refusals).toEqual(['rate_limited']);
  });
});
