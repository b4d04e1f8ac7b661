// `npm run bench:redo`: what MariaDB writes for each row of a postback's life, measured one
// kind of statement at a time, so BENCHMARKS.md can say which rows make up the redo per event
// that the pipeline phase reports.
//
// It runs the store's own statements (DeliveryStore.queue and recordAttempts, the bulk INSERT
// builder, the guarded result UPDATE, the stats rollup) against a database migrated as the
// service migrates it, with rows shaped as the benchmark's postbacks are (its event input, its
// callback's URL). Each kind of statement runs in its own pass over the same groups of
// postbacks, one transaction per group, as the service's group commits do; between passes it
// waits for InnoDB's purge to finish, so each pass is charged for its own background work.
// The redo is `Innodb_lsn_current`'s advance: the whole server's, so nothing else may run on it.
//
//   node dist/bench/redo-per-row.js [--postbacks N] [--group G] [--mysql URL]
import { parseArgs } from 'node:util';
import type { DataSource } from 'typeorm';
import { Touchpoint } from '../src/attribution/touchpoint.entity';
import { DeliveryStatus } from '../src/common/enums';
import { newId } from '../src/common/ids';
import { insertStatements } from '../src/db/bulk-insert';
import { dbTime, notIndexed } from '../src/db/data-source';
import { runTransactionScript, type ScriptStatement } from '../src/db/transaction-script';
import { guardedAttemptUpdate } from '../src/deliveries/attempt-batch';
import { createDeliveryStore } from '../src/deliveries/create-delivery-store';
import { DeliveryAttempt } from '../src/deliveries/delivery-attempt.entity';
import { applyChanges, attemptChanges, type AttemptRecord } from '../src/deliveries/delivery-state';
import { DeliveryStatsRollup } from '../src/deliveries/delivery-stats-rollup';
import type { ClaimedDelivery, RecordedAttempt } from '../src/deliveries/delivery-store';
import { Delivery } from '../src/deliveries/delivery.entity';
import type { NextStep } from '../src/deliveries/retry-schedule';
import { Event } from '../src/events/event.entity';
import { systemClock } from '../src/common/clock';
import pino from 'pino';
import { createBenchDb, type BenchDb } from './lib/database';
import { LEASE_MS, LEASE_OWNER, openBenchSchema, postback, type Postback } from './lib/postback-rows';



interface Pass {
  name: string;
  /** One transaction's statements for one group of postbacks. */
  statements(group: Postback[]): ScriptStatement[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      postbacks: { type: 'string', default: '4000' },
      group: { type: 'string', default: '8' },
      mysql: { type: 'string', default: process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306' },
    },
  });
  const total = Number(values.postbacks);
  const groupSize = Number(values.group);
  if (!Number.isInteger(total) || total < 1) throw new Error(`--postbacks must be a positive integer, got ${values.postbacks}`);
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new Error(`--group must be a positive integer, got ${values.group}`);

  const db = await createBenchDb('mysql', values.mysql as string, 'redo');
  let opened: DataSource | null = null;
  try {
    const { dataSource, owners } = await openBenchSchema(db.url);
    opened = dataSource;
    const rows = Array.from({ length: total }, () => postback(owners));
    const groups: Postback[][] = [];
    for (let i = 0; i < rows.length; i += groupSize) groups.push(rows.slice(i, i + groupSize));
    const rollup = new DeliveryStatsRollup(dataSource);
    const results = new Map<string, RecordedAttempt>();
    const recordedOf = (group: Postback[]) => group.map((p) => results.get(p.delivery.id) as RecordedAttempt);

    const outbox: Pass[] = [
      { name: 'event row', statements: (g) => insertStatements(dataSource, Event, g.map((p) => p.event)) },
      { name: 'touchpoint row (installs)', statements: (g) => insertStatements(dataSource, Touchpoint, g.map((p) => p.touchpoint)) },
      { name: 'delivery row, inserted claimed', statements: (g) => insertStatements(dataSource, Delivery, g.map((p) => p.delivery)) },
      { name: 'stats upserts of the queued', statements: (g) => rollup.statementsForQueued(g.map((p) => p.delivery)) },
    ];
    const result: Pass[] = [
      { name: 'result UPDATE of the delivery', statements: (g) => [resultUpdate(dataSource, g.map((p) => results.get(p.delivery.id) as RecordedAttempt))] },
      { name: 'attempt row', statements: (g) => insertStatements(dataSource, DeliveryAttempt, recordedOf(g).map((r) => r.attempt)) },
      { name: 'stats upserts of the results', statements: (g) => rollup.statementsFor(recordedOf(g)) },
    ];

    const lines: string[] = [];
    const measure = async (name: string, work: () => Promise<void>): Promise<number> => {
      await quiet(db);
      const before = await lsn(db);
      await work();
      await quiet(db);
      const perPostback = ((await lsn(db)) - before) / total;
      lines.push(`| ${name} | ${Math.round(perPostback).toLocaleString('en-US')} |`);
      return perPostback;
    };
    const runPass = (pass: Pass) => measure(pass.name, async () => {
      for (const group of groups) await runTransactionScript(dataSource, pass.statements(group));
    });

    // The outbox: each kind of row alone (in foreign-key order, each pass adding its rows to
    // the last one's), then, on emptied tables, the store's queue() of the whole group: what
    // the service commits, all of it in one transaction.
    for (const pass of outbox) await runPass(pass);
    await emptyTables(dataSource);
    const store = createDeliveryStore(dataSource, systemClock, pino({ level: 'silent' }), { leaseMs: LEASE_MS, retry: { backoffBaseMs: 1_000, backoffMaxMs: 60_000 } });
    const claims = new Map<string, ClaimedDelivery>();
    const outboxTotal = await measure('**outbox transaction: DeliveryStore.queue (all of the above)**', async () => {
      for (const group of groups) {
        const pending = group.map((p) => Object.assign(new Delivery(), p.delivery, { status: DeliveryStatus.PENDING, leaseOwner: null, dueAt: p.delivery.createdAt }));
        const claimed = await store.queue(
          pending,
          [
            { entity: Event, rows: group.map((p) => p.event) },
            { entity: Touchpoint, rows: group.map((p) => p.touchpoint) },
          ],
          { leaseOwner: LEASE_OWNER, keys: new Map(pending.map((d) => [d.id, { signingSecret: null, previousSigningSecret: null }])) },
        );
        for (const claim of claimed) claims.set(claim.delivery.id, claim);
      }
    });
    if (claims.size !== total) throw new Error(`queue() claimed ${claims.size} of ${total} deliveries`);

    for (const claim of claims.values()) results.set(claim.delivery.id, delivered(claim));
    // The result: each kind of statement alone on the claimed rows (put back as they were
    // after each pass, unmeasured), then the store's recordAttempts: one transaction a group.
    await copyTables(dataSource);
    for (const pass of result) {
      await runPass(pass);
      await restoreTables(dataSource);
    }
    const resultTotal = await measure('**result transaction: DeliveryStore.recordAttempts (all of the above)**', async () => {
      for (const group of groups) {
        const recorded = await store.recordAttempts(group.map((p) => {
          const claim = claims.get(p.delivery.id) as ClaimedDelivery;
          return { claim, attempt: (results.get(p.delivery.id) as RecordedAttempt).attempt, next: DELIVERED_NEXT };
        }));
        if (recorded.some((r) => r === null)) throw new Error('recordAttempts lost a lease it held');
      }
    });
    await dropCopies(dataSource);
    const inPlace = await measureInPlaceWhatIf(dataSource, groups, measure);

    // A delivery not inserted claimed (no free slot when it was queued: under load, when
    // results wait to be recorded) is claimed later with a write of its own: the scan's.
    await emptyTables(dataSource);
    for (const group of groups) {
      await store.queue(
        group.map((p) => Object.assign(new Delivery(), p.delivery, { status: DeliveryStatus.PENDING, leaseOwner: null, dueAt: p.delivery.createdAt })),
        [{ entity: Event, rows: group.map((p) => p.event) }],
      );
    }
    await measure('claim of a delivery queued PENDING: DeliveryStore.claimDue, groups of the same size', async () => {
      for (let claimed = 0; claimed < total; ) {
        const due = await store.claimDue(LEASE_OWNER, groupSize);
        if (due.claimed.length === 0) throw new Error(`claimDue found nothing due after ${claimed} of ${total}`);
        claimed += due.claimed.length;
      }
    });

    process.stdout.write(
      [
        `MariaDB redo per postback (bytes), ${total.toLocaleString('en-US')} postbacks in transactions of ${groupSize}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC:`,
        '',
        '| statement | redo per postback (B) |',
        '| --- | ---: |',
        ...lines,
        `| **both** | ${Math.round(outboxTotal + resultTotal).toLocaleString('en-US')} |`,
        '',
        `What if the result UPDATE changed no column's size (a scratch copy of the delivery table with status CHAR(9), and lease, due and result`,
        `columns that never go between NULL and a value), so InnoDB could update the record in place: ${Math.round(inPlace).toLocaleString('en-US')} B per postback.`,
        '',
      ].join('\n'),
    );
  } finally {
    if (opened?.isInitialized) await opened.destroy();
    await db.drop();
  }
}

const DELIVERED_NEXT: NextStep = { status: 'DELIVERED' };

/** The first attempt answered 200, as the benchmark's receiver answers. */
function delivered(claim: ClaimedDelivery): RecordedAttempt {
  const now = new Date();
  const attempt: AttemptRecord = { number: 1, startedAt: new Date(now.getTime() - 4), statusCode: 200, latencyMs: 4, error: null, responseSnippet: 'ok' };
  const row = Object.assign(new DeliveryAttempt(), { id: newId(), deliveryId: claim.delivery.id, ...attempt });
  return { delivery: applyChanges(claim.delivery, attemptChanges(attempt, DELIVERED_NEXT, now)), attempt: row };
}

/** The store's guarded UPDATE for a group of results (as recordAttempts builds it). */
function resultUpdate(dataSource: DataSource, recorded: RecordedAttempt[]): ScriptStatement {
  const driver = dataSource.driver;
  const now = new Date();
  return guardedAttemptUpdate(
    driver.escape('delivery'),
    recorded.map((r) => ({ id: r.delivery.id, leaseOwner: LEASE_OWNER, attempts: 0, changes: attemptChanges(r.attempt, DELIVERED_NEXT, now) })),
    DeliveryStatus.SENDING,
    { quote: (name) => driver.escape(name), time: (date) => dbTime(dataSource, date), notIndexed: (column) => notIndexed(dataSource, column) },
  );
}

/**
 * The result UPDATE on a scratch copy of the delivery table where no changed column changes
 * size: status CHAR(9) (every status 9 bytes), the lease owner kept, and the due, next-attempt,
 * delivered and status-code columns holding values before and after. Not the service's schema:
 * what it would save, for BENCHMARKS.md.
 */
async function measureInPlaceWhatIf(
  dataSource: DataSource,
  groups: Postback[][],
  measure: (name: string, work: () => Promise<void>) => Promise<number>,
): Promise<number> {
  await dataSource.query('CREATE TABLE `delivery_in_place` LIKE `delivery`');
  await dataSource.query('ALTER TABLE `delivery_in_place` MODIFY `status` CHAR(9) NOT NULL');
  for (const group of groups) {
    const rows = group.map((p) => ({ ...p.delivery, lastStatusCode: 0, deliveredAt: new Date(0) }));
    const columns = ['id', 'eventId', 'callbackId', 'appId', 'networkId', 'status', 'method', 'url', 'body', 'headers', 'timeoutMs', 'attempts', 'maxAttempts', 'lastStatusCode', 'nextAttemptAt', 'dueAt', 'leaseOwner', 'deliveredAt', 'createdAt', 'updatedAt'] as const;
    await dataSource.query(
      `INSERT INTO \`delivery_in_place\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ${rows.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ')}`,
      rows.flatMap((row) => columns.map((c) => (c === 'headers' ? JSON.stringify(row.headers) : row[c]))),
    );
  }
  const perPostback = await measure('what-if: the result UPDATE in place (scratch table, not the schema)', async () => {
    for (const group of groups) {
      const now = new Date();
      const ids = group.map((p) => p.delivery.id);
      await runTransactionScript(dataSource, [
        {
          sql:
            'UPDATE `delivery_in_place` SET `status` = ?, `attempts` = 1, `lastStatusCode` = 200, `nextAttemptAt` = ?, `dueAt` = ?, `deliveredAt` = ?, `updatedAt` = ? ' +
            `WHERE \`id\` IN (${ids.map(() => '?').join(', ')}) AND \`status\` = ? AND \`leaseOwner\` = ? AND \`attempts\` = 0`,
          parameters: [DeliveryStatus.DELIVERED, now, now, now, now, ...ids, DeliveryStatus.SENDING, LEASE_OWNER],
        },
      ]);
    }
  });
  await dataSource.query('DROP TABLE `delivery_in_place`');
  return perPostback;
}

async function lsn(db: BenchDb): Promise<number> {
  const writes = await db.serverWrites();
  if (writes === null) throw new Error('redo is measured on MySQL only');
  return writes.redoGenerated;
}

/** Waits until InnoDB has nothing left to purge and the LSN stands still for a second. */
async function quiet(db: BenchDb): Promise<void> {
  let last = -1;
  for (let i = 0; i < 60; i++) {
    const history = await db.count("SELECT COUNT AS n FROM information_schema.INNODB_METRICS WHERE NAME = 'trx_rseg_history_len'");
    const now = await lsn(db);
    if (history === 0 && now === last) return;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** In foreign-key order: rows are deleted from the last first. */
const TABLES = ['event', 'attribution_touchpoint', 'delivery', 'delivery_attempt', 'delivery_stats_hour', 'delivery_stats_day', 'delivery_stats_error', 'delivery_stats_day_error'];

async function emptyTables(dataSource: DataSource): Promise<void> {
  for (const table of [...TABLES].reverse()) await dataSource.query(`DELETE FROM \`${table}\``);
}

/** Copies of the tables as they are, to put back after each result pass. */
async function copyTables(dataSource: DataSource): Promise<void> {
  for (const table of TABLES) {
    await dataSource.query(`CREATE TABLE \`copy_${table}\` LIKE \`${table}\``);
    await dataSource.query(`INSERT INTO \`copy_${table}\` SELECT * FROM \`${table}\``);
  }
}

async function restoreTables(dataSource: DataSource): Promise<void> {
  await emptyTables(dataSource);
  for (const table of TABLES) await dataSource.query(`INSERT INTO \`${table}\` SELECT * FROM \`copy_${table}\``);
}

async function dropCopies(dataSource: DataSource): Promise<void> {
  for (const table of TABLES) await dataSource.query(`DROP TABLE \`copy_${table}\``);
}

main().catch((error: unknown) => {
  process.stderr.write(`redo-per-row failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
