import type { DataSource, QueryRunner } from 'typeorm';
import { isMysql } from './data-source';
import { isRetriableMysqlError, MYSQL_MAX_TRIES, withTransaction } from './transactions';

/**
 * A transaction of known statements in as few round trips as the database allows.
 *
 * On MySQL each statement of a transaction run through TypeORM is a round trip (START
 * TRANSACTION, each INSERT/UPDATE, COMMIT), and on the machines this service runs on a round
 * trip costs far more CPU, client and server side, than the rows it carries. So the statements
 * go to the server in one packet (`START TRANSACTION; s1; s2; COMMIT`, the connection allows
 * several statements per query; every value is still a bound parameter): one round trip. When
 * the outcome must be checked before committing (`commitIf`), the COMMIT or ROLLBACK is a
 * second one. A statement that fails stops the rest; the transaction is then rolled back.
 *
 * On SQLite (in-process, no round trips) the statements run in order in withTransaction.
 *
 * Deadlocks and lock-wait timeouts are retried from the start, as withTransaction does.
 */
export interface ScriptStatement {
  sql: string;
  parameters: unknown[];
}

/**
 * Runs `statements` in one transaction and returns each one's affected rows. With `commitIf`,
 * commits only when it returns true for those counts, and otherwise rolls back and returns null.
 */
export async function runTransactionScript(
  dataSource: DataSource,
  statements: readonly ScriptStatement[],
  commitIf?: (affected: number[]) => boolean,
): Promise<number[] | null> {
  if (statements.length === 0) return [];
  if (!isMysql(dataSource)) return runInTransaction(dataSource, statements, commitIf);
  for (let attempt = 1; ; attempt++) {
    try {
      return await runScriptOnce(dataSource, statements, commitIf);
    } catch (error) {
      if (attempt >= MYSQL_MAX_TRIES || !isRetriableMysqlError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
    }
  }
}

/** The one-packet script: `START TRANSACTION; …statements…[; COMMIT]`, its parameters in order. */
export function transactionScript(statements: readonly ScriptStatement[], commit: boolean): ScriptStatement {
  return {
    sql: ['START TRANSACTION', ...statements.map((s) => s.sql), ...(commit ? ['COMMIT'] : [])].join(';\n'),
    parameters: statements.flatMap((s) => s.parameters),
  };
}

async function runScriptOnce(dataSource: DataSource, statements: readonly ScriptStatement[], commitIf?: (affected: number[]) => boolean): Promise<number[] | null> {
  const runner: QueryRunner = dataSource.createQueryRunner();
  let open = false;
  try {
    const script = transactionScript(statements, commitIf === undefined);
    open = true;
    const results = (await runner.query(script.sql, script.parameters)) as { affectedRows?: number }[];
    // One result per statement: START TRANSACTION first, COMMIT last when it was sent.
    const affected = statements.map((_, i) => results[i + 1]?.affectedRows ?? 0);
    if (commitIf === undefined) {
      open = false;
      return affected;
    }
    const commit = commitIf(affected);
    await runner.query(commit ? 'COMMIT' : 'ROLLBACK');
    open = false;
    return commit ? affected : null;
  } catch (error) {
    if (open) await runner.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}

async function runInTransaction(dataSource: DataSource, statements: readonly ScriptStatement[], commitIf?: (affected: number[]) => boolean): Promise<number[] | null> {
  const decided = await withTransaction(dataSource, async (manager) => {
    const runner = manager.queryRunner as QueryRunner;
    const affected: number[] = [];
    for (const statement of statements) affected.push((await runner.query(statement.sql, statement.parameters, true)).affected ?? 0);
    if (commitIf && !commitIf(affected)) throw new RolledBack();
    return affected;
  }).catch((error: unknown) => {
    if (error instanceof RolledBack) return null;
    throw error;
  });
  return decided;
}

class RolledBack extends Error {}
