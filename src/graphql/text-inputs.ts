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
  if (operation.operation !== 'mutation') return [];
  const mutationFields = schema.getMutationType()?.getFields() ?? {};
  const problems: TextInputProblem[] = [];
  for (const { field } of fieldsOf(operation.selectionSet, fragments)) {
    const definition = mutationFields[field.name.value];
    if (!definition) continue;
    const mutation = field.alias?.value ?? field.name.value;
    for (const argument of field.arguments ?? []) {
      const argDef = definition.args.find((a) => a.name === argument.name.value);
      if (!argDef) continue;
      // Raw variable values are fine here: coercion does not change strings, and a bad shape is refused by coercion anyway.
      const value = valueFromAST(argument.value, argDef.type, variables as Record<string, unknown> | undefined);
      collect(value, argDef.type, argDef.name, false, (path, reason) => problems.push({ mutation, field: path, reason }));
    }
  }
  return problems;
}

function collect(value: unknown, type: GraphQLInputType, path: string, layout: boolean, report: (path: string, reason: string) => void): void {
  if (value === null || value === undefined) return;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    const items = Array.isArray(value) ? value : [value];
    items.forEach((item, i) => collect(item, nullable.ofType as GraphQLInputType, `${path}.${i}`, layout, report));
    return;
  }
  if (isInputObjectType(nullable)) {
    if (typeof value !== 'object') return;
    const fields = nullable.getFields();
    for (const [name, fieldValue] of Object.entries(value as Record<string, unknown>)) {
      const field = fields[name];
      if (field) collect(fieldValue, field.type, `${path}.${name}`, LAYOUT_TEXT_FIELDS.has(name), report);
    }
    return;
  }
  // String and ID: both are text a client chose. Custom scalars (JSON, DateTime) parse their own.
  if (isScalarType(nullable) && (nullable.name === 'String' || nullable.name === 'ID') && typeof value === 'string') {
    const reason = textProblem(value, { layout });
    if (reason) report(path, reason);
  }
}
