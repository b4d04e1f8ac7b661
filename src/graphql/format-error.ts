import { GraphQLFormattedError } from 'graphql';
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
    const original = unwrapResolverError(error);
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
      return { ...formatted, extensions: { code, ...(code === ErrorCode.BAD_USER_INPUT ? badInputDetails(formatted.message) : {}) } };
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
const BAD_VALUE_MESSAGES = [/^Expected value of type /, /cannot represent/, /^Field "[^"]+" is not defined by type /, /^Field "[^"]+" of required type "[^"]+" was not provided/];

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
