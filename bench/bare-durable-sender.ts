// The bare durable sender, a floor for the drain (npm run bench:floors): the bare undici sender's
// GETs, plus the least a sender must write to keep the contract's guarantees for them, in the
// service's own tables (migrated as the service migrates them) and with the service's own SQL
// shapes, and nothing else:
// - a durable claim before sending (no two workers send the same delivery; a dead worker's lease
//   ends): `SELECT … WHERE dueAt <= ? ORDER BY dueAt LIMIT n FOR UPDATE SKIP LOCKED` and the
//   store's own CLAIM_WAITING, one READ COMMITTED transaction per group (mysql-delivery-store.ts);
// - the result after it (the attempt log, the status change committed before it is published):
//   one UPDATE of the group's deliveries, guarded as the store's is (status, lease owner,
//   attempts) but with one value per column for the whole group, and one multi-row INSERT of
//   their attempts, one transaction per group (attempt-batch.ts).
// No GraphQL, no template rendering, no signing, no retry policy, no stats rollup, no publication.
// `loops` claim→send→record loops run side by side, each with a group of `group` deliveries, so
// claims and results of one loop overlap another's sends.
//
// argv: DATABASE_URL (an empty MySQL database; migrated here) RECEIVER_ORIGIN TOTAL LOOPS GROUP [WARMUP]
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { DeliveryStatus } from '../src/common/enums';
import { newId } from '../src/common/ids';
import { insertStatements } from '../src/db/bulk-insert';
import { DeliveryAttempt } from '../src/deliveries/delivery-attempt.entity';
import { Delivery } from '../src/deliveries/delivery.entity';
import { WAITING_STATUSES } from '../src/deliveries/delivery-state';
import { deliveryStatements, withLeaseRoom } from '../src/deliveries/typeorm-delivery-store';
import { Event } from '../src/events/event.entity';
import { inTransaction } from './lib/mysql-transaction';
import { WARMUP_SENDS } from './lib/options';
import { LEASE_MS, LEASE_OWNER, openBenchSchema, postback } from './lib/postback-rows';

type Bindable = string | number | Date | null;

async function main(): Promise<void> {
  const [url, origin, totalRaw, loopsRaw, groupRaw, warmupRaw] = process.argv.slice(2);
  const total = Number(totalRaw);
  const loops = Number(loopsRaw);
  const group = Number(groupRaw);
  const warmup = Number(warmupRaw ?? WARMUP_SENDS);
  if (!url || !origin || !(total > 0) || !(loops > 0) || !(group > 0) || !(warmup >= 0)) {
    throw new Error('usage: bare-durable-sender DATABASE_URL RECEIVER_ORIGIN TOTAL LOOPS GROUP [WARMUP]');
  }
  const { dataSource, owners } = await openBenchSchema(url);
  const statements = deliveryStatements(dataSource);
  const mysql = await import('mysql2/promise');
  const pool = mysql.createPool({ uri: url, connectionLimit: loops * 2, timezone: 'Z', charset: 'utf8mb4_bin' });

  // Queued as the service queues with the dispatcher off: PENDING, due, with the lease owner's room
  // (and the event each delivery belongs to: the foreign key).
  const queue = async (count: number, label: string) => {
    const due = new Date(Date.now() - 1_000);
    for (let i = 0; i < count; i += 500) {
      const rows = Array.from({ length: Math.min(500, count - i) }, (_, j) => {
        const { event, delivery: d } = postback(owners, { waiting: true });
        d.dueAt = d.nextAttemptAt = d.createdAt = d.updatedAt = due;
        d.url = `${origin}/pb?n=${label}-${i + j}&d=${d.id}`;
        return { event, delivery: withLeaseRoom(d) };
      });
      const statements = [...insertStatements(dataSource, Event, rows.map((r) => r.event)), ...insertStatements(dataSource, Delivery, rows.map((r) => r.delivery))];
      for (const s of statements) await pool.query(s.sql, s.parameters);
    }
  };

  const agent = new Agent({ connections: loops * group });
  const send = async (target: string): Promise<{ statusCode: number | null; error: string | null; startedAt: Date; latencyMs: number }> => {
    const startedAt = new Date();
    const t0 = performance.now();
    try {
      const parsed = new URL(target);
      const response = await agent.request({ origin: parsed.origin, path: parsed.pathname + parsed.search, method: 'GET' });
      await response.body.text();
      return { statusCode: response.statusCode, error: null, startedAt, latencyMs: Math.round(performance.now() - t0) };
    } catch (error) {
      return { statusCode: null, error: String(error), startedAt, latencyMs: Math.round(performance.now() - t0) };
    }
  };

  const list = (n: number) => Array.from({ length: n }, () => '?').join(', ');

  /** The claim: the first `group` due deliveries, locked past other workers' locks, to SENDING under one lease. */
  const claim = (): Promise<{ id: string; url: string; attempts: number }[]> =>
    inTransaction(
      pool,
      async (connection) => {
        const now = new Date();
        const [found] = await connection.query(
          'SELECT `id`, `url`, `attempts` FROM `delivery` USE INDEX (`IDX_delivery_due_at`) WHERE `dueAt` <= ? ORDER BY `dueAt` ASC LIMIT ? FOR UPDATE SKIP LOCKED',
          [now, group],
        );
        const claimed = found as { id: string; url: string; attempts: number }[];
        if (claimed.length > 0) {
          await connection.execute(statements.CLAIM_WAITING(claimed.length), [
            DeliveryStatus.SENDING, LEASE_OWNER, new Date(now.getTime() + LEASE_MS), now, ...claimed.map((d) => d.id), ...WAITING_STATUSES,
          ] as Bindable[]);
        }
        return claimed;
      },
      'READ COMMITTED',
    );

  /** The results: the group's guarded UPDATE (each was its first attempt, answered 200) and its attempt rows, one transaction. */
  const record = async (claimed: { id: string; attempts: number }[], results: Awaited<ReturnType<typeof send>>[]): Promise<void> => {
    const done = new Date();
    const attempts = claimed.map((d, i) => {
      const r = results[i] as Awaited<ReturnType<typeof send>>;
      return Object.assign(new DeliveryAttempt(), { id: newId(), deliveryId: d.id, number: d.attempts + 1, startedAt: r.startedAt, statusCode: r.statusCode, latencyMs: r.latencyMs, error: r.error, responseSnippet: r.statusCode === 200 ? 'ok' : null });
    });
    await inTransaction(pool, async (connection) => {
      await connection.execute(
        'UPDATE `delivery` SET `status` = ?, `attempts` = ?, `lastStatusCode` = ?, `lastError` = NULL, `nextAttemptAt` = NULL, `dueAt` = NULL, `leaseOwner` = NULL, ' +
          `\`deliveredAt\` = ?, \`updatedAt\` = ?, \`leaseRoom\` = NULL WHERE \`id\` IN (${list(claimed.length)}) AND \`status\` = ? AND \`leaseOwner\` = ? AND \`attempts\` = ?`,
        [DeliveryStatus.DELIVERED, 1, 200, done, done, ...claimed.map((d) => d.id), DeliveryStatus.SENDING, LEASE_OWNER, 0] as Bindable[],
      );
      for (const s of insertStatements(dataSource, DeliveryAttempt, attempts)) await connection.execute(s.sql, s.parameters as Bindable[]);
    });
  };

  let sent = 0;
  let ok = 0;
  let failed = 0;
  const loop = async () => {
    for (let claimed = await claim(); claimed.length > 0; claimed = await claim()) {
      const results = await Promise.all(claimed.map((d) => send(d.url)));
      sent += results.length;
      for (const r of results) {
        if (r.statusCode === 200) ok++;
        else failed++;
      }
      await record(claimed, results);
    }
  };
  const drain = async () => {
    sent = ok = failed = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: loops }, loop));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { sent, ok, failed, seconds, cpuMicros: cpu.user + cpu.system };
  };

  if (warmup > 0) {
    await queue(warmup, 'warmup');
    await drain();
  }
  await queue(total, 'measured');
  process.send?.({ type: 'queued' });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const result = await drain();
  const [left] = await pool.query("SELECT COUNT(*) AS n FROM `delivery` WHERE `status` <> 'DELIVERED'");
  const [attemptRows] = await pool.query('SELECT COUNT(*) AS n FROM `delivery_attempt`');
  process.send?.(
    {
      type: 'result',
      ...result,
      rate: result.ok / result.seconds,
      cpuMicrosPerRequest: result.cpuMicros / total,
      notDelivered: Number((left as { n: number }[])[0]?.n),
      attempts: Number((attemptRows as { n: number }[])[0]?.n),
    },
    () => process.exit(0),
  );
}

main().catch((error) => {
  process.stderr.write(`bare durable sender failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
