import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { Config } from './config/config';
import { createLogger, Logger } from './common/logger';
import { Clock } from './common/clock';
import { openDatabase as openAndMigrate } from './db/open-database';
import { buildGraphQLSchema } from './graphql/schema';
import { createHttpServer, HttpServerHandle } from './server/http-server';
import { createDispatcher, createServices, Services } from './services';
import { createClusterPubSub } from './pubsub/cluster-pubsub';
import type { Dispatcher } from './dispatch/dispatcher';
import { Retention } from './retention/retention';

export interface RunningService {
  url: string;
  port: number;
  services: Services;
  http: HttpServerHandle;
  /** The inline dispatcher; null with DISPATCHER=off. */
  dispatcher: Dispatcher | null;
  /** Purges rows older than RETENTION_DAYS (one process at a time across the deployment). */
  retention: Retention;
  stop(): Promise<void>;
}

/**
 * Opens the database and, with MIGRATIONS=run (the default), applies pending migrations under
 * a deployment-wide lock; with MIGRATIONS=skip it refuses to start on a schema that is behind.
 */
export async function openDatabase(config: Config, logger: Logger, migrations?: 'run' | 'skip'): Promise<DataSource> {
  return openAndMigrate(config, logger, { migrations, poolSize: Math.max(16, Math.ceil(config.dispatchConcurrency / 2)) });
}

/** Starts the whole API process: database, GraphQL over HTTP and WebSocket, and the inline dispatcher (DISPATCHER=inline). */
export async function startService(config: Config, options: { logger?: Logger; clock?: Clock; adminSecret?: string } = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger(config);
  const adminSecret = options.adminSecret ?? config.adminApiKey ?? generateBootstrapAdminSecret(logger);
  const dataSource = await openDatabase(config, logger);
  const pubsub = await createClusterPubSub({ redisUrl: config.redisUrl, database: config.database, logger }).catch(async (error) => {
    await dataSource.destroy();
    throw error;
  });
  const services = createServices({ config, dataSource, logger, adminSecret, pubsub, clock: options.clock });
  await services.metrics.refreshNetworkNames();
  const schema = await buildGraphQLSchema();
  const http = await createHttpServer(services, schema);
  await new Promise<void>((resolve, reject) => {
    http.server.once('error', reject);
    http.server.listen(config.port, () => resolve());
  });
  const port = (http.server.address() as AddressInfo).port;
  const dispatcher = config.dispatcher === 'inline' ? createDispatcher(services) : null;
  dispatcher?.start();
  const retention = new Retention({ dataSource, config: config.retention, clock: services.clock, logger, registry: services.metrics.registry });
  retention.start();
  logger.info({ port, database: config.database.type, dispatcher: config.dispatcher }, 'postback service listening');

  let stopping: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    port,
    services,
    http,
    dispatcher,
    retention,
    stop() {
      stopping ??= (async () => {
        // First: in-flight attempts still need the database to record their results.
        await dispatcher?.stop();
        await retention.stop();
        await http.stop();
        await pubsub.close();
        await dataSource.destroy();
      })();
      return stopping;
    },
  };
}

function generateBootstrapAdminSecret(logger: Logger): string {
  const secret = `pb_admin_${randomBytes(32).toString('base64url')}`;
  // Printed once, on stderr, outside the structured log so it is not shipped to log storage.
  process.stderr.write(`\nNo ADMIN_API_KEY set: this run's ADMIN key is\n\n    ${secret}\n\nSet ADMIN_API_KEY to keep one across restarts.\n\n`);
  logger.warn('no ADMIN_API_KEY set; generated a bootstrap ADMIN key for this run (printed above)');
  return secret;
}
