// What one operation may cost, estimated before it runs: the objects its answer can hold.
// Depth and field-count limits do not see this: 285 aliases of `deliveries(first: 100)` are
// shallow and short, and read 28,500 rows. Each object-returning field counts once per object
// its parent may be; a page (`first`) or a batch (`inputs`) multiplies what is under it.
import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  Kind,
  valueFromAST,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type FieldNode,
  type SelectionSetNode,
} from 'graphql';
import { fieldsOf, type Fragments } from './selections';

/** `first` when a paged field is not given one (contract: deliveries default 20). */
export const DEFAULT_PAGE_SIZE = 20;
/** The largest page a field serves (contract: `first` at most 100); a larger `first` is refused by the field itself. */
export const MAX_PAGE_SIZE = 100;
/**
 * A list with no page argument (an event's deliveries, an app's callbacks, apps): counted as
 * one lookup. These lists are bounded by configuration limits and loaded in one batch; the
 * amplification the cost stops is aliases × pages.
 */
export const UNPAGED_LIST_ESTIMATE = 1;

export function operationCost(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Fragments, variables: Record<string, unknown> | undefined): number {
  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) return 1;
  return Math.max(1, costOf(schema, root, operation.selectionSet, 1, null, fragments, variables));
}

/**
 * `page`: the page size of a paged field just above (a connection), which its list (`edges`)
 * holds; null elsewhere.
 */
function costOf(schema: GraphQLSchema, parent: GraphQLCompositeType, set: SelectionSetNode | undefined, multiplier: number, page: number | null, fragments: Fragments, variables: Record<string, unknown> | undefined): number {
  let total = 0;
  for (const { field, typeCondition } of fieldsOf(set, fragments)) {
    if (!field.selectionSet) continue; // a scalar: part of its object
    const owner = (typeCondition ? schema.getType(typeCondition) : parent) as GraphQLCompositeType | undefined;
    const definition = owner && 'getFields' in owner ? (owner.getFields() as Record<string, GraphQLField<unknown, unknown>>)[field.name.value] : undefined;
    if (!definition) continue;
    const pageSize = pageSizeOf(definition, field, variables);
    const isList = isListType(getNullableType(definition.type));
    // A paged field is one object (the connection) whose list holds the page; a batch (inputs) answers a list as long as the batch.
    const perParent = pageSize !== null ? 1 : isList ? (batchSizeOf(definition, field, variables) ?? page ?? UNPAGED_LIST_ESTIMATE) : 1;
    const count = multiplier * perParent;
    total += count;
    const child = getNamedType(definition.type);
    if (isCompositeType(child)) total += costOf(schema, child, field.selectionSet, count, pageSize, fragments, variables);
  }
  return total;
}

function argumentValue(definition: GraphQLField<unknown, unknown>, field: FieldNode, name: string, variables: Record<string, unknown> | undefined): unknown {
  const node = field.arguments?.find((a) => a.name.value === name);
  const argDef = definition.args.find((a) => a.name === name);
  if (!node || !argDef) return undefined;
  return node.value.kind === Kind.VARIABLE ? variables?.[node.value.name.value] : valueFromAST(node.value, argDef.type, variables);
}

/** The page size of a field that takes `first`, or null for other fields. */
function pageSizeOf(definition: GraphQLField<unknown, unknown>, field: FieldNode, variables: Record<string, unknown> | undefined): number | null {
  if (!definition.args.some((a) => a.name === 'first')) return null;
  const first = argumentValue(definition, field, 'first', variables);
  return typeof first === 'number' && first > 0 ? Math.min(first, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
}

/** The length of a batch argument (`inputs`), or null. */
function batchSizeOf(definition: GraphQLField<unknown, unknown>, field: FieldNode, variables: Record<string, unknown> | undefined): number | null {
  if (!definition.args.some((a) => a.name === 'inputs')) return null;
  const inputs = argumentValue(definition, field, 'inputs', variables);
  return Array.isArray(inputs) ? Math.max(1, inputs.length) : 1;
}
