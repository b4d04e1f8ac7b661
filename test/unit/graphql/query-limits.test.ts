import { buildSchema, parse, validate } from 'graphql';
import { depthLimitRule } from '../../../src/graphql/depth-limit';
import { fieldCountLimitRule } from '../../../src/graphql/complexity-limit';

const schema = buildSchema(`
  type Node { id: ID! name: String child: Node children: [Node!]! }
  type Query { node: Node nodes: [Node!]! }
`);

const errorsOf = (query: string, rule: ReturnType<typeof depthLimitRule>) => validate(schema, parse(query), [rule]).map((e) => e.message);
const nested = (levels: number) => `{ node { ${'child { '.repeat(levels - 2)}id${' }'.repeat(levels - 2)} } }`;

describe('depthLimitRule', () => {
  it('allows exactly the limit and refuses one more', () => {
    expect(errorsOf(nested(12), depthLimitRule(12))).toEqual([]);
    expect(errorsOf(nested(13), depthLimitRule(12))).toEqual(['query depth 13 exceeds the limit of 12']);
  });

  it('follows fragments and inline fragments, and ignores introspection fields', () => {
    const query = `{ node { ...A } } fragment A on Node { child { ... on Node { child { ...B } } } } fragment B on Node { child { id __typename } }`;
    expect(errorsOf(query, depthLimitRule(5))).toEqual([]);
    expect(errorsOf(query, depthLimitRule(4))).toEqual(['query depth 5 exceeds the limit of 4']);
  });

  it('measures fragments spread exponentially often (2^40 paths) without walking every path', () => {
    const levels = Array.from({ length: 40 }, (_, i) => `fragment F${i} on Node { ...F${i + 1} child { ...F${i + 1} } }`);
    const query = `{ node { ...F0 } } ${levels.join(' ')} fragment F40 on Node { id }`;
    expect(errorsOf(query, depthLimitRule(12))).toEqual(['query depth 42 exceeds the limit of 12']);
  });
});

describe('fieldCountLimitRule', () => {
  it('counts every selected field, aliases included, and refuses past the limit', () => {
    const fields = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: nodes { id }`).join(' ')} }`;
    expect(errorsOf(fields(5), fieldCountLimitRule(10))).toEqual([]); // 5 × (nodes + id) = 10
    expect(errorsOf(fields(6), fieldCountLimitRule(10))).toHaveLength(1);
  });

  it('counts a fragment again wherever it is spread, and stops early on a bomb', () => {
    const query = `{ a: node { ...F } b: node { ...F } } fragment F on Node { id name }`;
    expect(errorsOf(query, fieldCountLimitRule(6))).toEqual([]);
    expect(errorsOf(query, fieldCountLimitRule(5))).toHaveLength(1);
    const levels = Array.from({ length: 40 }, (_, i) => `fragment F${i} on Node { ...F${i + 1} ...F${i + 1} }`);
    const bomb = `{ node { ...F0 } } ${levels.join(' ')} fragment F40 on Node { id }`;
    expect(errorsOf(bomb, fieldCountLimitRule(2000))).toHaveLength(1);
  });
});
