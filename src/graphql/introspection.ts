// Who may see the schema. Introspection and "Did you mean …?" suggestions hand a stranger a
// map of the whole surface; keys that use the API know it from the documentation.
import { GraphQLError, type OperationDefinitionNode } from 'graphql';
import { ApiKeyRole } from '../common/enums';
import type { Principal } from '../auth/principal';
import type { SecurityConfig } from '../config/config';
import { fieldsOf, type Fragments } from './selections';

/** Whether the operation asks for `__schema` or `__type` (`__typename` is not introspection of the schema). */
export function selectsIntrospection(operation: OperationDefinitionNode, fragments: Fragments): boolean {
  return fieldsOf(operation.selectionSet, fragments).some(({ field }) => field.name.value === '__schema' || field.name.value === '__type');
}

/** The error refusing introspection to this caller, or null when it may introspect. */
export function introspectionRefusal(setting: SecurityConfig['introspection'], principal: Principal | null): GraphQLError | null {
  if (setting === 'off') return new GraphQLError('introspection is disabled on this server', { extensions: { code: 'INTROSPECTION_DISABLED', http: { status: 403 } } });
  if (!principal) return new GraphQLError('introspection needs an API key', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  if (setting === 'admin' && principal.role !== ApiKeyRole.ADMIN) {
    return new GraphQLError('introspection needs an ADMIN key on this server', { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
  }
  return null;
}

/** Only ADMIN callers get graphql-js's "Did you mean …?" hints. */
export function mayGetSuggestions(principal: Principal | null): boolean {
  return principal?.role === ApiKeyRole.ADMIN;
}

/** The message without its suggestion (`Cannot query field "x" on type "Query". Did you mean "y"?`). */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean .+\?$/s, '');
}
