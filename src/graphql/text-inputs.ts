// One text rule for every mutation's input (src/common/validation.ts: textProblem), applied
// from the schema rather than by each service: every String argument and input field of every
// mutation, also those added later, is checked before anything runs.
import {
  getNullableType,
  GraphQLInputType,
  isInputObjectType,
  isListType,
  isScalarType,
  valueFromAST,
  type ArgumentNode,
  type GraphQLArgument,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { FieldProblem } from '../common/errors';
import { textProblem } from '../common/validation';
import { fieldsOf, type Fragments } from './selections';

/** Input fields holding templates of a body: tab and line breaks are layout there. */
export const LAYOUT_TEXT_FIELDS: ReadonlySet<string> = new Set(['bodyTemplate']);

export interface TextInputProblem extends FieldProblem {
  /** The response key (alias or name) of the mutation field whose argument it is. */
  mutation: string;
}

/** Every text problem of a mutation operation's arguments, in document order; none for queries and subscriptions. */
export function textInputProblems(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Fragments, variables: Record<string, unknown> | undefined): TextInputProblem[] {
  return argumentTextProblems(mutationArgumentsOf(schema, operation, fragments), variables);
}

export interface MutationArgument {
  /** The response key (alias or name) of the mutation field. */
  mutation: string;
  node: ArgumentNode;
  definition: GraphQLArgument;
}

/** The arguments of a mutation operation's fields (through its fragments), in document order; none for queries and subscriptions. */
export function mutationArgumentsOf(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Fragments): MutationArgument[] {
  if (operation.operation !== 'mutation') return [];
  const mutationFields = schema.getMutationType()?.getFields() ?? {};
  const args: MutationArgument[] = [];
  for (const { field } of fieldsOf(operation.selectionSet, fragments)) {
    const definition = mutationFields[field.name.value];
    if (!definition) continue;
    const mutation = field.alias?.value ?? field.name.value;
    for (const node of field.arguments ?? []) {
      const argDef = definition.args.find((a) => a.name === node.name.value);
      if (argDef) args.push({ mutation, node, definition: argDef });
    }
  }
  return args;
}

/** textInputProblems over arguments already picked out (operation-analysis.ts: mutationArguments). */
export function argumentTextProblems(args: readonly MutationArgument[], variables: Record<string, unknown> | undefined): TextInputProblem[] {
  const problems: TextInputProblem[] = [];
  for (const { mutation, node, definition } of args) {
    // Raw variable values are fine here: coercion does not change strings, and a bad shape is refused by coercion anyway.
    const value = valueFromAST(node.value, definition.type, variables);
    collect(value, definition.type, null, definition.name, false, (path, reason) => problems.push({ mutation, field: path, reason }));
  }
  return problems;
}

/**
 * `parent` and `key` make the field's path (`parent.key`), joined only where needed (a nested
 * value or a problem): most fields are short valid text, and a batch has thousands of them.
 */
function collect(value: unknown, type: GraphQLInputType, parent: string | null, key: string, layout: boolean, report: (path: string, reason: string) => void): void {
  if (value === null || value === undefined) return;
  const nullable = getNullableType(type);
  if (isScalarType(nullable)) {
    // String and ID: both are text a client chose. Custom scalars (JSON, DateTime) parse their own.
    if ((nullable.name === 'String' || nullable.name === 'ID') && typeof value === 'string') {
      const reason = textProblem(value, { layout });
      if (reason) report(parent === null ? key : `${parent}.${key}`, reason);
    }
    return;
  }
  if (isListType(nullable)) {
    const path = parent === null ? key : `${parent}.${key}`;
    const items = Array.isArray(value) ? value : [value];
    items.forEach((item, i) => collect(item, nullable.ofType as GraphQLInputType, path, String(i), layout, report));
    return;
  }
  if (isInputObjectType(nullable)) {
    if (typeof value !== 'object') return;
    const path = parent === null ? key : `${parent}.${key}`;
    const fields = nullable.getFields();
    for (const name in value as Record<string, unknown>) {
      if (!Object.prototype.hasOwnProperty.call(value, name)) continue;
      const field = fields[name];
      if (field) collect((value as Record<string, unknown>)[name], field.type, path, name, LAYOUT_TEXT_FIELDS.has(name), report);
    }
  }
}
