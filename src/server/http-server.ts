import http from 'node:http';
import express, { NextFunction, Request, Response } from 'express';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { GraphQLSchema, specifiedRules, validate } from 'graphql';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { Principal } from '../auth/principal';
import { parseBearer } from '../auth/secrets';
import { createLoaders } from '../graphql/loaders';
import { createFormatError } from '../graphql/format-error';
import { depthLimitRule } from '../graphql/depth-limit';
import type { GraphQLContext } from '../graphql/context';
import type { Services } from '../services';
import { registerOperationalRoutes } from './operational-routes';

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_QUERY_DEPTH = 12;
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
  const server = http.createServer(app);

  const formatError = createFormatError(logger, (code) => services.metrics.graphqlErrors.inc({ code }));
  const wsServer = new WebSocketServer({ server, path: '/graphql' });
  const openSockets = new Map<string, Set<{ close(code: number, reason: string): void }>>();
  const wsCleanup = useServer<Record<string, unknown>, SocketExtra>(
    {
      schema,
      validate: (schemaToCheck, document) => validate(schemaToCheck, document, [...specifiedRules, depthLimitRule(MAX_QUERY_DEPTH)]),
      // Errors over WebSocket get the same codes and masking as over HTTP.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => formatError(error.toJSON(), error)),
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const secret = parseBearer(typeof raw === 'string' ? raw : null);
        if (!secret) {
          ctx.extra.socket.close(4401, 'Unauthorized');
          return false;
        }
        const principal = await services.apiKeys.authenticate(secret);
        if (!principal) return false; // graphql-ws closes with 4403 Forbidden
        (ctx.extra as SocketExtra).principal = principal;
        if (principal.keyId) {
          const sockets = openSockets.get(principal.keyId) ?? new Set();
          sockets.add(ctx.extra.socket);
          openSockets.set(principal.keyId, sockets);
          ctx.extra.socket.once('close', () => sockets.delete(ctx.extra.socket));
        }
        return true;
      },
      context: (ctx): GraphQLContext => ({
        principal: (ctx.extra as SocketExtra).principal ?? null,
        services,
        loaders: createLoaders(services.dataSource),
      }),
    },
    wsServer,
  );

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
    validationRules: [depthLimitRule(MAX_QUERY_DEPTH)],
    introspection: true,
    // A GET carrying Authorization cannot come from a plain cross-site form or image.
    csrfPrevention: { requestHeaders: ['authorization', 'x-apollo-operation-name', 'apollo-require-preflight'] },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
    ],
  });
  await apollo.start();

  registerOperationalRoutes(app, services);

  app.use(
    '/graphql',
    express.json({ limit: MAX_BODY_BYTES }),
    expressMiddleware(apollo, {
      context: async ({ req }): Promise<GraphQLContext> => {
        const secret = parseBearer(req.headers.authorization);
        const principal = secret ? await services.apiKeys.authenticate(secret) : null;
        return { principal, services, loaders: createLoaders(services.dataSource) };
      },
    }),
  );

  // Body-parser failures: the client's fault, answered in GraphQL's error shape.
  app.use((error: { type?: string; status?: number; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (error?.type === 'entity.too.large') {
      res.status(413).json({ errors: [{ message: `request body exceeds ${MAX_BODY_BYTES} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      return;
    }
    if (error?.type === 'entity.parse.failed' || error?.type === 'encoding.unsupported' || error?.type === 'charset.unsupported') {
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
