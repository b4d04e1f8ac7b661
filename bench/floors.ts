// `npm run bench:floors`: what the two throughput targets of #18 that compare with a bare program
// would cost a program that keeps the product's guarantees and does nothing else, on MariaDB,
// in one run. Each floor takes turns with its bare program, as the main benchmark's phases do:
//
// - recordEvents × 100: the bare INSERT server (one 100-row INSERT of event rows per request,
//   bench/bare-insert-server.ts) against the bare outbox server (the event, touchpoint and
//   delivery rows the service writes for each event, in the service's tables, one transaction
//   per request: bench/bare-outbox-server.ts). The target is 0.8 × the first.
// - the drain: the bare undici sender (bench/bare-sender.ts) against the bare durable sender
//   (a claim before each group of sends, the result UPDATE and attempt rows after it:
//   bench/bare-durable-sender.ts). The target is 0.35 × the first.
//
// Where a floor's own ratio is under its target, the target is out of reach of any program
// that writes those rows on this database server: BENCHMARKS.md, "Floors".
//
//   node dist/bench/floors.js [--rounds N] [--seconds S] [--warmup S] [--deliveries N] [--loops L] [--group G] [--keys-only] [--mysql URL]
//
// --keys-only: the bare outbox server's tables keep only their primary keys and the event's
// idempotency key (no foreign keys, no other index): what the schema's indexes cost.
import { parseArgs } from 'node:util';
import { findDatabaseServerPid, cpuPerUnit, probeCpu } from './lib/cpu';
import { WARMUP_SENDS } from './lib/options';
import { createBenchDb, serverWritesPer, type BenchDb, type ServerWrites } from './lib/database';
import { ask, waitFor } from './lib/ipc';
import { closedLoop, type ClosedLoopResult, type Target } from './lib/load';
import { batchBody, type EventOwner } from './lib/bodies';
import { benchChild, killLiveChildren, stopChild } from './lib/service';

const BATCH = 100;
const BATCH_IN_FLIGHT = 8;
const SENDS_IN_FLIGHT = 64;
/** The bare servers ignore who the events are for (the outbox server writes its own app's), but the bodies are the main benchmark's. */
const OWNER: EventOwner = { appId: '018f0c2e-0000-7000-8000-0000000bench', networkSlug: 'benchnet' };

function log(message: string): void {
  process.stderr.write(`[floors ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

interface Measured {
  rate: number;
  cpu: Record<string, number>;
  writes: ServerWrites | null;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function meanOf(runs: Measured[]): Measured {
  const cpu: Record<string, number> = {};
  for (const key of Object.keys(runs[0]?.cpu ?? {})) cpu[key] = mean(runs.map((r) => r.cpu[key] ?? Number.NaN));
  const writes = runs[0]?.writes ? ({} as ServerWrites) : null;
  if (writes) for (const key of Object.keys(runs[0]?.writes as ServerWrites) as (keyof ServerWrites)[]) writes[key] = mean(runs.map((r) => (r.writes as ServerWrites)[key]));
  return { rate: mean(runs.map((r) => r.rate)), cpu, writes };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '3' },
      deliveries: { type: 'string', default: '20000' },
      loops: { type: 'string', default: '2' },
      group: { type: 'string', default: '256' },
      mysql: { type: 'string', default: process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306' },
      'keys-only': { type: 'boolean', default: false },
    },
  });
  const number = (name: keyof typeof values, min: number) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${String(values[name])}`);
    return n;
  };
  const rounds = number('rounds', 1);
  const seconds = number('seconds', 1);
  const warmupSeconds = number('warmup', 0);
  const deliveries = number('deliveries', 100);
  const loops = number('loops', 1);
  const group = number('group', 1);
  const mysqlUrl = values.mysql as string;
  const dbPid = findDatabaseServerPid();
  if (dbPid === null) throw new Error('no local mariadbd or mysqld process: the floors measure its CPU');
  const started = new Date();
  const dbs: BenchDb[] = [];
  const newDb = async (label: string) => {
    const db = await createBenchDb('mysql', mysqlUrl, label);
    dbs.push(db);
    return db;
  };

  try {
    // recordEvents × 100: the bare INSERT server and the bare outbox server, taking turns.
    const bareDb = await newDb('floor_bare');
    const outboxDb = await newDb('floor_outbox');
    const bare = benchChild('bare-insert-server.js', ['mysql', bareDb.url], 'bare INSERT server');
    const keysOnly = values['keys-only'] === true;
    const outbox = benchChild('bare-outbox-server.js', keysOnly ? [outboxDb.url, 'keys-only'] : [outboxDb.url], 'bare outbox server');
    const servers = {
      bare: { process: bare, port: (await waitFor<{ type: 'ready'; port: number }>(bare, 'ready')).port, db: bareDb, runs: [] as Measured[] },
      outbox: { process: outbox, port: (await waitFor<{ type: 'ready'; port: number }>(outbox, 'ready', 120_000)).port, db: outboxDb, runs: [] as Measured[] },
    };
    for (let round = 0; round < rounds; round++) {
      for (const [name, server] of Object.entries(servers)) {
        const target: Target = { origin: `http://127.0.0.1:${server.port}`, path: '/graphql', headers: { 'content-type': 'application/json' } };
        // The warm-up outside the measured window: closedLoop counts only its last `seconds`, the CPU and writes are read around it.
        await closedLoop(target, { concurrency: BATCH_IN_FLIGHT, warmupSeconds: 0, seconds: warmupSeconds, body: batchBody(OWNER, `${name}-warm-${round}`, BATCH) });
        const cpu0 = probeCpu({ server: server.process.pid, mariadb: dbPid, generator: process.pid });
        const writes0 = await server.db.serverWrites();
        const result: ClosedLoopResult = await closedLoop(target, { concurrency: BATCH_IN_FLIGHT, warmupSeconds: 0, seconds, body: batchBody(OWNER, `${name}-${round}`, BATCH) });
        const writes1 = await server.db.serverWrites();
        if (result.failed > 0) throw new Error(`${name}: ${result.failed} requests failed: ${result.firstError}`);
        const events = result.ok * BATCH;
        server.runs.push({
          rate: result.rate * BATCH,
          cpu: cpuPerUnit(cpu0, probeCpu({ server: server.process.pid, mariadb: dbPid, generator: process.pid }), events),
          writes: writes0 && writes1 ? serverWritesPer(writes0, writes1, events) : null,
        });
        log(`recordEvents × ${BATCH}, round ${round + 1}, ${name}: ${fmt(result.rate * BATCH)} events/s`);
      }
    }
    await stopChild(bare);
    await stopChild(outbox);

    // The drain: the bare undici sender and the bare durable sender, taking turns.
    const receiver = benchChild('receiver.js', [], 'receiver');
    const { port } = await waitFor<{ type: 'ready'; port: number }>(receiver, 'ready');
    const origin = `http://127.0.0.1:${port}`;
    const senders = { undici: [] as Measured[], durable: [] as Measured[] };
    let notDelivered = 0;
    for (let round = 0; round < rounds; round++) {
      await ask(receiver, { type: 'reset', track: false });
      const undici = benchChild('bare-sender.js', ['undici', origin, String(deliveries), String(SENDS_IN_FLIGHT)], 'bare undici');
      let cpu0 = probeCpu({ receiver: receiver.pid, mariadb: dbPid });
      const u = await waitFor<{ type: 'result'; rate: number; failed: number; cpuMicrosPerRequest: number }>(undici, 'result', 300_000);
      const uCpu = cpuPerUnit(cpu0, probeCpu({ receiver: receiver.pid, mariadb: dbPid }), deliveries + WARMUP_SENDS);
      if (u.failed > 0) throw new Error(`bare undici: ${u.failed} requests failed`);
      senders.undici.push({ rate: u.rate, cpu: { sender: u.cpuMicrosPerRequest, ...uCpu }, writes: null });
      log(`drain, round ${round + 1}, bare undici: ${fmt(u.rate)}/s`);

      const db = await newDb(`floor_durable_${round}`);
      const durable = benchChild('bare-durable-sender.js', [db.url, origin, String(deliveries), String(loops), String(group)], 'bare durable sender');
      await waitFor(durable, 'queued', 300_000);
      await ask(receiver, { type: 'reset', track: false });
      cpu0 = probeCpu({ receiver: receiver.pid, mariadb: dbPid });
      const writes0 = await db.serverWrites();
      const resultPromise = waitFor<{ type: 'result'; rate: number; failed: number; cpuMicrosPerRequest: number; notDelivered: number; attempts: number }>(durable, 'result', 600_000);
      durable.send({ type: 'go' });
      const d = await resultPromise;
      const writes1 = await db.serverWrites();
      const dCpu = cpuPerUnit(cpu0, probeCpu({ receiver: receiver.pid, mariadb: dbPid }), deliveries);
      if (d.failed > 0) throw new Error(`bare durable sender: ${d.failed} sends failed`);
      if (d.attempts !== deliveries + WARMUP_SENDS) throw new Error(`bare durable sender: ${d.attempts} attempt rows for ${deliveries + WARMUP_SENDS} sends`);
      notDelivered += d.notDelivered;
      senders.durable.push({ rate: d.rate, cpu: { sender: d.cpuMicrosPerRequest, ...dCpu }, writes: writes0 && writes1 ? serverWritesPer(writes0, writes1, deliveries) : null });
      log(`drain, round ${round + 1}, bare durable sender: ${fmt(d.rate)}/s`);
      await stopChild(durable);
    }
    await stopChild(receiver);
    if (notDelivered > 0) throw new Error(`bare durable sender: ${notDelivered} deliveries not DELIVERED at the end`);

    const b = meanOf(servers.bare.runs);
    const o = meanOf(servers.outbox.runs);
    const u = meanOf(senders.undici);
    const d = meanOf(senders.durable);
    const cpuLine = (m: Measured, names: [string, string][]) => names.map(([key, label]) => `${label} ${fmt(m.cpu[key] ?? Number.NaN)}`).join(', ');
    const writesLine = (m: Measured) =>
      m.writes ? `redo ${fmt(m.writes.redoGenerated)} B, rows inserted ${fmt(m.writes.rowsInserted, 2)}, updated ${fmt(m.writes.rowsUpdated, 2)}, COMMITs ${fmt(m.writes.commits, 3)}` : '–';
    const perRound = (runs: Measured[]) => runs.map((r) => fmt(r.rate)).join(', ');
    process.stdout.write(
      [
        `Floors, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${rounds} alternating rounds of each (recordEvents: ${warmupSeconds} s warm-up + ${seconds} s measured; drain: ${fmt(deliveries)} each, after 2,000 unmeasured).`,
        '',
        '| | bare program | floor | floor ÷ bare | target for the service |',
        '| --- | ---: | ---: | ---: | --- |',
        `| recordEvents × ${BATCH}, events/s (${BATCH_IN_FLIGHT} calls in flight): bare INSERT server / bare outbox server${keysOnly ? ' (keys only)' : ''} | ${fmt(b.rate)} | ${fmt(o.rate)} | ${fmt(o.rate / b.rate, 2)} | ≥ 0.8 × bare |`,
        `| drain, postbacks/s: bare undici (${SENDS_IN_FLIGHT} in flight) / bare durable sender (${loops} loops × groups of ${group}) | ${fmt(u.rate)} | ${fmt(d.rate)} | ${fmt(d.rate / u.rate, 2)} | ≥ 0.35 × bare undici |`,
        '',
        `- rounds, events/s: bare INSERT ${perRound(servers.bare.runs)}; bare outbox ${perRound(servers.outbox.runs)}. Postbacks/s: bare undici ${perRound(senders.undici)}; bare durable ${perRound(senders.durable)}.`,
        `- CPU µs per event: bare INSERT server: ${cpuLine(b, [['server', 'server'], ['mariadb', 'MariaDB'], ['generator', 'load generator']])}; bare outbox server: ${cpuLine(o, [['server', 'server'], ['mariadb', 'MariaDB'], ['generator', 'load generator']])}.`,
        `- MariaDB writes per event: bare INSERT server: ${writesLine(b)}; bare outbox server: ${writesLine(o)}.`,
        `- CPU µs per postback: bare undici: ${cpuLine(u, [['sender', 'sender'], ['receiver', 'receiver'], ['mariadb', 'MariaDB']])}; bare durable sender: ${cpuLine(d, [['sender', 'sender'], ['receiver', 'receiver'], ['mariadb', 'MariaDB']])}.`,
        `- MariaDB writes per postback, bare durable sender: ${writesLine(d)}.`,
        '',
      ].join('\n'),
    );
  } finally {
    killLiveChildren();
    for (const db of dbs) await db.drop().catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`floors failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  killLiveChildren();
  process.exit(1);
});
