// One text rule for every text input of every mutation: a property-based test over the schema
// itself, so inputs added later are covered without a line here. A small seeded generator
// (reproducible: the seed is in each failure's message) makes the bad and the good text.
import { randomUUID } from 'node:crypto';
import {
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { buildGraphQLSchema } from '../../src/graphql/schema';
import { textProblem, TEXT_REASONS } from '../../src/common/validation';
import { LAYOUT_TEXT_FIELDS } from '../../src/graphql/text-inputs';
import { testDatabases } from '../support/databases';
import { configurationFixtures } from '../support/fixtures';
import { startTestService, type TestService } from '../support/test-service';

/** mulberry32: tiny, seeded, good enough to pick characters. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

/** Well-formed text: ASCII, Latin, Cyrillic, CJK, emoji (surrogate pairs), combining marks; no controls. */
function goodText(random: () => number, length = 1 + Math.floor(random() * 12)): string {
  const pools = ['abcXYZ019-_. ', 'éüßñ', 'Игра', '游戏', '😀🎮🇩🇪', 'e\u0301', '{}[]"\\/%&?='];
  let text = '';
  while (text.length < length) text += pick(random, [...pick(random, pools)]);
  return text;
}

const BAD_PIECES = ['\ud800', '\udfff', '\ud83d', '\u0000', '\u0001', '\u001b', '\u007f', '\u0008', '\u000b', '\u000c'];
const LAYOUT_PIECES = ['\t', '\n', '\r'];

/** Good text with one bad piece somewhere in it; `layoutOnly` pieces (tab, line breaks) are bad outside templates only. */
function badText(random: () => number, allowLayout: boolean): string {
  const pieces = allowLayout ? BAD_PIECES : [...BAD_PIECES, ...LAYOUT_PIECES];
  const before = random() < 0.3 ? '' : goodText(random);
  const after = random() < 0.3 ? '' : goodText(random);
  return before + pick(random, pieces) + after;
}

interface TextLeaf {
  mutation: string;
  /** Dot path as errors name it: `input.name`, `input.headers.0.value`. */
  path: string[];
  layout: boolean;
}

/** A value GraphQL coerces for `type` (required fields only; lists of one), and every text leaf in it. */
function minimalValue(type: GraphQLInputType, path: string[], mutation: string, leaves: TextLeaf[], layout = false, depth = 0): unknown {
  const nullable = getNullableType(type) as GraphQLInputType;
  if (isListType(nullable)) return [minimalValue(nullable.ofType as GraphQLInputType, [...path, '0'], mutation, leaves, layout, depth + 1)];
  if (isInputObjectType(nullable)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(nullable.getFields())) {
      const required = isNonNullType(field.type);
      const named = getNullableType(field.type);
      const isText = isScalarType(named) && (named.name === 'String' || named.name === 'ID');
      // Optional text fields are set too (every text input is checked); other optional fields only when needed.
      if (required || isText || (depth < 3 && (isListType(named) || isInputObjectType(named)) && isTextBearing(field.type))) {
        value[field.name] = minimalValue(field.type, [...path, field.name], mutation, leaves, LAYOUT_TEXT_FIELDS.has(field.name), depth + 1);
      }
    }
    return value;
  }
  if (isEnumType(nullable)) return nullable.getValues()[0]?.value;
  if (isScalarType(nullable)) {
    switch (nullable.name) {
      case 'String':
        leaves.push({ mutation, path, layout });
        return 'x';
      case 'ID':
        leaves.push({ mutation, path, layout });
        return randomUUID();
      case 'Int':
        return 1;
      case 'Float':
        return 1;
      case 'Boolean':
        return false;
      case 'DateTime':
        return new Date().toISOString();
      default:
        return {};
    }
  }
  return null;
}

function isTextBearing(type: GraphQLInputType, seen = new Set<string>()): boolean {
  const nullable = getNullableType(type) as GraphQLInputType;
  if (isListType(nullable)) return isTextBearing(nullable.ofType as GraphQLInputType, seen);
  if (isInputObjectType(nullable)) {
    if (seen.has(nullable.name)) return false;
    seen.add(nullable.name);
    return Object.values(nullable.getFields()).some((f) => isTextBearing(f.type, seen));
  }
  return isScalarType(nullable) && (nullable.name === 'String' || nullable.name === 'ID');
}

interface MutationCase {
  name: string;
  document: string;
  variables: Record<string, unknown>;
  leaves: TextLeaf[];
}

/** One case per mutation: a document taking every argument as a variable, a minimal value for each, and its text leaves. */
export function mutationCases(schema: GraphQLSchema): MutationCase[] {
  const mutation = schema.getMutationType();
  if (!mutation) return [];
  return Object.values(mutation.getFields()).map((field) => {
    const leaves: TextLeaf[] = [];
    const variables: Record<string, unknown> = {};
    for (const arg of field.args) variables[arg.name] = minimalValue(arg.type, [arg.name], field.name, leaves);
    const definitions = field.args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
    const args = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
    const named = getNullableType(field.type);
    const unwrapped = isListType(named) ? getNullableType(named.ofType) : named;
    const selection = isScalarType(unwrapped) || isEnumType(unwrapped) ? '' : ' { __typename }';
    const document = `mutation ${field.name}Case${definitions ? `(${definitions})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
    return { name: field.name, document, variables, leaves };
  });
}

function withValue(variables: Record<string, unknown>, path: string[], value: string): Record<string, unknown> {
  const copy = structuredClone(variables);
  let target: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
  target[path.at(-1) as string] = value;
  return copy;
}

const TEXT_REASON_VALUES: string[] = Object.values(TEXT_REASONS);

describe('textProblem', () => {
  it('refuses lone surrogates and control characters, allows tab and line breaks only in layout text', () => {
    expect(textProblem('a\ud800b')).toBe(TEXT_REASONS.surrogate);
    expect(textProblem('\udc00')).toBe(TEXT_REASONS.surrogate);
    expect(textProblem('😀 Игра')).toBeNull();
    expect(textProblem('a\tb')).toBe(TEXT_REASONS.control);
    expect(textProblem('{\n\t"a": 1\r\n}', { layout: true })).toBeNull();
    expect(textProblem('a\u0000', { layout: true })).toBe(TEXT_REASONS.controlExceptLayout);
    expect(textProblem('\u007f')).toBe(TEXT_REASONS.control);
  });

  it('agrees with a character-by-character reading on seeded random text', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const random = seededRandom(seed);
      const layout = random() < 0.5;
      const text = random() < 0.5 ? goodText(random, 30) : badText(random, layout);
      const codes = [...text].map((c) => c.codePointAt(0) as number);
      const lone = codes.some((c) => c >= 0xd800 && c <= 0xdfff);
      const control = codes.some((c) => (c < 0x20 || c === 0x7f) && !(layout && (c === 9 || c === 10 || c === 13)));
      expect({ seed, ok: textProblem(text, { layout }) === null }).toEqual({ seed, ok: !lone && !control });
    }
  });
});

describe.each(testDatabases())('one text rule for every mutation input on %s', (kind) => {
  let t: TestService;
  let cases: MutationCase[];
  beforeAll(async () => {
    t = await startTestService(kind);
    cases = mutationCases(await buildGraphQLSchema());
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('covers the inputs the issue names', () => {
    const leaves = cases.flatMap((c) => c.leaves.map((l) => `${c.name}:${l.path.join('.')}`));
    for (const expected of [
      'createApp:input.name', 'createNetwork:input.name', 'createApiKey:input.name', 'createMacro:input.value',
      'createCallback:input.name', 'createCallback:input.urlTemplate', 'createCallback:input.bodyTemplate',
      'createCallback:input.headers.0.name', 'createCallback:input.headers.0.value', 'recordEvent:input.name',
    ]) expect(leaves).toContain(expected);
  });

  it('refuses the issue\'s createApp name "a\\ud800b" with BAD_USER_INPUT naming the field, and stores nothing', async () => {
    const name = `a\ud800b-${randomUUID()}`;
    const error = await t.admin.error(`mutation($input: CreateAppInput!) { createApp(input: $input) { id name } }`, { input: { name, bundleId: `com.example.${randomUUID().slice(0, 8)}`, platform: 'IOS' } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name', reason: TEXT_REASONS.surrogate });
    const { apps } = await t.admin.ok<{ apps: { name: string }[] }, Record<string, never>>('{ apps { name } }');
    expect(apps.some((app) => app.name.includes(name.slice(3)))).toBe(false);
  });

  it('refuses bad text in a literal written into the document, as in a variable', async () => {
    const error = await t.admin.error(`mutation { createNetwork(input: {name: "x\\u0007y", slug: "bell"}) { id } }`);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name', reason: TEXT_REASONS.control });
  });

  it('refuses a CONSTANT macro value with a lone surrogate instead of storing U+FFFD for every postback', async () => {
    const app = await configurationFixtures(t.admin).app();
    const error = await t.admin.error(`mutation($input: CreateMacroInput!) { createMacro(input: $input) { id } }`, { input: { appId: app.id, name: 'partner_key', source: 'CONSTANT', value: 'k\udc00ey' } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.value' });
    const { macros } = await t.admin.ok<{ macros: { name: string }[] }, { appId: string }>('query($appId: ID) { macros(appId: $appId) { name } }', { appId: app.id });
    expect(macros).toEqual([]);
  });

  it('property: every text leaf of every mutation refuses bad text with BAD_USER_INPUT naming it, and lets good text past the rule', async () => {
    const SEED = 20261129;
    const random = seededRandom(SEED);
    let checked = 0;
    for (const c of cases) {
      for (const leaf of c.leaves) {
        for (let round = 0; round < 2; round++) {
          const bad = badText(random, leaf.layout);
          const answer = await t.admin.request(c.document, withValue(c.variables, leaf.path, bad));
          const error = answer.errors?.[0];
          const seen = { mutation: c.name, field: leaf.path.join('.'), value: JSON.stringify(bad), code: error?.extensions?.code, at: error?.extensions?.field };
          expect(seen).toEqual({ ...seen, code: 'BAD_USER_INPUT', at: leaf.path.join('.') });
          expect(TEXT_REASON_VALUES).toContain(error?.extensions?.reason);
          checked++;
        }
        const good = leaf.layout ? `${goodText(random)}\n\t${goodText(random)}` : goodText(random);
        const answer = await t.admin.request(c.document, withValue(c.variables, leaf.path, good));
        // Other rules may refuse the minimal input (an unknown id, a bad URL); the text rule must not.
        for (const error of answer.errors ?? []) {
          const refusedByTheRule = TEXT_REASON_VALUES.includes(String(error.extensions?.reason)) && error.extensions?.field === leaf.path.join('.');
          expect({ mutation: c.name, field: leaf.path.join('.'), value: good, refusedByTheRule }).toEqual({ mutation: c.name, field: leaf.path.join('.'), value: good, refusedByTheRule: false });
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});
