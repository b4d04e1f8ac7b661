// `npm run migration:run`: applies pending migrations to DATABASE_URL and exits (whatever
// MIGRATIONS says). `npm start` does the same at start unless MIGRATIONS=skip; this is for
// deploys that migrate as a separate step, with a DDL-capable user, before rolling out API
// nodes and workers whose user holds only SELECT, INSERT, UPDATE, DELETE.
import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config/config';
import { createLogger } from '../common/logger';
import { openDatabase } from '../app';
import { startFailureText } from '../common/start-failure';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config);
  const dataSource = await openDatabase(config, logger, 'run');
  const pending = await dataSource.showMigrations();
  logger.info({ database: config.database.type, pending }, 'migrations applied');
  await dataSource.destroy();
}

main().catch((error) => {
  process.stderr.write(error instanceof ConfigError ? `configuration error: ${error.message}\n` : startFailureText('migration failed', error));
  process.exit(1);
});
