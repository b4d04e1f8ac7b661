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
    const code = formatted.extensions?.code as string | undefined;
    const fromGraphQL = code !== undefined && code !== 'INTERNAL_SERVER_ERROR';
    if (fromGraphQL) {
      return { ...formatted, extensions: { code, ...(code === ErrorCode.BAD_USER_INPUT ? { reason: formatted.message } : {}) } };
    }
    // Errors thrown while coercing variables or arguments (a scalar's parseValue) arrive without a code.
    if (original instanceof Error && original.name === 'GraphQLError' && !formatted.path) {
      return { message: formatted.message, locations: formatted.locations, extensions: { code: ErrorCode.BAD_USER_INPUT, reason: formatted.message } };
    }
    logger.error({ err: original, path: formatted.path }, 'internal error in a GraphQL operation');
    return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
}
