import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';

// Deployment-wide locks on MySQL: GET_LOCK, held by one dedicated connection, so a killed
// process never leaves one behind (the server releases it with the connection).

/** GET_LOCK names are server-wide and at most 64 characters: one per purpose and database. */
export function namedLockName(purpose: string, database: string): string {
  return `postbacks:${purpose}:${createHash('sha256').update(database).digest('hex').slice(0, 40)}`;
}

/**
 * Runs `work` while holding the lock `name`, waiting up to `waitSeconds` for it (0: only if
 * free at once). Null, without running `work`, when the lock was not had in time.
 */
export async function withNamedLock<T>(dataSource: DataSource, name: string, waitSeconds: number, work: () => Promise<T>): Promise<T | null> {
  const runner = dataSource.createQueryRunner();
  try {
    const [{ got }] = await runner.query('SELECT GET_LOCK(?, ?) AS got', [name, waitSeconds]);
    if (Number(got) !== 1) return null;
    try {
      return await work();
    } finally {
      await runner.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}
