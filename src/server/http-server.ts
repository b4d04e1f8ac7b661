import http from 'node:http';
import express, { NextFunction, Request, Response } from 'express';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { isUtf8 } from 'node:buffer';
import { getOperationAST, GraphQLError, GraphQLSchema, parse, specifiedRules, validate, type DocumentNode } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { Principal } from '../auth/principal';
import { parseBearer } from '../auth/secrets';
import { createLoaders } from '../graphql/loaders';
import { createFormatError } from '../graphql/format-error';
import { depthLimitRule } from '../graphql/depth-limit';
import { fieldCountLimitRule } from '../graphql/complexity-limit';
import type { GraphQLContext } from '../graphql/context';
import type { Services } from '../services';
import { registerOperationalRoutes } from './operational-routes';
import { createMemoryBudget, createRedisBudget, type RequestBudget } from '../auth/request-budget';
import { createOperationGuard } from '../graphql/operation-guard';
import { mayGetSuggestions, withoutSuggestions } from '../graphql/introspection';
import { createSharedSubscriptions } from '../graphql/shared-subscriptions';
import { channelPrefix } from '../pubsub/cluster-pubsub';
import { DomainError, ErrorCode } from '../common/errors';
import { registerConsoleRoutes } from '../console/console-routes';
import { createGraphQLFastPath, type GraphQLFastPath } from './graphql-fast-path';
import { assignRequestId, createGraphQLPostHandler, isPlainGraphQLPost, MAX_BODY_BYTES, writeHttpError } from './graphql-post';

export { MAX_BODY_BYTES };
export const MAX_QUERY_DEPTH = 12;
/** Fields selected by one operation, fragments expanded (see complexity-limit.ts). */
export const MAX_QUERY_FIELDS = 2000;
/**
 * Tokens in one GraphQL document: stops a parser-eating document before it is parsed whole.
 * Generous: a recordEvents batch of 500 inputs written inline (not as variables) fits.
 */
export const MAX_QUERY_TOKENS = 100_000;
const VALIDATION_RULES = [depthLimitRule(MAX_QUERY_DEPTH), fieldCountLimitRule(MAX_QUERY_FIELDS)];
/**
 * How often open WebSockets' keys are checked against the database. Revocations made through
 * this deployment close sockets at once (pub/sub); this catches the rest (keys revoked with
 * their app or network, or while Redis was unreachable).
 */
export const SOCKET_KEY_SWEEP_MS = 5000;

export interface HttpServerHandle {
  server: http.Server;
  /** The shortcut for plain recordEvent/recordEvents POSTs (graphql-fast-path.ts). */
  fastPath: GraphQLFastPath;
  /** Closes sockets whose key was revoked (called when a revocation is seen). */
  closeSocketsOfKey(keyId: string): void;
  stop(): Promise<void>;
}

type SocketExtra = { principal?: Principal | null };

/** WebSocket close code past WS_MAX_CONNECTIONS_PER_KEY (4xxx: the application's range; 429 as in HTTP). */
export const CLOSE_TOO_MANY_SOCKETS = 4429;

export class SubscriptionLimitError extends DomainError {
  constructor(max: number) {
    super(ErrorCode.SUBSCRIPTION_LIMIT, `at most ${max} operations may be active on one WebSocket; complete one or open another connection`, { max });
  }
}

/** What decides what a subscriber may see: callers with the same scope get the same answers. */
export function subscriptionScope(principal: Principal | null | undefined): string | null {
  if (!principal) return null;
  if (principal.role === 'SDK') return `SDK:${principal.appId}`;
  if (principal.role === 'PARTNER') return `PARTNER:${principal.networkId}`;
  return 'ADMIN';
}

/**
 * Caps open TCP connections (HTTP keep-alive and WebSocket alike) per client address. Past the
 * cap a connection is answered with 429 and closed before its request is read.
 */
function capConnectionsPerAddress(server: http.Server, max: number, onRefused: () => void): void {
  if (max === 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      onRefused();
      socket.end(`HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${TOO_MANY_CONNECTIONS.length}\r\n\r\n${TOO_MANY_CONNECTIONS}`);
      socket.destroySoon();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
const TOO_MANY_CONNECTIONS = 'too many open connections from this address';

const corked = new WeakSet<object>();
/**
 * Holds a WebSocket's writes until the event loop's next turn. One update reaches every
 * subscription of a socket in the same turn; corked, their frames leave in one write instead
 * of one system call each (writev was the largest cost of a 500-subscriber fan-out).
 */
function corkUntilNextTurn(socket: WebSocket): void {
  const tcp = (socket as unknown as { _socket?: { cork(): void; uncork(): void; destroyed?: boolean } })._socket;
  if (!tcp || corked.has(tcp)) return;
  corked.add(tcp);
  tcp.cork();
  setImmediate(() => {
    corked.delete(tcp);
    if (!tcp.destroyed) tcp.uncork();
  });
}

export async function createHttpServer(services: Services, schema: GraphQLSchema): Promise<HttpServerHandle> {
  const { logger, metrics } = services;
  const security = services.config.security;
  const app = express();
  app.disable('x-powered-by');
  // One way in (graphql-post.ts): a request id for every request, then a plain POST /graphql
  // goes straight to Apollo and the rest through Express.
  let graphqlPost: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | null = null;
  // Node's defaults hold a slow client for 60 s (headers) and 300 s (request): sized for an API here.
  const serverOptions: http.ServerOptions = {
    headersTimeout: security.headersTimeoutSeconds * 1000,
    requestTimeout: security.requestTimeoutSeconds * 1000,
    // How often Node looks for requests past those timeouts (its default, 30 s, would overshoot short ones).
    connectionsCheckingInterval: Math.min(1000, security.headersTimeoutSeconds * 250),
  };
  const server = http.createServer(serverOptions, (req, res) => {
    assignRequestId(req, res);
    if (graphqlPost && isPlainGraphQLPost(req)) graphqlPost(req, res);
    else app(req, res);
  });
  capConnectionsPerAddress(server, security.maxConnectionsPerAddress, () => metrics.requestsRefused.inc({ reason: 'connections_per_address', role: 'none' }));

  const budget: RequestBudget = services.config.redisUrl
    ? await createRedisBudget(services.config.redisUrl, channelPrefix(services.config.database), (error) => logger.warn({ err: error }, 'request budgets: Redis did not answer; allowing the request'))
    : createMemoryBudget();
  const guard = createOperationGuard({ schema, security, budget, metrics });
  const sharedSubscriptions = createSharedSubscriptions(
    (contextValue) => subscriptionScope((contextValue as GraphQLContext).principal),
    (subscribers) => {
      metrics.subscriptionExecutions.inc();
      metrics.subscriptionMessages.inc(subscribers);
    },
  );

  const contextForRequest = async (req: http.IncomingMessage): Promise<GraphQLContext> => {
    const secret = parseBearer(req.headers.authorization);
    const principal = secret ? await services.apiKeys.authenticate(secret) : null;
    return { principal, services, loaders: createLoaders(services.dataSource, services.deliveryStore) };
  };
  const contextForSocket = (extra: SocketExtra): GraphQLContext => ({ principal: extra.principal ?? null, services, loaders: createLoaders(services.dataSource, services.deliveryStore, { cache: false }) });
  const formatError = createFormatError(logger, (code) => services.metrics.graphqlErrors.inc({ code }));
  // The same 1 MB bound as HTTP bodies (ws accepts 100 MB messages by default).
  const wsServer = new WebSocketServer({ server, path: '/graphql', maxPayload: MAX_BODY_BYTES });
  const openSockets = new Map<string, Set<{ close(code: number, reason: string): void }>>();
  /** Open sockets per key, for WS_MAX_CONNECTIONS_PER_KEY (the bootstrap ADMIN secret counts as one key). */
  const socketsPerKey = new Map<string, number>();
  const wsCleanup = useServer<Record<string, unknown>, SocketExtra>(
    {
      schema,
      // Parsed here, with the token limit HTTP requests get, then validated with the same rules.
      onSubscribe: async (ctx, _id, payload) => {
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: MAX_QUERY_TOKENS });
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
        }
        const principal = (ctx.extra as SocketExtra).principal ?? null;
        const errors = validate(schema, document, [...specifiedRules, ...VALIDATION_RULES]);
        if (errors.length > 0) {
          if (!mayGetSuggestions(principal)) errors.forEach((error) => (error.message = withoutSuggestions(error.message)));
          return errors;
        }
        // ctx.subscriptions holds this operation too, and every other one still running on the socket.
        const active = Object.keys(ctx.subscriptions).length;
        if (security.maxSubscriptionsPerSocket > 0 && active > security.maxSubscriptionsPerSocket) {
          metrics.requestsRefused.inc({ reason: 'subscriptions_per_socket', role: principal?.role ?? 'none' });
          return [new GraphQLError(`at most ${security.maxSubscriptionsPerSocket} operations may be active on one WebSocket`, { originalError: new SubscriptionLimitError(security.maxSubscriptionsPerSocket) })];
        }
        const operation = getOperationAST(document, payload.operationName);
        if (operation) {
          const refused = await guard.check(principal, document, operation, payload.variables ?? undefined);
          if (refused) return refused;
        }
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: contextForSocket(ctx.extra as SocketExtra),
        };
      },
      // Errors over WebSocket get the same codes and masking as over HTTP.
      // Subscribers asking the same thing in the same scope share one execution per update.
      subscribe: (args) => sharedSubscriptions.subscribe(args),
      onNext: (ctx, _id, _payload, _args, result) => {
        corkUntilNextTurn(ctx.extra.socket);
        return result.errors ? { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) } : undefined;
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => formatError(error.toJSON(), error)),
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const secret = parseBearer(typeof raw === 'string' ? raw : null);
        // The reasons tell a client what to fix; graphql-ws clients do not retry 4401, and
        // retry 4403 unless told not to (shouldRetry), as the README's snippet does.
        if (!secret) {
          ctx.extra.socket.close(4401, 'Unauthorized: no API key (connectionParams.authorization: "Bearer <key>")');
          return false;
        }
        const principal = await services.apiKeys.authenticate(secret);
        if (!principal) {
          ctx.extra.socket.close(4403, 'Forbidden: unknown or revoked API key');
          return false;
        }
        (ctx.extra as SocketExtra).principal = principal;
        const budgetOwner = principal.keyId ?? 'bootstrap-admin';
        const open = socketsPerKey.get(budgetOwner) ?? 0;
        if (security.maxSocketsPerKey > 0 && open >= security.maxSocketsPerKey) {
          metrics.requestsRefused.inc({ reason: 'sockets_per_key', role: principal.role });
          ctx.extra.socket.close(CLOSE_TOO_MANY_SOCKETS, `Too many connections: at most ${security.maxSocketsPerKey} per API key`);
          return false;
        }
        socketsPerKey.set(budgetOwner, open + 1);
        ctx.extra.socket.once('close', () => {
          const left = (socketsPerKey.get(budgetOwner) ?? 1) - 1;
          if (left <= 0) socketsPerKey.delete(budgetOwner);
          else socketsPerKey.set(budgetOwner, left);
        });
        if (principal.keyId) {
          const sockets = openSockets.get(principal.keyId) ?? new Set();
          sockets.add(ctx.extra.socket);
          openSockets.set(principal.keyId, sockets);
          ctx.extra.socket.once('close', () => sockets.delete(ctx.extra.socket));
        }
        return true;
      },

    },
    wsServer,
  );
  // graphql-ws reports every socket error with console.error, past our logger, and then closes
  // with 1011. The usual one is a client's message over maxPayload, which ws has already
  // answered with 1009 (message too big): a client error, logged here as a warning. This
  // listener runs right after graphql-ws's and takes the place of its error handler.
  wsServer.on('connection', (socket) => {
    socket.removeAllListeners('error');
    socket.once('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        logger.warn({ code: error.code }, `WebSocket message over ${MAX_BODY_BYTES} bytes; closed with 1009`);
        return;
      }
      logger.error({ err: error }, 'WebSocket socket error');
      socket.close(1011, 'Internal server error');
    });
  });

  const closeSocketsOfKey = (keyId: string) => {
    for (const socket of openSockets.get(keyId) ?? []) socket.close(4403, 'Forbidden: API key revoked');
    openSockets.delete(keyId);
  };
  const stopListening = services.pubsub.on('api-key-revoked', ({ keyId }) => closeSocketsOfKey(keyId));
  const sweep = setInterval(() => {
    const keyIds = [...openSockets.keys()];
    if (keyIds.length === 0) return;
    services.apiKeys.activeKeyIds(keyIds).then(
      (active) => keyIds.filter((id) => !active.has(id)).forEach(closeSocketsOfKey),
      (error) => logger.warn({ err: error }, 'could not check the keys of open WebSockets'),
    );
  }, SOCKET_KEY_SWEEP_MS);
  sweep.unref();

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError,
    validationRules: VALIDATION_RULES,
    parseOptions: { maxTokens: MAX_QUERY_TOKENS },
    // Who may introspect is decided per caller by the operation guard (GRAPHQL_INTROSPECTION).
    introspection: true,
    // main.ts and worker.ts own SIGTERM/SIGINT and stop everything in order. Apollo's own
    // handler would stop it a second time and re-raise the signal into ours, and `npm start`
    // then hung on shutdown instead of exiting.
    stopOnTerminationSignals: false,
    // formatError (format-error.ts) answers every error with fields of its own choosing; set
    // here so that the answers do not depend on NODE_ENV, and so the fast path's match Apollo's.
    includeStacktraceInErrorResponses: false,
    // A GET carrying Authorization cannot come from a plain cross-site form or image.
    csrfPrevention: { requestHeaders: ['authorization', 'x-apollo-operation-name', 'apollo-require-preflight'] },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      // Nothing here is HTTP-cacheable (mutations, per-key scoped reads), and the default
      // cache-control plugin's per-field hook makes Apollo wrap every resolver in the schema:
      // the largest Apollo cost of a recordEvents batch.
      ApolloServerPluginCacheControlDisabled(),
      guard.plugin(),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
    ],
  });
  await apollo.start();

  registerOperationalRoutes(app, services);
  registerConsoleRoutes(app);

  app.use(
    '/graphql',
    express.json({
      limit: MAX_BODY_BYTES,
      // body-parser would quietly turn invalid UTF-8 into U+FFFD, and a mangled advertising id
      // or event name would be stored and sent on; refuse the body instead.
      verify: (_req, _res, buffer) => {
        if (!isUtf8(buffer)) throw Object.assign(new Error('the request body is not valid UTF-8'), { type: 'encoding.invalid', status: 400 });
      },
    }),
    expressMiddleware(apollo, { context: ({ req }) => contextForRequest(req) }),
  );
  const fastPath = createGraphQLFastPath({ schema, guard, validationRules: VALIDATION_RULES, parseOptions: { maxTokens: MAX_QUERY_TOKENS }, formatError });
  graphqlPost = createGraphQLPostHandler(apollo, contextForRequest, (error, requestId) => logger.error({ err: error, requestId }, 'a GraphQL request failed outside of Apollo'), fastPath);

  // Body-parser failures: the client's fault, answered as the fast path answers them.
  app.use((error: { type?: string; status?: number; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (error?.type === 'entity.too.large') {
      writeHttpError(res, 'tooLarge');
      return;
    }
    if (error?.type === 'entity.parse.failed' || error?.type === 'encoding.unsupported' || error?.type === 'charset.unsupported' || error?.type === 'encoding.invalid') {
      writeHttpError(res, 'badRequest', error.message ?? '');
      return;
    }
    next(error);
  });

  return {
    server,
    fastPath,
    closeSocketsOfKey,
    async stop() {
      clearInterval(sweep);
      stopListening();
      // From here on requests get Apollo's answers while it drains and once it has stopped.
      fastPath.close();
      await apollo.stop();
      await budget.close();
    },
  };
}
