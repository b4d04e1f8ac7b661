// One UPDATE for the results of many attempts (pure: builds SQL and parameters, runs nothing).
//
// Recording an attempt is an UPDATE of its delivery, guarded by the lease (this worker still
// holds it, the delivery is still SENDING, no attempt was recorded since the claim), and an
// INSERT of the attempt row. The dispatcher finishes attempts many at a time, and on these
// machines each statement's round trip costs more than the rows it writes; so the UPDATEs of
// a group of attempts are one statement, each column set per row with CASE id WHEN … THEN …
// (or to one value when every row gets the same), the guard per row the same way:
//
//   UPDATE delivery SET status = ?, attempts = CASE id WHEN ? THEN ? … END, …
//   WHERE id IN (?, …) AND status = ? AND leaseOwner = CASE id … END AND attempts = CASE id … END
//
// The caller checks that it updated every row; if not, some lease was lost, and it records
// the group one by one instead (typeorm-delivery-store.ts).
import type { DeliveryChanges } from './delivery-state';

export interface GuardedAttemptUpdate {
  id: string;
  /** Guard: the lease holder that claimed it. */
  leaseOwner: string | null;
  /** Guard: the attempt count when it was claimed. */
  attempts: number;
  changes: DeliveryChanges;
}

export interface SqlStatement {
  sql: string;
  parameters: unknown[];
}

export interface SqlDialect {
  /** Quotes an identifier. */
  quote(name: string): string;
  /** A Date as the driver binds it (mysql2: the Date; SQLite: TypeORM's UTC text). */
  time(date: Date): unknown;
  /** A quoted column as the planner will not use an index for (the UPDATE goes by id); default as is. */
  notIndexed?(column: string): string;
}

type Bindable = string | number | boolean | Date | null;

function sameValue(a: Bindable, b: Bindable): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return a === b;
}

/** `?` when every row has the same value, else `CASE id WHEN ? THEN ? … END`; binds the parameters. */
function valueFor(idColumn: string, ids: readonly string[], values: readonly Bindable[], dialect: SqlDialect, parameters: unknown[]): string {
  const bind = (v: Bindable) => (v instanceof Date ? dialect.time(v) : v);
  const first = values[0] as Bindable;
  if (values.every((v) => sameValue(v, first))) {
    parameters.push(bind(first));
    return '?';
  }
  const whens = ids.map((id, i) => {
    parameters.push(id, bind(values[i] as Bindable));
    return 'WHEN ? THEN ?';
  });
  return `CASE ${idColumn} ${whens.join(' ')} END`;
}

/**
 * The guarded UPDATE of every row's delivery. All rows must carry the same set of changed
 * columns (attemptChanges always writes the same ones).
 */
export function guardedAttemptUpdate(table: string, rows: readonly GuardedAttemptUpdate[], sendingStatus: string, dialect: SqlDialect): SqlStatement {
  if (rows.length === 0) throw new Error('no attempts to record');
  const columns = Object.keys((rows[0] as GuardedAttemptUpdate).changes) as (keyof DeliveryChanges)[];
  for (const row of rows) {
    const keys = Object.keys(row.changes);
    if (keys.length !== columns.length || !columns.every((c) => c in row.changes)) {
      throw new Error('every attempt of one batch must change the same columns');
    }
  }
  const q = dialect.quote;
  const idColumn = q('id');
  const ids = rows.map((r) => r.id);
  const parameters: unknown[] = [];
  const sets = columns.map((column) => `${q(column)} = ${valueFor(idColumn, ids, rows.map((r) => (r.changes[column] ?? null) as Bindable), dialect, parameters)}`);
  const idList = ids.map((id) => {
    parameters.push(id);
    return '?';
  });
  parameters.push(sendingStatus);
  const guard = dialect.notIndexed ?? ((column: string) => column);
  const leaseGuard = `${guard(q('leaseOwner'))} = ${valueFor(idColumn, ids, rows.map((r) => r.leaseOwner), dialect, parameters)}`;
  const attemptsGuard = `${guard(q('attempts'))} = ${valueFor(idColumn, ids, rows.map((r) => r.attempts), dialect, parameters)}`;
  return {
    sql: `UPDATE ${table} SET ${sets.join(', ')} WHERE ${idColumn} IN (${idList.join(', ')}) AND ${guard(q('status'))} = ? AND ${leaseGuard} AND ${attemptsGuard}`,
    parameters,
  };
}
