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
/** A list with no page argument (apps, networks, an app's callbacks): a nominal size. */
export const UNPAGED_LIST_ESTIMATE = 10;

export function operationCost(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Fragments, variables: Record<string, unknown> | undefined): number {
  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) return 1;
  return Math.max(1, costOf(schema, root, operation.selectionSet, 1, fragments, variables));
}

function costOf(schema: GraphQLSchema, parent: GraphQLCompositeType, set: SelectionSetNode | undefined, multiplier: number, fragments: Fragments, variables: Record<string, unknown> | undefined): number {
  let total = 0;
  for (const { field, typeCondition } of fieldsOf(set, fragments)) {
    if (!field.selectionSet) continue; // a scalar: part of its object
    const owner = (typeCondition ? schema.getType(typeCondition) : parent) as GraphQLCompositeType | undefined;
    const definition = owner && 'getFields' in owner ? (owner.getFields() as Record<string, GraphQLField<unknown, unknown>>)[field.name.value] : undefined;
    if (!definition) continue;
    const count = multiplier * objectsPer(definition, field, variables);
    total += count;
    const child = getNamedType(definition.type);
    if (isCompositeType(child)) total += costOf(schema, child, field.selectionSet, count, fragments, variables);
  }
  return total;
}

/** How many objects one evaluation of the field may return. */
function objectsPer(definition: GraphQLField<unknown, unknown>, field: FieldNode, variables: Record<string, unknown> | undefined): number {
  const argument = (name: string) => {
    const node = field.arguments?.find((a) => a.name.value === name);
    const argDef = definition.args.find((a) => a.name === name);
    if (!node || !argDef) return undefined;
    return node.value.kind === Kind.VARIABLE ? variables?.[node.value.name.value] : valueFromAST(node.value, argDef.type, variables);
  };
  if (definition.args.some((a) => a.name === 'first')) {
    const first = argument('first');
    return typeof first === 'number' && first > 0 ? Math.min(first, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
  }
  if (definition.args.some((a) => a.name === 'inputs')) {
    const inputs = argument('inputs');
    return Array.isArray(inputs) ? Math.max(1, inputs.length) : 1;
  }
  return isListType(getNullableType(definition.type)) ? UNPAGED_LIST_ESTIMATE : 1;
}
