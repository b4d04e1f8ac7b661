// One transaction on a connection of a mysql2 pool, for the bare programs that write the
// service's tables without it (the bare outbox server, the bare durable sender).
import type { Pool, PoolConnection } from 'mysql2/promise';

/**
 * Runs `work` between BEGIN and COMMIT on one pooled connection (at `isolation` when given),
 * rolls back and rethrows when it fails, and always gives the connection back.
 */
export async function inTransaction<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>, isolation?: 'READ COMMITTED'): Promise<T> {
  const connection = await pool.getConnection();
  try {
    if (isolation) await connection.query(`SET TRANSACTION ISOLATION LEVEL ${isolation}`);
    await connection.beginTransaction();
    const result = await work(connection);
    await connection.commit();
    return result;
  } catch (error) {
    await connection.rollback().catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}
