// `npm run worker`: a dispatcher-only process (no GraphQL), for scaling delivery out. Any
// number of them, on any number of machines, may run against one MySQL beside the API nodes
// (which may run their own inline dispatcher or DISPATCHER=off): leases keep them apart.
import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { DataSource } from 'typeorm';
import { loadConfigOrExit } from './config/config';
import { createLogger, type Logger } from './common/logger';
import { createDataSource } from './db/data-source';
import { databaseUnreachable, pendingMigrations } from './db/open-database';
import { exitOnSignals } from './common/shutdown';
import { startFailureText } from './common/start-failure';
import { registerOperationalRoutes } from './server/operational-routes';
import { createClusterPubSub } from './pubsub/cluster-pubsub';
import { createCoreServices, createDispatcher } from './services';

/** How often a worker looks again while the API has not applied the schema yet. */
const SCHEMA_POLL_MS = 2000;

/**
 * Workers never migrate: several starting at once (or beside an API node that migrates)
 * would race on the same DDL. The API applies migrations at start; a worker waits for that.
 */
async function waitForSchema(dataSource: DataSource, logger: Logger, stopped: () => boolean): Promise<boolean> {
  let logged = false;
  while (!stopped()) {
    // Read-only: showMigrations() would create the migrations table, which a worker's
    // SELECT/INSERT/UPDATE/DELETE user may not, and in the database's default charset.
    if ((await pendingMigrations(dataSource)).length === 0) return true;
    if (!logged) {
      logger.warn('the database schema has pending migrations; waiting for them to be applied (npm run migration:run, or an API node with MIGRATIONS=run)');
      logged = true;
    }
    await new Promise((resolve) => setTimeout(resolve, SCHEMA_POLL_MS));
  }
  return false;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env);
  const logger = createLogger(config).child({ process: 'worker' });
  let stopped = false;
  let stop: () => Promise<void> = async () => undefined;
  exitOnSignals(logger, () => {
    stopped = true;
    return stop();
  });

  const dataSource = createDataSource(config.database, { poolSize: Math.max(4, Math.ceil(config.dispatchConcurrency / 2)) });
  await dataSource.initialize().catch((error: unknown) => {
    throw databaseUnreachable(config.database, error);
  });
  stop = () => dataSource.destroy();
  if (!(await waitForSchema(dataSource, logger, () => stopped))) return;

  // Status changes reach subscribers on the API nodes through the cluster pub/sub (Redis;
  // without REDIS_URL it is in-process only, so a separate worker's changes reach no subscriber).
  const pubsub = await createClusterPubSub({ redisUrl: config.redisUrl, database: config.database, logger });
  const core = createCoreServices({ config, dataSource, logger, pubsub });
  const { metrics } = core;
  await metrics.refreshNetworkNames();
  const dispatcher = createDispatcher(core, { wakeOnRemoteQueues: true });

  // Health and metrics for the orchestrator and Prometheus, when asked for a port.
  let server: http.Server | null = null;
  if (config.workerPort !== null) {
    const app = express();
    app.disable('x-powered-by');
    registerOperationalRoutes(app, { dataSource, logger, metrics });
    server = http.createServer(app);
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.workerPort, () => resolve());
    });
  }
  stop = async () => {
    await dispatcher.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server?.closeAllConnections();
    await pubsub.close();
    await dataSource.destroy();
  };
  dispatcher.start();
  const port = server ? (server.address() as AddressInfo).port : null;
  logger.info({ database: config.database.type, workerId: dispatcher.workerId, concurrency: config.dispatchConcurrency, port }, 'postback worker running');
}

main().catch((error) => {
  process.stderr.write(startFailureText('worker failed to start', error));
  process.exit(1);
});
