// The shortcut for the request SDK backends send thousands of times a second: recordEvent or
// recordEvents, the same document every time, in a plain JSON POST. It takes the steps Apollo's
// request pipeline takes for such a request, in the same order and with the same rules (the
// context, the operation guard, graphql-js `execute`, Apollo's error normalisation, status
// codes, headers and JSON), and leaves out the pipeline's per-request machinery: a sha256 of the
// query text for the document store, the plugin hook fan-out, content negotiation of a missing
// Accept header. It answers only what it can answer exactly as Apollo would; everything else
// (another operation, a document it has not validated, a batch array, persisted queries,
// extensions, an Accept header other than JSON, a context that fails) goes to Apollo.
// test/integration/graphql-fast-path.test.ts sends the same requests both ways and compares.
import type http from 'node:http';
import {
  execute,
  getOperationAST,
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';
import type { GraphQLContext } from '../graphql/context';
import type { OperationGuard } from '../graphql/operation-guard';
import { mayGetSuggestions, withoutSuggestions } from '../graphql/introspection';

/** The mutations taken here; every top-level field of the operation must be one of them. */
export const FAST_PATH_FIELDS: ReadonlySet<string> = new Set(['recordEvent', 'recordEvents']);
/** Documents kept parsed and validated (a deployment's SDK backends send a handful). */
export const FAST_PATH_DOCUMENTS = 64;
/**
 * Longer query texts go to Apollo (whose document store bounds itself by size): SDK backends
 * send short documents with variables, and the texts kept here stay a few hundred KB at most.
 */
export const FAST_PATH_MAX_QUERY_CHARS = 4096;
/** Apollo's answer type for a single result when the client states no preference (or JSON). */
const APPLICATION_JSON = 'application/json; charset=utf-8';
const ACCEPTS_JSON: ReadonlySet<string | undefined> = new Set([undefined, '*/*', 'application/json']);
const BODY_KEYS: ReadonlySet<string> = new Set(['query', 'variables', 'operationName']);

export interface FastAnswer {
  status: number;
  /** In Apollo's order: headers from errors' `extensions.http`, then content-type. */
  headers: [string, string][];
  body: string;
}

export interface GraphQLFastPath {
  /**
   * The answer to a parsed POST body, or null when Apollo must answer it (decided before
   * anything runs; the context is made again there).
   */
  answer(body: unknown, headers: http.IncomingHttpHeaders, context: () => Promise<GraphQLContext>): Promise<FastAnswer | null> | null;
  /** Requests answered here since start (tests check which way a request went). */
  readonly answered: number;
  /** Leaves every later request to Apollo (the server is stopping). */
  close(): void;
}

interface Prepared {
  document: DocumentNode;
}

/** A request as Apollo reads a POST body (runHttpQuery: fieldIfString, fieldIfRecord). */
interface PlainRequest {
  query: string;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined;
}

function plainRequest(body: unknown): PlainRequest | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const record = body as Record<string, unknown>;
  for (const key in record) if (!BODY_KEYS.has(key)) return null;
  const { query, variables, operationName } = record;
  if (typeof query !== 'string' || query === '' || query.length > FAST_PATH_MAX_QUERY_CHARS) return null;
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return null;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null;
  return {
    query,
    variables: (variables ?? undefined) as Record<string, unknown> | undefined,
    operationName: typeof operationName === 'string' ? operationName : undefined,
  };
}

function takenOperation(operation: OperationDefinitionNode | null | undefined): operation is OperationDefinitionNode {
  if (!operation || operation.operation !== 'mutation') return false;
  return operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && FAST_PATH_FIELDS.has(s.name.value) && !s.directives?.length);
}

/** requestPipeline.js: isBadUserInputGraphQLError (variable coercion errors get BAD_USER_INPUT). */
function isBadUserInputGraphQLError(error: GraphQLError): boolean {
  const node = error.nodes?.length === 1 ? error.nodes[0] : undefined;
  if (node?.kind !== Kind.VARIABLE_DEFINITION) return false;
  const name = node.variable.name.value;
  return ['has invalid value', 'got invalid value ', 'of required type ', 'of non-null type '].some((tail) => error.message.startsWith(`Variable "$${name}" ${tail}`));
}

/** internalErrorClasses.js: UserInputError. */
function userInputError(error: GraphQLError): GraphQLError {
  const wrapped = new GraphQLError(error.message, { nodes: error.nodes, originalError: error.originalError ?? error, extensions: { ...error.extensions, code: 'BAD_USER_INPUT' } });
  wrapped.name = 'UserInputError';
  return wrapped;
}

/** errorNormalize.js: ensureGraphQLError. */
function ensureGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  const cause = error instanceof Error ? error : new Error(`Unexpected error value: ${JSON.stringify(error)}`);
  return new GraphQLError(cause.message, { originalError: cause });
}

type HttpHead = { status?: number; headers: Map<string, string> };

/** errorNormalize.js: isPartialHTTPGraphQLHead. */
function isHttpHead(value: unknown): value is { status?: number; headers?: Map<string, string> } {
  if (typeof value !== 'object' || value === null) return false;
  const head = value as { status?: unknown; headers?: unknown };
  return (!('status' in head) || typeof head.status === 'number') && (!('headers' in head) || head.headers instanceof Map);
}

export function createGraphQLFastPath(deps: {
  schema: GraphQLSchema;
  guard: OperationGuard;
  validationRules: readonly ValidationRule[];
  parseOptions: ParseOptions;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}): GraphQLFastPath {
  const { schema, guard, formatError } = deps;
  const rules = [...specifiedRules, ...deps.validationRules];
  /** Query text → its validated document, or null: Apollo answers it (it does not parse or validate, or it is not taken here). */
  const prepared = new Map<string, Prepared | null>();
  /** Texts seen once: a text is prepared when it comes again, so one-off documents are not parsed twice. */
  const seenOnce = new Set<string>();

  const prepare = (query: string): Prepared | null | undefined => {
    const known = prepared.get(query);
    if (known !== undefined) return known;
    if (!seenOnce.has(query)) {
      if (seenOnce.size >= FAST_PATH_DOCUMENTS) seenOnce.clear();
      seenOnce.add(query);
      return undefined;
    }
    seenOnce.delete(query);
    let entry: Prepared | null = null;
    try {
      const document = parse(query, deps.parseOptions);
      const taken = document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && takenOperation(d));
      if (taken && validate(schema, document, rules).length === 0) entry = { document };
    } catch {
      entry = null;
    }
    if (prepared.size >= FAST_PATH_DOCUMENTS) prepared.delete(prepared.keys().next().value as string);
    prepared.set(query, entry);
    return entry;
  };

  /** errorNormalize.js: normalizeAndFormatErrors (includeStacktraceInErrorResponses: false). */
  const formatErrors = (errors: readonly GraphQLError[], head: HttpHead): GraphQLFormattedError[] =>
    errors.map((error) => {
      try {
        const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions.code ?? 'INTERNAL_SERVER_ERROR' };
        if (isHttpHead(extensions.http)) {
          if (extensions.http.status) head.status = extensions.http.status;
          for (const [name, value] of extensions.http.headers ?? []) head.headers.set(name.toLowerCase(), value);
          delete extensions.http;
        }
        return formatError({ ...error.toJSON(), extensions }, error);
      } catch {
        return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
      }
    });

  const respond = (head: HttpHead, result: { errors?: GraphQLFormattedError[]; data?: unknown; extensions?: unknown }): FastAnswer => {
    head.headers.set('content-type', APPLICATION_JSON);
    return {
      status: head.status ?? 200,
      headers: [...head.headers],
      body: JSON.stringify({ errors: result.errors, data: result.data, extensions: result.extensions }) + '\n',
    };
  };

  const run = async (document: DocumentNode, operation: OperationDefinitionNode, request: PlainRequest, context: () => Promise<GraphQLContext>): Promise<FastAnswer | null> => {
    let contextValue: GraphQLContext;
    try {
      contextValue = await context();
    } catch {
      return null;
    }
    const hideSuggestions = !mayGetSuggestions(contextValue.principal);
    const head: HttpHead = { headers: new Map() };
    // The guard plugin's didResolveOperation; what it throws is answered as sendErrorResponse does.
    let refused: GraphQLError[] | null;
    try {
      refused = await guard.check(contextValue.principal, document, operation, request.variables);
    } catch (error) {
      refused = [ensureGraphQLError(error)];
    }
    if (refused) {
      const errors = [refused[0] as GraphQLError];
      if (hideSuggestions) errors.forEach((error) => (error.message = withoutSuggestions(error.message)));
      const formatted = formatErrors(errors, head);
      head.status ??= 500;
      return respond(head, { errors: formatted });
    }
    let result: ExecutionResult;
    try {
      result = await execute({ schema, document, contextValue, variableValues: request.variables, operationName: request.operationName });
    } catch (error) {
      const formatted = formatErrors([ensureGraphQLError(error)], head);
      head.status ??= 500;
      return respond(head, { errors: formatted });
    }
    const errors = result.errors?.map((e) => (isBadUserInputGraphQLError(e) && e.extensions?.code == null ? userInputError(e) : e));
    if (errors && hideSuggestions) errors.forEach((error) => (error.message = withoutSuggestions(error.message)));
    const formatted = errors ? formatErrors(errors, head) : undefined;
    // status400ForVariableCoercionErrors (Apollo 5's default): no data and no status from the errors.
    if (errors?.length && result.data === undefined && !head.status) head.status = 400;
    return respond(head, { errors: formatted, data: result.data, extensions: result.extensions });
  };

  let answered = 0;
  let open = true;
  return {
    get answered() {
      return answered;
    },
    close() {
      open = false;
    },
    answer(body, headers, context) {
      if (!open) return null;
      if (!ACCEPTS_JSON.has(headers.accept)) return null;
      const request = plainRequest(body);
      if (!request) return null;
      const entry = prepare(request.query);
      if (!entry) return null;
      const operation = getOperationAST(entry.document, request.operationName);
      if (!takenOperation(operation)) return null;
      return run(entry.document, operation, request, context).then((answer) => {
        if (answer) answered++;
        return answer;
      });
    },
  };
}
