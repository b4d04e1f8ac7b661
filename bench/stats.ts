// deliveryStats on 10 million deliveries' worth of rollups: seeds delivery_stats_hour and
// delivery_stats_error directly (30 days × 100 callbacks of 10 apps and 5 networks, about 139
// deliveries per hour and callback, three error classes each), then times what the resolver
// does (DeliveryStatsRollup.read + summarizeStats) for the scopes a console and a partner ask.
//
//   node -r @swc-node/register bench/stats.ts [sqlite|mysql ...]   (BENCH_MYSQL_URL for MySQL)
import pino from 'pino';
import { loadConfig } from '../src/config/config';
import { newId } from '../src/common/ids';
import { openDatabase } from '../src/db/open-database';
import { dbTime } from '../src/db/data-source';
import { DeliveryStatsRollup, statsStatements } from '../src/deliveries/delivery-stats-rollup';
import { LATENCY_BUCKETS, StatsBucket, statsWindow, summarizeStats, TOP_ERRORS } from '../src/deliveries/delivery-stats';
import { createBenchDb } from './lib/database';
import type { BenchDatabase } from './lib/options';

const DAYS = 30;
const APPS = 10;
const CALLBACKS_PER_APP = 10;
const NETWORKS = 5;
const DELIVERIES = 10_000_000;
const REPEATS = 30;
const CHUNK = 400;
const HOUR_MS = 3_600_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
}

async function run(kind: BenchDatabase, mysqlUrl: string): Promise<void> {
  const db = await createBenchDb(kind, mysqlUrl, 'stats');
  try {
    const config = loadConfig({ DATABASE_URL: db.url, ADMIN_API_KEY: 'bench-admin-secret-0123456789', DISPATCHER: 'off' });
    const dataSource = await openDatabase(config, pino({ level: 'silent' }));
    const sql = statsStatements(dataSource);
    const end = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const start = end - DAYS * 24 * HOUR_MS;
    const networks = Array.from({ length: NETWORKS }, () => newId());
    const callbacks = Array.from({ length: APPS * CALLBACKS_PER_APP }, (_, i) => ({ id: newId(), appId: `app-${Math.floor(i / CALLBACKS_PER_APP)}`, networkId: networks[i % NETWORKS] as string }));
    const apps = [...new Set(callbacks.map((c) => c.appId))].map(() => newId());
    callbacks.forEach((c, i) => (c.appId = apps[Math.floor(i / CALLBACKS_PER_APP)] as string));
    const perRow = Math.round(DELIVERIES / (DAYS * 24 * callbacks.length));

    const seedStarted = Date.now();
    let hourRows: unknown[][] = [];
    let errorRows: unknown[][] = [];
    // The daily rollup gets the same rows under their day's start (the upsert adds them up).
    const flush = async (force: boolean) => {
      if (hourRows.length >= CHUNK || (force && hourRows.length > 0)) {
        await dataSource.query(sql.UPSERT_HOURS(hourRows.length), hourRows.flat());
        await dataSource.query(sql.UPSERT_HOURS(hourRows.length, 'day'), hourRows.map((r) => [dayOf(r[0]), ...r.slice(1)]).flat());
        hourRows = [];
      }
      if (errorRows.length >= CHUNK || (force && errorRows.length > 0)) {
        await dataSource.query(sql.UPSERT_ERRORS(errorRows.length), errorRows.flat());
        await dataSource.query(sql.UPSERT_ERRORS(errorRows.length, 'day'), errorRows.map((r) => [dayOf(r[0]), ...r.slice(1)]).flat());
        errorRows = [];
      }
    };
    const dayOf = (hour: unknown) => {
      const ms = hour instanceof Date ? hour.getTime() : Date.parse(`${String(hour).replace(' ', 'T')}Z`);
      return dbTime(dataSource, new Date(Math.floor(ms / 86_400_000) * 86_400_000));
    };
    let seeded = 0;
    for (let t = start; t < end; t += HOUR_MS) {
      const hour = dbTime(dataSource, new Date(t));
      for (const c of callbacks) {
        const failed = perRow % 7;
        const attempts = perRow + failed * 3;
        const latency = new Array<number>(LATENCY_BUCKETS).fill(0);
        for (let i = 0; i < attempts; i++) latency[8 + ((i * 7) % 12)]! += 1;
        hourRows.push([hour, c.id, c.appId, c.networkId, perRow, perRow - failed, failed, attempts, ...latency]);
        errorRows.push([hour, c.id, 'HTTP 503', c.appId, c.networkId, failed * 2], [hour, c.id, 'timeout', c.appId, c.networkId, failed], [hour, c.id, 'connection refused', c.appId, c.networkId, 1]);
        seeded += perRow;
        await flush(false);
      }
    }
    await flush(true);
    const seedSeconds = (Date.now() - seedStarted) / 1000;

    const rollup = new DeliveryStatsRollup(dataSource);
    const now = new Date(end);
    const cases = [
      { name: 'ADMIN, everything, 30 days by day', scope: {}, from: new Date(start), bucket: StatsBucket.DAY },
      { name: 'ADMIN, everything, 24 h by hour', scope: {}, from: new Date(end - 24 * HOUR_MS), bucket: StatsBucket.HOUR },
      { name: 'PARTNER (one network), 7 days by hour', scope: { networkId: networks[0] }, from: new Date(end - 7 * 24 * HOUR_MS), bucket: StatsBucket.HOUR },
      { name: 'PARTNER (one network), 30 days by day', scope: { networkId: networks[0] }, from: new Date(start), bucket: StatsBucket.DAY },
      { name: 'SDK (one app), 30 days by day', scope: { appId: apps[0] }, from: new Date(start), bucket: StatsBucket.DAY },
      { name: 'one callback, 30 days by day', scope: { callbackId: callbacks[0]!.id }, from: new Date(start), bucket: StatsBucket.DAY },
    ];
    process.stdout.write(`\n${kind}: ${seeded.toLocaleString('en')} deliveries' worth of rollups (${DAYS * 24 * callbacks.length} hour rows, ${DAYS * 24 * callbacks.length * 3} error rows), seeded in ${seedSeconds.toFixed(0)} s\n`);
    process.stdout.write('| question | p50 ms | p99 ms | max ms | delivered (check) |\n| --- | --- | --- | --- | --- |\n');
    for (const c of cases) {
      const window = statsWindow(c.from, now);
      const times: number[] = [];
      let delivered = 0;
      for (let i = 0; i < REPEATS + 3; i++) {
        const t0 = process.hrtime.bigint();
        const { rows, errors } = await rollup.read(c.scope, window, TOP_ERRORS, c.bucket === StatsBucket.DAY);
        const summary = summarizeStats({ rows, errors, window, bucket: c.bucket });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        delivered = summary.delivered;
        if (i >= 3) times.push(ms);
      }
      times.sort((a, b) => a - b);
      process.stdout.write(`| ${c.name} | ${percentile(times, 0.5).toFixed(1)} | ${percentile(times, 0.99).toFixed(1)} | ${times.at(-1)!.toFixed(1)} | ${delivered.toLocaleString('en')} |\n`);
    }
    await dataSource.destroy();
  } finally {
    await db.drop();
  }
}

async function main(): Promise<void> {
  const kinds = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['sqlite', 'mysql']) as BenchDatabase[];
  for (const kind of kinds) await run(kind, process.env.BENCH_MYSQL_URL ?? 'mysql://root:@127.0.0.1:3306');
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
