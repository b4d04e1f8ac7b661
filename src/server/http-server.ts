import http from 'node:http';
import express, { NextFunction, Request, Response } from 'express';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { isUtf8 } from 'node:buffer';
import { GraphQLError, GraphQLSchema, parse, specifiedRules, validate, type DocumentNode } from 'graphql';
import { WebSocketServer } from 'ws';
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
import { createGraphQLPostHandler, takesGraphQLPost } from './graphql-post';

export const MAX_BODY_BYTES = 1024 * 1024;
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
  /** Closes sockets whose key was revoked (called when a revocation is seen). */
  closeSocketsOfKey(keyId: string): void;
  stop(): Promise<void>;
}

type SocketExtra = { principal?: Principal | null };

export async function createHttpServer(services: Services, schema: GraphQLSchema): Promise<HttpServerHandle> {
  const { logger } = services;
  const app = express();
  app.disable('x-powered-by');
  // POST /graphql with a plain JSON body skips Express (graphql-post.ts); the rest is Express's.
  let graphqlPost: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | null = null;
  const server = http.createServer((req, res) => {
    if (graphqlPost && takesGraphQLPost(req.method, req.url, req.headers, MAX_BODY_BYTES)) graphqlPost(req, res);
    else app(req, res);
  });

  const contextForRequest = async (req: http.IncomingMessage): Promise<GraphQLContext> => {
    const secret = parseBearer(req.headers.authorization);
    const principal = secret ? await services.apiKeys.authenticate(secret) : null;
    return { principal, services, loaders: createLoaders(services.dataSource) };
  };
  const contextForSocket = (extra: SocketExtra): GraphQLContext => ({ principal: extra.principal ?? null, services, loaders: createLoaders(services.dataSource, { cache: false }) });
  const formatError = createFormatError(logger, (code) => services.metrics.graphqlErrors.inc({ code }));
  // The same 1 MB bound as HTTP bodies (ws accepts 100 MB messages by default).
  const wsServer = new WebSocketServer({ server, path: '/graphql', maxPayload: MAX_BODY_BYTES });
  const openSockets = new Map<string, Set<{ close(code: number, reason: string): void }>>();
  const wsCleanup = useServer<Record<string, unknown>, SocketExtra>(
    {
      schema,
      // Parsed here, with the token limit HTTP requests get, then validated with the same rules.
      onSubscribe: (ctx, _id, payload) => {
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: MAX_QUERY_TOKENS });
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
        }
        const errors = validate(schema, document, [...specifiedRules, ...VALIDATION_RULES]);
        if (errors.length > 0) return errors;
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: contextForSocket(ctx.extra as SocketExtra),
        };
      },
      // Errors over WebSocket get the same codes and masking as over HTTP.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) } : undefined,
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
    introspection: true,
    // main.ts and worker.ts own SIGTERM/SIGINT and stop everything in order. Apollo's own
    // handler would stop it a second time and re-raise the signal into ours, and `npm start`
    // then hung on shutdown instead of exiting.
    stopOnTerminationSignals: false,
    // A GET carrying Authorization cannot come from a plain cross-site form or image.
    csrfPrevention: { requestHeaders: ['authorization', 'x-apollo-operation-name', 'apollo-require-preflight'] },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      // Nothing here is HTTP-cacheable (mutations, per-key scoped reads), and the default
      // cache-control plugin's per-field hook makes Apollo wrap every resolver in the schema:
      // the largest Apollo cost of a recordEvents batch.
      ApolloServerPluginCacheControlDisabled(),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
    ],
  });
  await apollo.start();

  registerOperationalRoutes(app, services);

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
  graphqlPost = createGraphQLPostHandler(apollo, contextForRequest, (error) => logger.error({ err: error }, 'a GraphQL request failed outside of Apollo'));

  // Body-parser failures: the client's fault, answered in GraphQL's error shape.
  app.use((error: { type?: string; status?: number; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (error?.type === 'entity.too.large') {
      res.status(413).json({ errors: [{ message: `request body exceeds ${MAX_BODY_BYTES} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      return;
    }
    if (error?.type === 'entity.parse.failed' || error?.type === 'encoding.unsupported' || error?.type === 'charset.unsupported' || error?.type === 'encoding.invalid') {
      res.status(400).json({ errors: [{ message: `malformed request body: ${error.message}`, extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    next(error);
  });

  return {
    server,
    closeSocketsOfKey,
    async stop() {
      clearInterval(sweep);
      stopListening();
      await apollo.stop();
    },
  };
}
