// `npm run bench`: the service against the bare machine, in one run, per database.
//
// Processes (each its own, so each one's CPU is its own and /proc reports it):
//   this one      orchestration and the load generator (undici, closed or open loop);
//   receiver      node:http answering 200, noting arrivals (bench/receiver.ts);
//   service       node dist/src/main.js on a fresh database (DISPATCHER off or inline);
//   bare INSERT   node:http + one INSERT per POST (bench/bare-insert-server.ts);
//   bare senders  got, then undici, GETting the receiver (bench/bare-sender.ts).
// See BENCHMARKS.md for what each phase measures and the latest results.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuPerUnit, findDatabaseServerPid, probeCpu } from './lib/cpu';
import { addGrowth, createBenchDb, describeMysqlServer, noWrites, serverWritesPer, type BenchDb, type ServerWrites } from './lib/database';
import { seedOldRows } from './lib/purge-seed';
import { ask, monotonicMs, waitFor } from './lib/ipc';
import { closedLoop, mergeRounds, openLoop, type ClosedLoopResult, type OpenLoopResult, type Target } from './lib/load';
import { OptionsError, parseBenchArgs, USAGE, WARMUP_SENDS, type BenchDatabase, type BenchOptions } from './lib/options';
import { renderReport, replaceResultsSection, type DatabaseResults, type DrainResult, type BareSendResult, type PipelineResult, type SoakResult } from './lib/report';
import { benchChild, BENCH_ADMIN_KEY, createFixtures, killLiveChildren, MAIN_JS, memoryOf, WORKER_JS, startService, stopChild, type Fixtures, type ServiceProcess } from './lib/service';
import { batchBody, eventInput, RECORD_MANY, singleBody } from './lib/bodies';
import { pipelineLatencies, queueVerdict, rateBetween, rssVerdict, summarizeLatencies } from './lib/stats';
import { loadConfig } from '../src/config/config';

/** DISPATCH_SENDER when unset. */
const DEFAULT_SENDER = loadConfig({}).dispatchSender;

/** Requests waiting at most in the open-loop phases before new ones are shed. */
const OPEN_LOOP_MAX_IN_FLIGHT = 256;
/** How long a queue may take to drain after the pipeline's load stops. */
const DRAIN_AFTER_LOAD_MS = 30_000;
const QUEUE_SAMPLE_MS = 2000;
/** How often the pipeline scrapes the service's /metrics (for its event-loop stalls). */
const METRICS_SCRAPE_SECONDS = 10;
/** The pipeline's p99 is also shown per window of this many seconds, to tell a transient from a trend. */
const LATENCY_WINDOW_SECONDS = 10;

interface RunContext {
  options: BenchOptions;
  runDir: string;
  receiver: ChildProcess;
  receiverPort: number;
  dbServerPid: number | null;
  /** Unique per run, so event keys never repeat across phases. */
  nonce: string;
  cleanups: (() => Promise<void>)[];
}

/** BENCH_SERVICE_ENV='A=1 B=2': extra settings for the service processes (for experiments). */
function serviceEnv(): Record<string, string> {
  const raw = process.env.BENCH_SERVICE_ENV ?? '';
  return Object.fromEntries(raw.split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/**
 * From the service's /metrics: its longest event-loop stall since the previous scrape
 * (prom-client resets the lag histogram on every scrape) and its V8 heap in use; null where
 * they cannot be read.
 */
async function scrapeService(origin: string): Promise<{ loopLagMaxMs: number | null; heapUsedBytes: number | null }> {
  try {
    const { request } = await import('undici');
    const res = await request(`${origin}/metrics`);
    const text = await res.body.text();
    const read = (name: string) => {
      const match = new RegExp(`^${name}\\s+([0-9.eE+-]+)`, 'm').exec(text);
      return match ? Number(match[1]) : null;
    };
    const lag = read('postbacks_nodejs_eventloop_lag_max_seconds');
    return { loopLagMaxMs: lag === null ? null : lag * 1000, heapUsedBytes: read('postbacks_nodejs_heap_size_used_bytes') };
  } catch {
    return { loopLagMaxMs: null, heapUsedBytes: null };
  }
}

function log(message: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function sdkTarget(service: { origin: string }, fx: Fixtures): Target {
  return { origin: service.origin, path: '/graphql', headers: { 'content-type': 'application/json', authorization: `Bearer ${fx.sdkKey}` } };
}

/** MySQL's writes over several rounds: their growth added up (null before any was read), and the event rows written. */
interface RoundWrites {
  growth: ServerWrites | null;
  events: number;
}

function averageCpu(rounds: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(rounds[0] ?? {})) out[name] = rounds.reduce((sum, r) => sum + (r[name] ?? 0), 0) / rounds.length;
  return out;
}

function assertClean(result: ClosedLoopResult | OpenLoopResult, what: string): void {
  if (result.failed > 0) log(`WARNING ${what}: ${result.failed} requests failed; first: ${result.firstError}`);
}

// ---------------------------------------------------------------------------------------
// Phases

async function ingestPhases(ctx: RunContext, kind: BenchDatabase, out: DatabaseResults): Promise<void> {
  const { options } = ctx;
  const db = await createBenchDb(kind, options.mysqlUrl, 'ingest');
  ctx.cleanups.push(() => db.drop());
  const service = await startService({ databaseUrl: db.url, dispatcher: 'off', logFile: join(ctx.runDir, `service-${kind}-ingest.log`), profileDir: options.profileDir, extraEnv: serviceEnv() });
  try {
    const fx = await createFixtures(service.origin, ctx.receiverPort);
    const target = sdkTarget(service, fx);

    // The bare INSERT server answers both phases: one INSERT per recordEvent body, one multi-row
    // INSERT per recordEvents body.
    const bare = benchChild('bare-insert-server.js', [kind, db.bareTarget], 'bare INSERT server');
    try {
      const { port } = await waitFor<{ type: 'ready'; port: number }>(bare, 'ready');
      const bareTarget = { origin: `http://127.0.0.1:${port}`, path: '/graphql', headers: target.headers };
      const servicePids = { service: service.pid, database: kind === 'mysql' ? ctx.dbServerPid : null, generator: process.pid };
      const barePids = { bare: bare.pid, database: kind === 'mysql' ? ctx.dbServerPid : null, generator: process.pid };
      // Service and bare INSERT server take turns, so a slow stretch of this shared machine (or
      // the database's background work after a heavy phase) falls on both alike.
      const alternate = async (what: string, concurrency: number, body: (who: 'service' | 'bare', round: number) => (i: number) => string, perRequest: number) => {
        const rounds = options.rounds;
        const seconds = options.durationSeconds / rounds;
        const serviceRounds: ClosedLoopResult[] = [];
        const bareRounds: ClosedLoopResult[] = [];
        const serviceCpu: Record<string, number>[] = [];
        const bareCpu: Record<string, number>[] = [];
        // The server's writes over the rounds (warmups included), per event row written.
        const serviceWrites: RoundWrites = { growth: null, events: 0 };
        const bareWrites: RoundWrites = { growth: null, events: 0 };
        const measureWrites = async <T>(into: RoundWrites, table: string, run: () => Promise<T>): Promise<T> => {
          const before = await db.serverWrites();
          const rows0 = before ? await db.count(`SELECT COUNT(*) AS n FROM ${table}`) : 0;
          const result = await run();
          const after = before ? await db.serverWrites() : null;
          if (before && after) {
            into.growth = addGrowth(into.growth ?? noWrites(), before, after);
            into.events += (await db.count(`SELECT COUNT(*) AS n FROM ${table}`)) - rows0;
          }
          return result;
        };
        for (let round = 0; round < rounds; round++) {
          const warmupSeconds = round === 0 ? options.warmupSeconds : Math.min(1, options.warmupSeconds);
          let cpu0 = probeCpu(servicePids);
          const sr = await measureWrites(serviceWrites, 'event', () => closedLoop(target, { concurrency, warmupSeconds, seconds, body: body('service', round) }));
          serviceCpu.push(cpuPerUnit(cpu0, probeCpu(servicePids), (sr.ok + sr.failed) * perRequest));
          serviceRounds.push(sr);
          cpu0 = probeCpu(barePids);
          const br = await measureWrites(bareWrites, 'bare_event', () => closedLoop(bareTarget, { concurrency, warmupSeconds, seconds, body: body('bare', round) }));
          bareCpu.push(cpuPerUnit(cpu0, probeCpu(barePids), (br.ok + br.failed) * perRequest));
          bareRounds.push(br);
          log(`${kind}: ${what} round ${round + 1}: service ${(sr.rate * perRequest).toFixed(0)}/s, bare ${(br.rate * perRequest).toFixed(0)}/s`);
        }
        const writesPerEvent = (w: RoundWrites) => (w.growth ? serverWritesPer(noWrites(), w.growth, w.events) : undefined);
        const merged = { service: mergeRounds(serviceRounds), bare: mergeRounds(bareRounds), serviceCpu: averageCpu(serviceCpu), bareCpu: averageCpu(bareCpu), rounds, serviceWrites: writesPerEvent(serviceWrites), bareWrites: writesPerEvent(bareWrites) };
        assertClean(merged.service, `${what} (service)`);
        assertClean(merged.bare, `${what} (bare INSERT server)`);
        return merged;
      };

      if (options.phases.includes('ingest')) {
        log(`${kind}: single recordEvent (dispatcher off) and the bare INSERT server, ${options.concurrency} in flight, ${options.rounds} × ${(options.durationSeconds / options.rounds).toFixed(1)} s each, alternating`);
        const single = await alternate('single recordEvent', options.concurrency, (who, round) => singleBody(fx, `${ctx.nonce}-${who === 'bare' ? 'bare' : 'single'}-${round}`), 1);
        out.ingest = { service: single.service, bare: single.bare, serviceCpuMicros: single.serviceCpu, bareCpuMicros: single.bareCpu, rounds: single.rounds, serviceWrites: single.serviceWrites, bareWrites: single.bareWrites };
      }

      if (options.phases.includes('batch')) {
        const size = options.batchSize;
        log(`${kind}: recordEvents × ${size} and the bare INSERT server (one ${size}-row INSERT per request), ${options.batchConcurrency} in flight, ${options.rounds} × ${(options.durationSeconds / options.rounds).toFixed(1)} s each, alternating`);
        const batch = await alternate(`recordEvents × ${size}`, options.batchConcurrency, (who, round) => batchBody(fx, `${ctx.nonce}-${who === 'bare' ? 'bare-batch' : 'batch'}-${round}`, size), size);
        out.batch = {
          requests: batch.service,
          eventsPerSecond: batch.service.rate * size,
          batchSize: size,
          cpuMicrosPerEvent: batch.serviceCpu,
          serviceWrites: batch.serviceWrites,
          bare: { requests: batch.bare, eventsPerSecond: batch.bare.rate * size, cpuMicrosPerEvent: batch.bareCpu, writes: batch.bareWrites },
        };
        log(`${kind}: ${out.batch.eventsPerSecond.toFixed(0)} events/s in batches (bare ${out.batch.bare?.eventsPerSecond.toFixed(0)})`);
      }
    } finally {
      await stopChild(bare);
    }
  } finally {
    await service.stop();
    out.peakRssBytes = Math.max(out.peakRssBytes, service.peakRssBytes());
  }
}

/** Records `count` events (one delivery each) with the dispatcher off: `count` PENDING deliveries. */
async function queueDeliveries(ctx: RunContext, db: BenchDb, kind: BenchDatabase, count: number, prefix: string): Promise<Fixtures> {
  const service = await startService({ databaseUrl: db.url, dispatcher: 'off', logFile: join(ctx.runDir, `service-${kind}-queue.log`) });
  try {
    const fx = await createFixtures(service.origin, ctx.receiverPort);
    const target = sdkTarget(service, fx);
    const size = 100;
    const batches = Math.ceil(count / size);
    let next = 0;
    const body = batchBody(fx, prefix, size);
    const { Pool } = await import('undici');
    const pool = new Pool(service.origin, { connections: 4 });
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < batches) {
          const i = next++;
          const n = Math.min(size, count - i * size);
          const text = n === size ? body(i) : JSON.stringify({ query: RECORD_MANY, variables: { inputs: Array.from({ length: n }, (_, j) => eventInput(fx, `${prefix}-${i}-${j}`)) } });
          const res = await pool.request({ path: target.path, method: 'POST', headers: target.headers, body: text });
          const reply = await res.body.text();
          if (res.statusCode !== 200 || reply.includes('"errors"')) throw new Error(`queuing deliveries failed: ${reply.slice(0, 500)}`);
        }
      }),
    );
    await pool.close();
    return fx;
  } finally {
    await service.stop();
  }
}

async function drain(ctx: RunContext, db: BenchDb, kind: BenchDatabase, sender: 'got' | 'undici', out: DatabaseResults): Promise<DrainResult> {
  const n = ctx.options.deliveries;
  const warmup = ctx.options.drainWarmup;
  const queuedCount = n + warmup;
  log(`${kind}: queuing ${queuedCount} deliveries (dispatcher off): ${warmup} to warm up on, ${n} measured`);
  await queueDeliveries(ctx, db, kind, queuedCount, `${ctx.nonce}-drain-${sender}`);
  const queued = await db.queueDepth();
  if (queued !== queuedCount) throw new Error(`expected ${queuedCount} queued deliveries, found ${queued}`);
  const deliveredBefore = await db.count("SELECT COUNT(*) AS n FROM delivery WHERE status = 'DELIVERED'");
  await ask(ctx.receiver, { type: 'reset', track: false });
  log(`${kind}: draining them with the inline dispatcher, DISPATCH_SENDER=${sender}`);
  const service = await startService({ databaseUrl: db.url, dispatcher: 'inline', sender, logFile: join(ctx.runDir, `service-${kind}-drain-${sender}.log`), profileDir: ctx.options.profileDir, extraEnv: serviceEnv() });
  const pids = { service: service.pid, database: kind === 'mysql' ? ctx.dbServerPid : null, receiver: ctx.receiver.pid };
  try {
    const deadline = monotonicMs() + 300_000;
    // Unmeasured, as the bare senders' first WARMUP_SENDS requests are: the window opens at the
    // first arrival after them, and its count and CPU are of the arrivals after that.
    while (warmup > 0) {
      const { count } = await ask<{ type: 'count'; count: number }>(ctx.receiver, { type: 'count' });
      if (count >= warmup) {
        await ask(ctx.receiver, { type: 'reset', track: false });
        break;
      }
      if (monotonicMs() > deadline) throw new Error(`the drain's ${warmup} warm-up deliveries took over 300 s (${count} arrived)`);
      await sleep(5);
    }
    const cpu0 = probeCpu(pids);
    for (;;) {
      if ((await db.queueDepth()) === 0) break;
      if (monotonicMs() > deadline) throw new Error(`draining ${queuedCount} deliveries took over 300 s`);
      await sleep(100);
    }
    const stats = await ask<{ type: 'stats'; count: number; firstMs: number; lastMs: number }>(ctx.receiver, { type: 'stats' });
    const cpu = cpuPerUnit(cpu0, probeCpu(pids), stats.count);
    const delivered = (await db.count("SELECT COUNT(*) AS n FROM delivery WHERE status = 'DELIVERED'")) - deliveredBefore;
    return {
      sender,
      deliveries: queuedCount,
      warmup,
      arrived: stats.count,
      delivered,
      rate: rateBetween(stats.count, stats.firstMs, stats.lastMs),
      secondsFirstToLast: (stats.lastMs - stats.firstMs) / 1000,
      cpuMicrosPerPostback: cpu,
    };
  } finally {
    await service.stop();
    out.peakRssBytes = Math.max(out.peakRssBytes, service.peakRssBytes());
  }
}

async function bareSend(ctx: RunContext, kind: 'got' | 'undici'): Promise<BareSendResult> {
  log(`bare ${kind} sender: ${ctx.options.deliveries} GETs, ${ctx.options.concurrency} in flight`);
  await ask(ctx.receiver, { type: 'reset', track: false });
  const child = benchChild('bare-sender.js', [kind, `http://127.0.0.1:${ctx.receiverPort}`, String(ctx.options.deliveries), String(ctx.options.concurrency)], `bare ${kind}`);
  const cpu0 = probeCpu({ receiver: ctx.receiver.pid });
  const result = await waitFor<{ type: 'result'; rate: number; ok: number; failed: number; cpuMicrosPerRequest: number }>(child, 'result', 300_000);
  const cpu = cpuPerUnit(cpu0, probeCpu({ receiver: ctx.receiver.pid }), ctx.options.deliveries + WARMUP_SENDS);
  await new Promise((ok) => (child.exitCode !== null ? ok(null) : child.once('exit', ok)));
  if (result.failed > 0) log(`WARNING bare ${kind}: ${result.failed} requests failed`);
  return { sender: kind, rate: result.rate, ok: result.ok, failed: result.failed, cpuMicrosPerRequest: { sender: result.cpuMicrosPerRequest, receiver: cpu.receiver ?? Number.NaN } };
}

/**
 * The whole pipeline at a fixed rate: recordEvent calls open-loop, the inline dispatcher
 * sending to the receiver. Latency is recordEvent call → postback arrival, matched by event key.
 */
/** What the purge phase adds to a pipeline run: service settings, and a watcher started with the service. */
interface PipelineHooks {
  env?: Record<string, string>;
  /** Called once the service is up; the function it returns is awaited before the service stops. */
  onStarted?: (service: ServiceProcess) => () => Promise<void>;
  /** Called when the measured window starts (after warmup and its drain). */
  onMeasureStart?: () => void;
}

async function pipeline(ctx: RunContext, db: BenchDb, kind: BenchDatabase, rate: number, seconds: number, label: 'pipeline' | 'soak' | 'purge' | 'redeliver', out: DatabaseResults, hooks: PipelineHooks = {}): Promise<PipelineResult & { rssSamples: { atSeconds: number; rssBytes: number }[]; heapSamples: { atSeconds: number; bytes: number }[] }> {
  const sender = ctx.options.pipelineSender;
  const onWorker = ctx.options.layout === 'worker';
  log(`${kind}: ${label}, ${rate.toFixed(0)} events/s for ${seconds} s, ${onWorker ? 'API with DISPATCHER=off and a worker, on Redis' : 'inline dispatcher'}${sender ? `, DISPATCH_SENDER=${sender}` : ''}`);
  const layoutEnv: Record<string, string> = onWorker ? { REDIS_URL: ctx.options.redisUrl } : {};
  // --redis-url wins over BENCH_SERVICE_ENV, as --sender wins over the service's default.
  const env = { ...serviceEnv(), ...hooks.env, ...layoutEnv };
  const service = await startService({ databaseUrl: db.url, dispatcher: onWorker ? 'off' : 'inline', sender, logFile: join(ctx.runDir, `service-${kind}-${label}.log`), profileDir: ctx.options.profileDir, extraEnv: env });
  let worker: ServiceProcess | null = null;
  const workerLog = join(ctx.runDir, `worker-${kind}-${label}.log`);
  const stopWatching = hooks.onStarted?.(service) ?? (async () => undefined);
  try {
    // Started after the API, which migrates the database the worker waits for; inside the
    // try, so that a worker that cannot start stops the API too.
    if (onWorker) worker = await startService({ program: 'worker', databaseUrl: db.url, dispatcher: 'off', sender, logFile: workerLog, profileDir: ctx.options.profileDir, extraEnv: env });
    const fx = await createFixtures(service.origin, ctx.receiverPort);
    // Warm up at the same rate (JIT, pools, caches), then let that backlog drain before measuring.
    const warmup = Math.max(3, ctx.options.warmupSeconds);
    await openLoop(sdkTarget(service, fx), { rate, seconds: warmup, maxInFlight: OPEN_LOOP_MAX_IN_FLIGHT, body: singleBody(fx, `${ctx.nonce}-${label}-warmup`) });
    for (let waited = 0; (await db.queueDepth()) > 0 && waited < DRAIN_AFTER_LOAD_MS; waited += 100) await sleep(100);
    await ask(ctx.receiver, { type: 'reset', track: true });
    const prefix = `${ctx.nonce}-${label}`;
    const samples: { atSeconds: number; depth: number }[] = [];
    const rssSamples: { atSeconds: number; rssBytes: number }[] = [];
    const t0 = monotonicMs();
    hooks.onMeasureStart?.();
    let sampling = true;
    const loopLagMaxMs: number[] = [];
    const heapSamples: { atSeconds: number; bytes: number }[] = [];
    let lastScrape = 0;
    const sampler = (async () => {
      while (sampling) {
        const at = (monotonicMs() - t0) / 1000;
        samples.push({ atSeconds: at, depth: await db.queueDepth() });
        // As often as a Prometheus would scrape, not more: a scrape is work for the service too.
        if (at - lastScrape >= METRICS_SCRAPE_SECONDS) {
          lastScrape = at;
          const scraped = await scrapeService(service.origin);
          if (scraped.loopLagMaxMs !== null) loopLagMaxMs.push(scraped.loopLagMaxMs);
          if (scraped.heapUsedBytes !== null) heapSamples.push({ atSeconds: at, bytes: scraped.heapUsedBytes });
        }
        const memory = memoryOf(service.pid);
        if (memory) rssSamples.push({ atSeconds: at, rssBytes: memory.rssBytes });
        await sleep(QUEUE_SAMPLE_MS);
      }
    })();
    const pids = { service: service.pid, ...(worker ? { worker: worker.pid } : {}), database: kind === 'mysql' ? ctx.dbServerPid : null, receiver: ctx.receiver.pid, generator: process.pid };
    const writes0 = await db.serverWrites();
    const cpu0 = probeCpu(pids);
    const load = await openLoop(sdkTarget(service, fx), { rate, seconds, maxInFlight: OPEN_LOOP_MAX_IN_FLIGHT, body: singleBody(fx, prefix) });
    // The API answers on without it: only the missing postbacks would tell, much later.
    if (worker && worker.child.exitCode !== null) throw new Error(`the worker exited during the ${label} (code ${worker.child.exitCode}); see ${workerLog}`);
    const cpu = cpuPerUnit(cpu0, probeCpu(pids), load.ok);
    sampling = false;
    await sampler;
    assertClean(load, label);
    // Then let what is still queued go out, so every accepted event can be matched.
    const drainDeadline = monotonicMs() + DRAIN_AFTER_LOAD_MS;
    let depthAfter = await db.queueDepth();
    while (depthAfter > 0 && monotonicMs() < drainDeadline) {
      await sleep(200);
      depthAfter = await db.queueDepth();
    }
    // Read once the queue is empty (the warmup's was empty before the window), so every
    // accepted event's writes are in: its outbox write, its result, attempt and rollups.
    const writes1 = writes0 && depthAfter === 0 ? await db.serverWrites() : null;
    const stats = await ask<{ type: 'stats'; count: number; duplicates: number; arrivals: [string, number][] }>(ctx.receiver, { type: 'stats', withArrivals: true });
    const arrivals = new Map(stats.arrivals);
    const { endToEnd: latencies, missing, p99ByWindow, answerP99ByWindow } = pipelineLatencies(load.sentAt, load.answeredAt, (i) => arrivals.get(`${prefix}-${i}`), t0, LATENCY_WINDOW_SECONDS, seconds);
    const loadSamples = samples.filter((s) => s.atSeconds <= seconds);
    return {
      rate,
      seconds,
      sender: sender ?? `${DEFAULT_SENDER} (default)`,
      sent: load.sent,
      accepted: load.ok,
      failed: load.failed,
      shed: load.shed,
      arrived: latencies.length,
      missing,
      duplicates: stats.duplicates,
      callLatency: load.latency,
      endToEnd: summarizeLatencies(latencies),
      queue: queueVerdict(loadSamples, rate),
      depthAfterDrain: depthAfter,
      depthSamples: loadSamples.map((x) => [Math.round(x.atSeconds), x.depth] as [number, number]),
      p99ByWindow,
      answerP99ByWindow,
      loopLagMaxMs,
      cpuMicrosPerEvent: cpu,
      serverWritesPerEvent: writes0 && writes1 ? serverWritesPer(writes0, writes1, load.ok) : undefined,
      peakRssBytes: service.peakRssBytes(),
      rssSamples,
      heapSamples,
    };
  } finally {
    await stopWatching();
    await worker?.stop();
    await service.stop();
    out.peakRssBytes = Math.max(out.peakRssBytes, service.peakRssBytes(), worker?.peakRssBytes() ?? 0);
  }
}

/** How old the purge phase's backlog is, against the service's RETENTION_DAYS=30. */
const PURGE_BACKLOG_AGE_DAYS = 60;
const PURGE_SAMPLE_MS = 1000;

/** postbacks_purged_rows_total summed over tables, from the service's /metrics; null when unreadable. */
async function scrapePurgedRows(origin: string): Promise<number | null> {
  try {
    const { request } = await import('undici');
    const text = await (await request(`${origin}/metrics`)).body.text();
    let total = 0;
    for (const match of text.matchAll(/^postbacks_purged_rows_total\{[^}]*\}\s+([0-9.eE+-]+)/gm)) total += Number(match[1]);
    return total;
  } catch {
    return null;
  }
}

/** The schema, applied by the service's own `npm run migration:run` entry point, before seeding. */
async function migrate(ctx: RunContext, db: BenchDb): Promise<void> {
  const child = fork(resolve(MAIN_JS, '..', 'db', 'migrate-cli.js'), [], { env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' }, stdio: 'inherit' });
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== 0) throw new Error(`migrations of the purge database failed (exit ${code})`);
  void ctx;
}

/**
 * The pipeline again, on a database holding `purgeRows` rows older than the retention window,
 * with the service purging them (RETENTION_DAYS=30, a pass every second) while the load runs:
 * its p99 beside the plain pipeline's, and how fast the backlog went.
 */
async function purgePhase(ctx: RunContext, kind: BenchDatabase, rate: number, out: DatabaseResults): Promise<void> {
  const db = await createBenchDb(kind, ctx.options.mysqlUrl, 'purge');
  ctx.cleanups.push(() => db.drop());
  await migrate(ctx, db);
  log(`${kind}: purge, seeding ${ctx.options.purgeRows} rows ${PURGE_BACKLOG_AGE_DAYS} days old`);
  const seedStart = monotonicMs();
  const seededRows = await seedOldRows(db, ctx.options.purgeRows, PURGE_BACKLOG_AGE_DAYS);
  const seedSeconds = (monotonicMs() - seedStart) / 1000;
  log(`${kind}: seeded ${seededRows} rows in ${seedSeconds.toFixed(0)} s`);
  const samples: Array<{ at: number; purged: number }> = [];
  let measureStartedAt: number | null = null;
  const t0 = monotonicMs();
  const { rssSamples: _rss, heapSamples: _heap, ...result } = await pipeline(ctx, db, kind, rate, ctx.options.pipelineSeconds, 'purge', out, {
    env: { RETENTION_DAYS: '30', RETENTION_INTERVAL_MS: '1000' },
    onStarted: (service) => {
      let watching = true;
      const loop = (async () => {
        while (watching) {
          const purged = await scrapePurgedRows(service.origin);
          if (purged !== null) samples.push({ at: (monotonicMs() - t0) / 1000, purged });
          await sleep(PURGE_SAMPLE_MS);
        }
      })();
      return async () => {
        watching = false;
        await loop;
      };
    },
    onMeasureStart: () => {
      measureStartedAt = (monotonicMs() - t0) / 1000;
    },
  });
  const purged = samples.at(-1)?.purged ?? 0;
  const started = [...samples].reverse().find((x) => x.purged === 0)?.at ?? 0;
  const doneAt = samples.find((x) => x.purged >= seededRows)?.at ?? null;
  const until = doneAt ?? samples.at(-1)?.at ?? 0;
  const measureStart = measureStartedAt ?? 0;
  const atMeasureStart = [...samples].reverse().find((x) => x.at <= measureStart)?.purged ?? 0;
  const atMeasureEnd = [...samples].reverse().find((x) => x.at <= measureStart + ctx.options.pipelineSeconds)?.purged ?? purged;
  out.purge = {
    seededRows,
    seedSeconds,
    purgedRows: purged,
    finished: doneAt !== null,
    purgeSeconds: until - started,
    rowsPerSecond: until > started ? purged / (until - started) : Number.NaN,
    purgedWhileMeasured: atMeasureEnd - atMeasureStart,
    pipeline: result,
  };
  log(`${kind}: purge ${purged} of ${seededRows} rows in ${(until - started).toFixed(0)} s (${out.purge.rowsPerSecond.toFixed(0)} rows/s), ${out.purge.purgedWhileMeasured} during the measured window; pipeline p99 ${result.endToEnd.p99.toFixed(1)} ms`);
}

/**
 * The pipeline again while one redeliverMany re-queues the finished deliveries of the dispatch
 * phase (2 × (--deliveries + its warm-up), by their creation window): recordEvent's answer p99 beside the
 * plain pipeline's.
 */
async function redeliverPhase(ctx: RunContext, db: BenchDb, kind: BenchDatabase, rate: number, out: DatabaseResults, window: { from: Date; to: Date } | null): Promise<void> {
  if (window === null) throw new Error('the redeliver phase re-queues what the dispatch phase delivered: run the dispatch phase too');
  let origin = '';
  let call: Promise<{ queued: number; skipped: number; callMs: number }> | null = null;
  const { rssSamples: _rss, heapSamples: _heap, ...result } = await pipeline(ctx, db, kind, rate, ctx.options.pipelineSeconds, 'redeliver', out, {
    onStarted: (service) => {
      origin = service.origin;
      return async () => {
        await call;
      };
    },
    onMeasureStart: () => {
      call = redeliverWindow(origin, window);
    },
  });
  if (call === null) throw new Error('the redeliver phase never started its redeliverMany');
  const answer = await (call as Promise<{ queued: number; skipped: number; callMs: number }>);
  out.redeliver = { ...answer, pipeline: result };
  log(`${kind}: redeliver ${answer.queued} (skipped ${answer.skipped}) in ${answer.callMs.toFixed(0)} ms; recordEvent answer p99 ${result.callLatency.p99.toFixed(1)} ms`);
}

/** redeliverMany, as an ADMIN, of every finished delivery created in the window. */
async function redeliverWindow(origin: string, window: { from: Date; to: Date }): Promise<{ queued: number; skipped: number; callMs: number }> {
  const { request } = await import('undici');
  const from = window.from.toISOString();
  const to = window.to.toISOString();
  const started = monotonicMs();
  const res = await request(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_KEY}` },
    body: JSON.stringify({
      query: 'mutation($f: RedeliverFilter!) { redeliverMany(filter: $f) { queued skipped } }',
      variables: { f: { from, to, statuses: ['DELIVERED', 'FAILED'] } },
    }),
  });
  const reply = (await res.body.json()) as { data?: { redeliverMany: { queued: number; skipped: number } }; errors?: unknown };
  if (!reply.data) throw new Error(`redeliverMany failed: ${JSON.stringify(reply.errors).slice(0, 500)}`);
  return { ...reply.data.redeliverMany, callMs: monotonicMs() - started };
}

async function dispatchAndPipelinePhases(ctx: RunContext, kind: BenchDatabase, out: DatabaseResults, soak: boolean): Promise<void> {
  const { options } = ctx;
  const db = await createBenchDb(kind, options.mysqlUrl, 'dispatch');
  ctx.cleanups.push(() => db.drop());
  // The dispatch phase's deliveries (2 × (--deliveries + its warm-up)) are what the redeliver phase re-queues.
  let dispatchWindow: { from: Date; to: Date } | null = null;
  if (options.phases.includes('dispatch')) {
    const dispatchStarted = new Date();
    const got = await drain(ctx, db, kind, 'got', out);
    log(`${kind}: got drained at ${got.rate.toFixed(0)} postbacks/s`);
    const undici = await drain(ctx, db, kind, 'undici', out);
    log(`${kind}: undici drained at ${undici.rate.toFixed(0)} postbacks/s`);
    dispatchWindow = { from: dispatchStarted, to: new Date() };
    const bareGot = await bareSend(ctx, 'got');
    log(`bare got: ${bareGot.rate.toFixed(0)} req/s`);
    const bareUndici = await bareSend(ctx, 'undici');
    log(`bare undici: ${bareUndici.rate.toFixed(0)} req/s`);
    out.dispatch = { got, undici, bareGot, bareUndici };
  }
  const rate = options.pipelineRate ?? (out.ingest ? out.ingest.service.rate / 2 : null);
  if (options.phases.includes('pipeline') || options.phases.includes('purge') || options.phases.includes('redeliver') || soak) {
    if (rate === null) throw new Error('the pipeline needs a rate: run the ingest phase too, or give --rate');
  }
  if (options.phases.includes('pipeline')) {
    const { rssSamples: _rss, heapSamples: _heap, ...result } = await pipeline(ctx, db, kind, rate as number, options.pipelineSeconds, 'pipeline', out);
    out.pipeline = result;
    log(`${kind}: pipeline p50/p95/p99 ${result.endToEnd.p50.toFixed(1)}/${result.endToEnd.p95.toFixed(1)}/${result.endToEnd.p99.toFixed(1)} ms, queue ${result.queue.grows ? 'GROWS' : 'steady'}`);
  }
  if (options.phases.includes('purge')) await purgePhase(ctx, kind, rate as number, out);
  if (soak) {
    const seconds = options.soakMinutes * 60;
    const result = await pipeline(ctx, db, kind, rate as number, seconds, 'soak', out);
    const warmup = Math.min(60, seconds / 5);
    const verdict = rssVerdict(result.rssSamples, warmup);
    const perMinute = <T extends { atSeconds: number }>(samples: T[], value: (s: T) => number) =>
      Array.from({ length: Math.ceil(seconds / 60) }, (_, m) => samples.filter((x) => x.atSeconds >= m * 60 && x.atSeconds < (m + 1) * 60)).map((w) => (w.length ? Math.max(...w.map(value)) : Number.NaN));
    const soakResult: SoakResult = {
      minutes: options.soakMinutes,
      rate: rate as number,
      warmupSeconds: warmup,
      rss: verdict,
      endToEnd: result.endToEnd,
      queue: result.queue,
      samples: result.rssSamples.length,
      rssMaxByMinute: perMinute(result.rssSamples, (x) => x.rssBytes),
      heapMaxByMinute: perMinute(result.heapSamples, (x) => x.bytes),
      serverWritesPerEvent: result.serverWritesPerEvent,
    };
    out.soak = soakResult;
    log(`${kind}: soak RSS ${verdict.stable ? 'stable' : 'NOT stable'} (max deviation ${(verdict.maxDeviation * 100).toFixed(1)} %)`);
  }
  // Last on this database: a paced replay (REDELIVER_MAX_PER_SECOND) outlasts the phase, and
  // what is still due would be sent at once by the next service started on it.
  if (options.phases.includes('redeliver')) await redeliverPhase(ctx, db, kind, rate as number, out, dispatchWindow);
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv, process.env);
  } catch (error) {
    if (error instanceof OptionsError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  for (const built of [MAIN_JS, WORKER_JS]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build (npm run bench builds first)`);
  }
  if (options.profileDir) mkdirSync(resolve(options.profileDir), { recursive: true });
  if (options.profileDir) options.profileDir = resolve(options.profileDir);
  const runDir = mkdtempSync(join(tmpdir(), 'postback-bench-'));
  log(`logs of the service processes: ${runDir}`);

  const receiver = benchChild('receiver.js', [], 'receiver');
  const { port: receiverPort } = await waitFor<{ type: 'ready'; port: number }>(receiver, 'ready');
  const ctx: RunContext = {
    options,
    runDir,
    receiver,
    receiverPort,
    dbServerPid: findDatabaseServerPid(),
    nonce: Date.now().toString(36),
    cleanups: [],
  };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('interrupted: stopping the processes it started and dropping the benchmark databases');
    killLiveChildren();
    void runCleanups(ctx).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = new Date();
  const results: DatabaseResults[] = [];
  try {
    for (const [index, kind] of options.databases.entries()) {
      const out: DatabaseResults = { kind, peakRssBytes: 0 };
      if (kind === 'mysql') out.server = await describeMysqlServer(options.mysqlUrl);
      results.push(out);
      if (options.phases.includes('ingest') || options.phases.includes('batch')) await ingestPhases(ctx, kind, out);
      await dispatchAndPipelinePhases(ctx, kind, out, options.soak && index === 0);
      await runCleanups(ctx);
    }
  } finally {
    await runCleanups(ctx);
    await stopChild(receiver);
  }

  const report = renderReport(results, {
    startedAt: started,
    finishedAt: new Date(),
    options,
    machine: machineDescription(),
    defaultSender: DEFAULT_SENDER,
  });
  process.stdout.write(`\n${report}\n`);
  if (options.write) {
    const file = resolve(options.outputFile);
    const existing = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    writeFileSync(file, replaceResultsSection(existing, report));
    log(`results written to ${file}`);
  }
}

async function runCleanups(ctx: RunContext): Promise<void> {
  const cleanups = ctx.cleanups.splice(0);
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      log(`cleanup failed: ${String(error)}`);
    }
  }
}

function machineDescription(): string {
  const os = require('node:os') as typeof import('node:os');
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

process.on('exit', killLiveChildren);

main().catch((error) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
