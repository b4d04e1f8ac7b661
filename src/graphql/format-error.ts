import { GraphQLError, GraphQLFormattedError, Kind, parse, visit, type ValueNode } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { Logger } from 'pino';
import { DomainError, ErrorCode } from '../common/errors';

/**
 * The one place where errors become what clients see. Domain errors keep their code and
 * details; errors GraphQL itself raised (validation, input coercion) pass through; anything
 * else is a bug or an outage: masked to INTERNAL_SERVER_ERROR and logged with its cause.
 */
export function createFormatError(logger: Logger, onError: (code: string) => void = () => undefined) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const result = format(formatted, error);
    onError(String(result.extensions?.code ?? 'UNKNOWN'));
    return result;
  };

  function format(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    const unwrapped = unwrapResolverError(error);
    // Refusals raised before execution (operation-guard.ts) carry their domain error without a path.
    const original = unwrapped instanceof GraphQLError && unwrapped.originalError instanceof DomainError ? unwrapped.originalError : unwrapped;
    if (original instanceof DomainError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: original.code, ...original.details },
      };
    }
    let code = formatted.extensions?.code as string | undefined;
    // A value of the wrong type written into the document itself is reported by validation;
    // for the client it is the same bad input as a wrong variable.
    if (code === 'GRAPHQL_VALIDATION_FAILED' && isBadValue(formatted.message)) code = ErrorCode.BAD_USER_INPUT;
    const fromGraphQL = code !== undefined && code !== 'INTERNAL_SERVER_ERROR';
    if (fromGraphQL) {
      if (code !== ErrorCode.BAD_USER_INPUT) return { ...formatted, extensions: { code } };
      const details = badInputDetails(formatted.message);
      const field = details.field ?? literalFieldPath(original, formatted.message);
      return { ...formatted, extensions: { code, ...details, ...(field ? { field } : {}) } };
    }
    // Errors thrown while coercing variables or arguments (a scalar's parseValue) arrive without a code.
    if (original instanceof Error && original.name === 'GraphQLError' && !formatted.path) {
      return { message: formatted.message, locations: formatted.locations, extensions: { code: ErrorCode.BAD_USER_INPUT, ...badInputDetails(formatted.message) } };
    }
    logger.error({ err: original, path: formatted.path }, 'internal error in a GraphQL operation');
    return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
}

/** Messages of graphql-js's ValuesOfCorrectType rule: a literal of the wrong type or shape. */
const BAD_VALUE_MESSAGES = [/^Expected value of type /, /cannot represent/, /^DateTime /, /^Field "[^"]+" is not defined by type /, /^Field "[^"]+" of required type "[^"]+" was not provided/];

function isBadValue(message: string): boolean {
  return BAD_VALUE_MESSAGES.some((pattern) => pattern.test(message));
}

/**
 * `field` and `reason` for input GraphQL refused while coercing it. Variable errors name the
 * place: `Variable "$input" got invalid value "x" at "input.occurredAt"; …` gives
 * `input.occurredAt`, a whole variable gives its name.
 */
export function badInputDetails(message: string): { field?: string; reason: string } {
  const at = /^Variable "\$[^"]+" got invalid value .* at "([^"]+)"/s.exec(message);
  if (at) return { field: at[1], reason: message };
  const variable = /^Variable "\$([^"]+)"/.exec(message);
  if (variable) return { field: variable[1], reason: message };
  return { reason: message };
}

/**
 * The field of a bad value written into the document itself (`recordEvent(input: {occurredAt:
 * "yesterday"})`), named as variable errors name theirs: `input.occurredAt`, `inputs.3.name`.
 * graphql-js points at the offending AST node without its ancestors, so the document is
 * parsed again (only on this error path) and the node found among the arguments by position.
 */
export function literalFieldPath(error: unknown, message: string): string | undefined {
  if (!(error instanceof GraphQLError) || !error.source || !error.nodes?.[0]?.loc) return undefined;
  const target = error.nodes[0].loc.start;
  let found: string[] | null = null;
  try {
    visit(parse(error.source), {
      Argument(node) {
        found ??= pathTo(node.value, target, [node.name.value]);
      },
    });
  } catch {
    return undefined;
  }
  if (!found) return undefined;
  // "Field "RecordEventInput.name" of required type "String!" was not provided." points at the object.
  const missing = /^Field "[^".]+\.([^"]+)" of required type /.exec(message);
  return [...(found as string[]), ...(missing ? [missing[1] as string] : [])].join('.');
}

function pathTo(value: ValueNode, target: number, trail: string[]): string[] | null {
  if (value.loc?.start === target) return trail;
  if (value.kind === Kind.OBJECT) {
    for (const field of value.fields) {
      if (field.loc?.start === target) return [...trail, field.name.value];
      const inner = pathTo(field.value, target, [...trail, field.name.value]);
      if (inner) return inner;
    }
  } else if (value.kind === Kind.LIST) {
    for (let i = 0; i < value.values.length; i++) {
      const inner = pathTo(value.values[i] as ValueNode, target, [...trail, String(i)]);
      if (inner) return inner;
    }
  }
  return null;
}
