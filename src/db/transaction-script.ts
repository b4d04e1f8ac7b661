import type { DataSource, QueryRunner } from 'typeorm';
import { isMysql } from './data-source';
import { estimatedStatementBytes, PACKET_BUDGET_BYTES } from './packet-size';
import { retryingMysqlLockConflicts, withTransaction } from './transactions';

/**
 * A transaction of known statements in as few round trips as the database allows.
 *
 * On MySQL each statement of a transaction run through TypeORM is a round trip (START
 * TRANSACTION, each INSERT/UPDATE, COMMIT), and on the machines this service runs on a round
 * trip costs far more CPU, client and server side, than the rows it carries. So the statements
 * go to the server in one packet (`START TRANSACTION; s1; s2; COMMIT`, the connection allows
 * several statements per query; every value is still a bound parameter): one round trip. A
 * script larger than the packet budget (packet-size.ts: large rendered bodies) is sent in as
 * many packets as it needs, one after the other, in the same transaction. When
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
  return retryingMysqlLockConflicts(() => runScriptOnce(dataSource, statements, commitIf));
}

/** One packet of a script: its text and parameters, and which of the script's statements it carries. */
export interface ScriptPacket extends ScriptStatement {
  /** Index in the script of the first statement this packet carries. */
  first: number;
  /** How many of the script's statements it carries. */
  count: number;
  /** Whether it opens with START TRANSACTION / closes with COMMIT (their results come first / last). */
  begins: boolean;
  commits: boolean;
}

/**
 * The script in packets of at most `budgetBytes` (by packet-size.ts's estimate; a statement
 * larger than that goes alone): the first opens the transaction, the last commits it when
 * `commit`. Usually one packet.
 */
export function scriptPackets(statements: readonly ScriptStatement[], commit: boolean, budgetBytes: number = PACKET_BUDGET_BYTES): ScriptPacket[] {
  const groups: { first: number; count: number }[] = [];
  let bytes = 0;
  statements.forEach((statement, i) => {
    const size = estimatedStatementBytes(statement.sql, statement.parameters);
    const current = groups[groups.length - 1];
    if (current && bytes + size <= budgetBytes) {
      current.count++;
      bytes += size;
    } else {
      groups.push({ first: i, count: 1 });
      bytes = size;
    }
  });
  return groups.map((group, g) => {
    const begins = g === 0;
    const commits = commit && g === groups.length - 1;
    const carried = statements.slice(group.first, group.first + group.count);
    return {
      sql: [...(begins ? ['START TRANSACTION'] : []), ...carried.map((s) => s.sql), ...(commits ? ['COMMIT'] : [])].join(';\n'),
      // concat copies packed arrays in bulk; flatMap takes each of a batch's thousands of values one by one.
      parameters: ([] as unknown[]).concat(...carried.map((s) => s.parameters)),
      ...group,
      begins,
      commits,
    };
  });
}

async function runScriptOnce(dataSource: DataSource, statements: readonly ScriptStatement[], commitIf?: (affected: number[]) => boolean): Promise<number[] | null> {
  const runner: QueryRunner = dataSource.createQueryRunner();
  let open = false;
  try {
    const affected: number[] = new Array(statements.length).fill(0);
    for (const packet of scriptPackets(statements, commitIf === undefined)) {
      open = true;
      const sent = packet.count + (packet.begins ? 1 : 0) + (packet.commits ? 1 : 0);
      const answer = (await runner.query(packet.sql, packet.parameters)) as { affectedRows?: number } | { affectedRows?: number }[];
      // One result per statement; a packet of one statement answers with that result alone.
      const results = sent === 1 ? [answer as { affectedRows?: number }] : (answer as { affectedRows?: number }[]);
      const offset = packet.begins ? 1 : 0;
      for (let i = 0; i < packet.count; i++) affected[packet.first + i] = results[offset + i]?.affectedRows ?? 0;
      if (packet.commits) open = false;
    }
    if (commitIf === undefined) return affected;
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
