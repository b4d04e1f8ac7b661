import type { Logger } from './logger';

/**
 * Longest a graceful stop may take before the process exits anyway: in-flight postbacks get
 * their full timeout (at most 30 s) and recording, then HTTP, sockets and pools close. A
 * process that hangs past this is worse than one that leaves a lease to expire.
 */
export const SHUTDOWN_DEADLINE_MS = 45_000;

/**
 * SIGTERM/SIGINT run `stop` once, then exit 0 (1 if it failed). A second signal, or the
 * deadline, exits at once with 1: what is still claimed is taken over when its lease ends.
 */
export function exitOnSignals(logger: Logger, stop: () => Promise<void>, deadlineMs: number = SHUTDOWN_DEADLINE_MS): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, deadlineMs }, 'shutting down');
    setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, deadlineMs).unref();
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
