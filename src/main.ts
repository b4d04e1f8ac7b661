import 'reflect-metadata';
import { loadConfigOrExit } from './config/config';
import { createLogger } from './common/logger';
import { startService } from './app';
import { exitOnSignals } from './common/shutdown';
import { startFailureText } from './common/start-failure';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env);
  const logger = createLogger(config);
  const service = await startService(config, { logger });
  exitOnSignals(logger, () => service.stop());
}

main().catch((error) => {
  process.stderr.write(startFailureText('failed to start', error));
  process.exit(1);
});
