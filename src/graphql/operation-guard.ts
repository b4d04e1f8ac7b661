// What every operation passes before it runs, over HTTP and WebSocket alike: who may
// introspect, what one operation may cost, the caller's request budget, and the text rule for
// mutation inputs. Refusals are GraphQL errors with a code; over HTTP they also carry their
// status (429 with Retry-After for a spent budget).
import { getVariableValues, GraphQLError, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import type { Principal } from '../auth/principal';
import type { RequestBudget } from '../auth/request-budget';
import { BadUserInputError, DomainError, ErrorCode } from '../common/errors';
import type { SecurityConfig } from '../config/config';
import type { ServiceMetrics } from '../observability/metrics';
import type { GraphQLContext } from './context';
import { introspectionRefusal, mayGetSuggestions, withoutSuggestions } from './introspection';
import { analyseOperation, type OperationAnalysis } from './operation-analysis';
import { operationCost } from './query-cost';
import { argumentTextProblems, type TextInputProblem } from './text-inputs';

/** The bucket of a key: its id (the bootstrap ADMIN secret has none). */
export function budgetKey(principal: Principal): string {
  return principal.keyId ?? 'bootstrap-admin';
}

export class RateLimitedError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super(ErrorCode.RATE_LIMITED, `the request budget of this API key is spent; retry after ${retryAfterSeconds} s`, { retryAfterSeconds });
  }
}

export class QueryTooCostlyError extends DomainError {
  constructor(cost: number, maxCost: number) {
    super(ErrorCode.QUERY_TOO_COSTLY, `the operation may cost ${cost} (objects in its answer: aliases × page sizes); at most ${maxCost} per operation: ask for smaller pages or fewer aliases`, { cost, maxCost });
  }
}

/** A refusal as a GraphQL error carrying a domain error (formatted by format-error.ts) and its HTTP status. */
function refusal(error: DomainError, status: number, headers: [string, string][] = [], path?: string): GraphQLError {
  return new GraphQLError(error.message, { originalError: error, path: path === undefined ? undefined : [path], extensions: { http: { status, headers: new HeaderMap(headers) } } });
}

/**
 * The text problems of the coerced variables (none when they do not coerce: execution refuses
 * those). Strings coerce to themselves, so with no variable defaults the values as sent have
 * problems exactly when the coerced ones do; only then is coercion needed, for the order and
 * paths of the answer and to leave refusing uncoercible variables to execution.
 */
function textProblems(analysis: OperationAnalysis, rawVariables: Record<string, unknown> | undefined, coerce: () => Record<string, unknown> | undefined): TextInputProblem[] {
  if (analysis.mutationArguments.length === 0) return [];
  if (analysis.rawVariablesSuffice && argumentTextProblems(analysis.mutationArguments, rawVariables ?? {}).length === 0) return [];
  const variables = coerce();
  return variables ? argumentTextProblems(analysis.mutationArguments, variables) : [];
}

export interface OperationGuard {
  /** The errors refusing this operation, or null when it may run. Takes its cost from the caller's budget. */
  check(principal: Principal | null, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): Promise<GraphQLError[] | null>;
  /** For Apollo (HTTP): check() before execution, suggestions stripped for non-ADMIN callers. */
  plugin(): ApolloServerPlugin<GraphQLContext>;
}

export function createOperationGuard(deps: { schema: GraphQLSchema; security: SecurityConfig; budget: RequestBudget; metrics: ServiceMetrics }): OperationGuard {
  const { schema, security, budget, metrics } = deps;
  const refused = (reason: string, principal: Principal | null) => metrics.requestsRefused.inc({ reason, role: principal?.role ?? 'none' });

  const analyses = new WeakMap<OperationDefinitionNode, OperationAnalysis>();

  const check: OperationGuard['check'] = async (principal, document, operation, rawVariables) => {
    let analysis = analyses.get(operation);
    if (!analysis) {
      analysis = analyseOperation(schema, document, operation);
      analyses.set(operation, analysis);
    }
    const { fragments } = analysis;
    // Coerced as execution will coerce them (execution refuses variables that do not coerce,
    // with the field named). Coercing twice per request was a tenth of a recordEvent's CPU, so
    // the guard coerces only when what it checks depends on it: a variable default, or text
    // that looks refused as sent (confirmed on the coerced values).
    let coerced: Record<string, unknown> | undefined | null = null;
    const coerce = () => (coerced ??= getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {}).coerced);
    if (analysis.selectsIntrospection) {
      const error = introspectionRefusal(security.introspection, principal);
      if (error) return [error];
    }
    // The cost reads a page size (`first`) and a batch's length (`inputs`). Coercion keeps an
    // Int and a list's length as sent (a single value stands for a list of one, as the cost
    // counts it), so with no defaults the values as sent price a request exactly as the
    // coerced ones would; a request whose variables do not coerce is priced as sent too, and
    // refused for its cost first when that is over the limit.
    const cost = analysis.staticCost ?? operationCost(schema, operation, fragments, analysis.rawVariablesSuffice ? rawVariables : coerce());
    if (cost > security.maxQueryCost) {
      refused('query_cost', principal);
      return [refusal(new QueryTooCostlyError(cost, security.maxQueryCost), 400)];
    }
    if (principal) {
      const decision = await budget.take(budgetKey(principal), security.rateLimits[principal.role], cost);
      if (!decision.allowed) {
        refused('rate_limited', principal);
        const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
        return [refusal(new RateLimitedError(seconds), 429, [['retry-after', String(seconds)]])];
      }
    }
    const problems = textProblems(analysis, rawVariables, coerce);
    if (problems.length > 0) {
      const error = new BadUserInputError(problems.map(({ field, reason }) => ({ field, reason })));
      return [refusal(error, 200, [], problems[0]?.mutation)];
    }
    return null;
  };

  return {
    check,
    plugin: () => ({
      async requestDidStart({ contextValue }) {
        const hideSuggestions = !mayGetSuggestions(contextValue.principal);
        return {
          async validationDidStart() {
            return async (errors) => {
              if (hideSuggestions) errors?.forEach((error) => (error.message = withoutSuggestions(error.message)));
            };
          },
          async didResolveOperation(request) {
            if (!request.operation) return;
            const errors = await check(contextValue.principal, request.document, request.operation, request.request.variables);
            if (errors) throw errors[0];
          },
          // Input coercion (an enum value misspelt in a variable) suggests too, at execution.
          async didEncounterErrors(request) {
            if (hideSuggestions) request.errors.forEach((error) => (error.message = withoutSuggestions(error.message)));
          },
        };
      },
    }),
  };
}
