import { DEFAULT_OPTIONS, OptionsError, parseBenchArgs, WARMUP_SENDS } from '../../../bench/lib/options';
import { addGrowth, noWrites, serverWritesPer } from '../../../bench/lib/database';
import { fmt, ratio, renderDatabase, replaceResultsSection, RESULTS_END, RESULTS_START, type DatabaseResults } from '../../../bench/lib/report';
import { summarizeLatencies } from '../../../bench/lib/stats';

describe('bench options', () => {
  it('defaults to every phase on MySQL then SQLite, writing BENCHMARKS.md', () => {
    expect(parseBenchArgs([])).toEqual(DEFAULT_OPTIONS);
  });

  it('reads flags with separate or inline values', () => {
    const o = parseBenchArgs(['--db', 'sqlite', '--duration=5', '--phases', 'pipeline,ingest', '--soak', '--no-write', '--rate', '250', '--sender', 'undici']);
    expect(o).toMatchObject({ databases: ['sqlite'], durationSeconds: 5, phases: ['ingest', 'pipeline'], soak: true, write: false, pipelineRate: 250, pipelineSender: 'undici' });
  });

  it('reads the purge phase and its backlog size', () => {
    expect(parseBenchArgs(['--phases', 'purge,pipeline', '--purge-rows', '30000'])).toMatchObject({ phases: ['pipeline', 'purge'], purgeRows: 30_000 });
    expect(DEFAULT_OPTIONS.purgeRows).toBe(1_000_000);
    expect(() => parseBenchArgs(['--purge-rows', '2'])).toThrow(/--purge-rows/);
  });

  it('warms the drain up on as many deliveries as the bare senders send unmeasured, or none', () => {
    expect(DEFAULT_OPTIONS.drainWarmup).toBe(WARMUP_SENDS);
    expect(parseBenchArgs(['--drain-warmup', '0']).drainWarmup).toBe(0);
    expect(parseBenchArgs(['--drain-warmup=500']).drainWarmup).toBe(500);
    expect(() => parseBenchArgs(['--drain-warmup', '-1'])).toThrow(/--drain-warmup/);
  });

  it('dispatches the pipeline inline unless --layout worker asks for a worker beside the API, on MySQL and Redis', () => {
    expect(DEFAULT_OPTIONS.layout).toBe('inline');
    expect(parseBenchArgs(['--db', 'mysql', '--layout', 'worker'])).toMatchObject({ layout: 'worker', redisUrl: 'redis://127.0.0.1:6379' });
    expect(parseBenchArgs(['--db', 'mysql', '--layout', 'worker'], { BENCH_REDIS_URL: 'redis://cache:6380' }).redisUrl).toBe('redis://cache:6380');
    expect(parseBenchArgs(['--db', 'mysql', '--layout', 'worker', '--redis-url', 'redis://r:1'], { BENCH_REDIS_URL: 'redis://cache:6380' }).redisUrl).toBe('redis://r:1');
    // The default --db is both: a worker cannot share the API's SQLite file.
    expect(() => parseBenchArgs(['--layout', 'worker'])).toThrow(/--layout worker needs --db mysql/);
    expect(() => parseBenchArgs(['--db', 'sqlite', '--layout', 'worker'])).toThrow(OptionsError);
    expect(() => parseBenchArgs(['--layout', 'cluster'])).toThrow(/--layout must be inline or worker, got "cluster"/);
  });

  it('takes the MySQL server from BENCH_MYSQL_URL unless a flag names one', () => {
    expect(parseBenchArgs([], { BENCH_MYSQL_URL: 'mysql://u:p@db:3307' }).mysqlUrl).toBe('mysql://u:p@db:3307');
    expect(parseBenchArgs(['--mysql-url', 'mysql://x@y'], { BENCH_MYSQL_URL: 'mysql://u:p@db:3307' }).mysqlUrl).toBe('mysql://x@y');
  });

  it.each([
    [['--db', 'postgres'], /--db/],
    [['--phases', 'ingest,fly'], /unknown phase "fly"/],
    [['--duration'], /needs a value/],
    [['--duration', '-3'], /--duration/],
    [['--concurrency', '1.5'], /whole number/],
    [['--batch-size', '600'], /at most 500/],
    [['--sender', 'axios'], /--sender/],
    [['--frobnicate'], /unknown flag/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(OptionsError);
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });
});

describe('bench report', () => {
  it('replaces the marked results section and keeps the rest', () => {
    const doc = `# Benchmarks\n\nnotes before\n\n${RESULTS_START}\nold\n${RESULTS_END}\n\nnotes after\n`;
    const out = replaceResultsSection(doc, 'new table');
    expect(out).toBe(`# Benchmarks\n\nnotes before\n\n${RESULTS_START}\nnew table\n${RESULTS_END}\n\nnotes after\n`);
  });

  it('appends a section to a document without one', () => {
    expect(replaceResultsSection('# Benchmarks\n', 'table')).toBe(`# Benchmarks\n\n${RESULTS_START}\ntable\n${RESULTS_END}\n`);
  });

  it('formats numbers and ratios, with a dash for what was not measured', () => {
    expect(fmt(12345.678)).toBe('12,346');
    expect(fmt(1.25, 1)).toBe('1.3');
    expect(fmt(Number.NaN)).toBe('–');
    expect(ratio(1, 4)).toBe('0.25');
    expect(ratio(1, 0)).toBe('–');
  });

  it('checks the targets on MySQL and only shows the ratios on SQLite', () => {
    const loop = (rate: number) => ({ ok: rate * 10, failed: 0, measuredSeconds: 10, rate, latency: summarizeLatencies([1, 2, 3]), firstError: null, latencies: [1, 2, 3] });
    const results: DatabaseResults = {
      kind: 'mysql',
      ingest: { service: loop(1800), bare: loop(3000), serviceCpuMicros: { service: 500 }, bareCpuMicros: { bare: 100 } },
      batch: { requests: loop(150), eventsPerSecond: 15_000, batchSize: 100, cpuMicrosPerEvent: { service: 50 } },
      peakRssBytes: 200 * 2 ** 20,
    };
    const options = { concurrency: 64, batchConcurrency: 8, deliveries: 20_000 };
    const mysql = renderDatabase(results, options, 'got');
    expect(mysql).toContain('| 1,800 | 3,000 (bare INSERT server) | 0.60 | ≥ 0.8 | ❌ |');
    expect(mysql).toContain('| recordEvents × 100 against single recordEvent (events/s) | 15,000 | 1,800 (single recordEvent) | 8.33 | | |');
    expect(renderDatabase({ ...results, ingest: { ...results.ingest!, service: loop(2500) } }, options, 'got')).toContain('| 2,500 | 3,000 (bare INSERT server) | 0.83 | ≥ 0.8 | ✅ |');
    expect(mysql).toContain('200 MB');
    const sqlite = renderDatabase({ ...results, kind: 'sqlite' }, options, 'got');
    expect(sqlite).not.toContain('✅');
    expect(sqlite).toContain('targets are set for MySQL');
    expect(mysql).not.toContain('Server:');
    expect(renderDatabase({ ...results, server: '10.11.19-MariaDB, innodb_log_file_size 96 MiB' }, options, 'got')).toContain('### MySQL (MariaDB)\n\nServer: 10.11.19-MariaDB, innodb_log_file_size 96 MiB.\n\n| measure');
  });
});

describe('bench report: the targets of issue #18', () => {
  const loop = (rate: number) => ({ ok: rate * 10, failed: 0, measuredSeconds: 10, rate, latency: summarizeLatencies([1, 2, 3]), firstError: null, latencies: [1, 2, 3] });
  const pipeline = (p99: number, cpu: Record<string, number>) => ({
    rate: 2000, seconds: 60, sender: 'undici', sent: 120_000, accepted: 120_000, failed: 0, shed: 0, arrived: 120_000, missing: 0, duplicates: 0,
    callLatency: summarizeLatencies([1, 2, 3]),
    endToEnd: { count: 120_000, p50: 5, p95: 20, p99, max: p99 * 2 },
    queue: { growthPerSecond: 0.1, finalDepth: 3, maxDepth: 40, grows: false },
    depthAfterDrain: 0, cpuMicrosPerEvent: cpu, peakRssBytes: 0,
  });
  const options = { concurrency: 64, batchConcurrency: 8, deliveries: 20_000, pipelineRate: null };

  it('sets recordEvents × 100 against the bare server doing one 100-row INSERT per request (≥ 0.8)', () => {
    const batch = (service: number, bare: number): DatabaseResults => ({
      kind: 'mysql',
      batch: { requests: loop(service / 100), eventsPerSecond: service, batchSize: 100, cpuMicrosPerEvent: { service: 50 }, bare: { requests: loop(bare / 100), eventsPerSecond: bare, cpuMicrosPerEvent: { bare: 10, database: 30 } } },
      peakRssBytes: 0,
    });
    expect(renderDatabase(batch(15_000, 25_000), options, 'undici')).toContain('| recordEvents × 100 vs bare 100-row INSERT server (events/s, 8 calls in flight) | 15,000 | 25,000 (bare 100-row INSERT) | 0.60 | ≥ 0.8 | ❌ |');
    expect(renderDatabase(batch(21_000, 25_000), options, 'undici')).toContain('| 0.84 | ≥ 0.8 | ✅ |');
    expect(renderDatabase(batch(21_000, 25_000), options, 'undici')).toContain('- bare 100-row INSERT server: answer p50 2.0');
  });

  it('checks the pipeline at half peak: p99 < 50 ms, service ≤ 200 µs and MariaDB ≤ 100 µs per event', () => {
    const good = renderDatabase({ kind: 'mysql', pipeline: pipeline(45, { service: 190, database: 90 }), peakRssBytes: 0 }, options, 'undici');
    expect(good).toContain('(half the single-event peak)');
    expect(good).toContain('| p99 < 50 | ✅ |');
    expect(good).toContain('| pipeline: service CPU per event (µs) | 190 | | | ≤ 200 | ✅ |');
    expect(good).toContain('| pipeline: MariaDB CPU per event (µs) | 90 | | | ≤ 100 | ✅ |');
    const bad = renderDatabase({ kind: 'mysql', pipeline: pipeline(140, { service: 340, database: 151 }), peakRssBytes: 0 }, options, 'undici');
    expect(bad).toContain('| p99 < 50 | ❌ |');
    expect(bad).toContain('| 340 | | | ≤ 200 | ❌ |');
    expect(bad).toContain('| 151 | | | ≤ 100 | ❌ |');
    // At a rate given by hand the targets do not apply: shown, not checked.
    const byHand = renderDatabase({ kind: 'mysql', pipeline: pipeline(45, { service: 190, database: 90 }), peakRssBytes: 0 }, { ...options, pipelineRate: 1200 }, 'undici');
    expect(byHand).toContain('(--rate)');
    expect(byHand).not.toContain('✅');
    // SQLite has no MariaDB row.
    expect(renderDatabase({ kind: 'sqlite', pipeline: pipeline(45, { service: 190 }), peakRssBytes: 0 }, options, 'undici')).not.toContain('MariaDB CPU');
  });

  it('shows a pipeline dispatched by a worker with the worker\'s CPU, and checks no target on it', () => {
    const onWorker = renderDatabase({ kind: 'mysql', pipeline: pipeline(45, { service: 150, worker: 40, database: 90 }), peakRssBytes: 0 }, { ...options, layout: 'worker' }, 'undici');
    expect(onWorker).toContain('| pipeline at 2,000 events/s (half the single-event peak, --layout worker: API and worker) for 60 s');
    expect(onWorker).toContain("| pipeline: API process (the worker's is in the details) CPU per event (µs) | 150 |");
    expect(onWorker).not.toContain('✅');
    expect(onWorker).toContain('CPU µs per event: service 150, worker 40, MariaDB 90');
    expect(renderDatabase({ kind: 'mysql', pipeline: pipeline(45, { service: 150, database: 90 }), peakRssBytes: 0 }, { ...options, layout: 'inline' }, 'undici')).toContain('| p99 < 50 | ✅ |');
  });

  it('divides the growth of each server counter by the events', () => {
    const before = { redoGenerated: 500, redoBytes: 1_000, commits: 10, rowsInserted: 100, rowsUpdated: 50, rowsDeleted: 0, dataBytes: 4_096 };
    const after = { redoGenerated: 300_500, redoBytes: 401_000, commits: 25, rowsInserted: 600, rowsUpdated: 150, rowsDeleted: 0, dataBytes: 1_052_672 };
    expect(serverWritesPer(before, after, 100)).toEqual({ redoGenerated: 3_000, redoBytes: 4_000, commits: 0.15, rowsInserted: 5, rowsUpdated: 1, rowsDeleted: 0, dataBytes: 10_485.76 });
    expect(serverWritesPer(before, after, 0).redoBytes).toBeNaN();
  });

  it('adds up the growth of rounds measured apart', () => {
    const round = (redo: number, commits: number) => ({ ...noWrites(), redoGenerated: redo, commits });
    const twice = addGrowth(addGrowth(noWrites(), round(100, 1), round(600, 3)), round(1_000, 10), round(1_300, 11));
    expect(twice).toEqual({ ...noWrites(), redoGenerated: 800, commits: 3 });
  });

  it("shows MariaDB's writes per pipeline event when they were read, and nothing when not", () => {
    const writes = { redoGenerated: 3_100, redoBytes: 3_812.4, commits: 0.153, rowsInserted: 5.02, rowsUpdated: 1.5, rowsDeleted: 0, dataBytes: 9_000 };
    const shown = renderDatabase({ kind: 'mysql', pipeline: { ...pipeline(45, { service: 190, database: 90 }), serverWritesPerEvent: writes }, peakRssBytes: 0 }, options, 'undici');
    expect(shown).toContain('- pipeline MariaDB writes per event: redo 3,100 B generated, 3,812 B written, data files 9,000 B, 0.15 COMMITs, rows inserted 5.02, updated 1.50, deleted 0.00.');
    expect(renderDatabase({ kind: 'mysql', pipeline: pipeline(45, { service: 190, database: 90 }), peakRssBytes: 0 }, options, 'undici')).not.toContain('writes per event');
  });

  it('shows the end-to-end and the answer p99 of each 10 s window, one line each', () => {
    const shown = renderDatabase({ kind: 'mysql', pipeline: { ...pipeline(45, { service: 190, database: 90 }), p99ByWindow: [270.46, 38.6], answerP99ByWindow: [91.6, 12] }, peakRssBytes: 0 }, options, 'undici');
    expect(shown).toContain('- pipeline end-to-end p99 per 10 s window (ms): 270.5, 38.6.');
    expect(shown).toContain('- pipeline recordEvent answer p99 per 10 s window (ms): 91.6, 12.0.');
  });

  it('checks the soak: queue flat, p99 < 250 ms, and RSS', () => {
    const soak = (p99: number, grows: boolean): DatabaseResults => ({
      kind: 'mysql',
      soak: {
        minutes: 10, rate: 2000, warmupSeconds: 60, samples: 300,
        rss: { stable: true, referenceBytes: 400 * 2 ** 20, finalBytes: 420 * 2 ** 20, maxDeviation: 0.05, minBytes: 300 * 2 ** 20, maxBytes: 480 * 2 ** 20, trendBytesPerMinute: 0 } as never,
        endToEnd: { count: 1_000_000, p50: 9, p95: 30, p99, max: p99 * 3 },
        queue: { growthPerSecond: grows ? 8.5 : 0, finalDepth: grows ? 44_681 : 2, maxDepth: grows ? 44_681 : 90, grows },
      },
      peakRssBytes: 0,
    });
    const held = renderDatabase(soak(143, false), options, 'undici');
    expect(held).toContain('| soak 10 min at 2,000 events/s: queue growth (deliveries/s) | 0.00 (max depth 90, final 2) | | | does not grow | ✅ |');
    expect(held).toContain('| 9.0 / 30.0 / 143.0 | | | p99 < 250 | ✅ |');
    expect(held).toContain('| within ±10 % | ✅ |');
    const behind = renderDatabase(soak(124_858.8, true), options, 'undici');
    expect(behind).toContain('| does not grow | ❌ |');
    expect(behind).toContain('| p99 < 250 | ❌ |');
    // At a rate given by hand, only RSS is checked.
    const byHand = renderDatabase(soak(124_858.8, true), { ...options, pipelineRate: 200 }, 'undici');
    expect(byHand).toContain('| does not grow |  |');
    expect(byHand).toContain('| p99 < 250 |  |');
    expect(byHand).toContain('| within ±10 % | ✅ |');
  });

  it('checks no soak target on the worker layout, whose RSS samples are the API\'s alone', () => {
    const onWorker = renderDatabase({ kind: 'mysql', soak: { minutes: 10, rate: 2000, warmupSeconds: 60, samples: 300, rss: { stable: true, referenceBytes: 1, finalBytes: 1, maxDeviation: 0, minBytes: 1, maxBytes: 1, trendBytesPerMinute: 0 } as never, endToEnd: { count: 1, p50: 9, p95: 30, p99: 143, max: 200 }, queue: { growthPerSecond: 0, finalDepth: 2, maxDepth: 90, grows: false } }, peakRssBytes: 0 }, { ...options, layout: 'worker' }, 'undici');
    expect(onWorker).toContain('(--layout worker: API and worker)');
    expect(onWorker).toContain('| within ±10 % |  |');
    expect(onWorker).not.toContain('✅');
  });
});

describe('bench report: the drains', () => {
  const bare = (sender: 'got' | 'undici', rate: number) => ({ sender, rate, ok: 20_000, failed: 0, cpuMicrosPerRequest: { sender: 30, receiver: 20 } });
  const drain = (warmup: number, rate: number) => ({
    sender: 'undici' as const, deliveries: 20_000 + warmup, warmup, arrived: 19_990, delivered: 20_000 + warmup, rate, secondsFirstToLast: 4, cpuMicrosPerPostback: { service: 150 },
  });
  const results = (warmup: number, rate: number): DatabaseResults => ({
    kind: 'mysql',
    dispatch: { got: { ...drain(warmup, 2_000), sender: 'got' }, undici: drain(warmup, rate), bareGot: bare('got', 4_000), bareUndici: bare('undici', 20_000) },
    peakRssBytes: 0,
  });
  const options = { concurrency: 64, batchConcurrency: 8, deliveries: 20_000 };

  it('says which drains were measured after a warm-up, and checks the undici drain against bare undici (≥ 0.35)', () => {
    const warm = renderDatabase(results(2_000, 7_200), options, 'undici');
    expect(warm).toContain('| drain 20,000 queued (after 2,000 unmeasured), DISPATCH_SENDER=undici (default) (postbacks/s) | 7,200 | 20,000 (bare undici) | 0.36 | ≥ 0.35 | ✅ |');
    expect(warm).toContain('- drain with undici: 19,990 arrivals measured, after 2,000 unmeasured, for 22,000 deliveries (22,000 DELIVERED)');
    const cold = renderDatabase(results(0, 6_800), options, 'undici');
    expect(cold).toContain('| drain 20,000 queued (measured cold), DISPATCH_SENDER=undici (default) (postbacks/s) | 6,800 | 20,000 (bare undici) | 0.34 | ≥ 0.35 | ❌ |');
    expect(cold).toContain('- drain with undici: 19,990 arrivals measured (cold) for 20,000 deliveries');
  });
});

describe('bench report: the redeliver phase', () => {
  const pipelineWith = (callP99: number) => ({
    rate: 1000, seconds: 60, sender: 'undici', sent: 60_000, accepted: 60_000, failed: 0, shed: 0, arrived: 60_000, missing: 0, duplicates: 0,
    callLatency: { count: 60_000, p50: 5, p95: 10, p99: callP99, max: callP99 * 2 },
    endToEnd: { count: 60_000, p50: 10, p95: 20, p99: 30, max: 60 },
    queue: { grows: false, slopePerSecond: 0, maxDepth: 10, lastDepth: 0 } as never,
    depthAfterDrain: 0, cpuMicrosPerEvent: {}, peakRssBytes: 0,
  });
  const options = { concurrency: 64, batchConcurrency: 8, deliveries: 20_000 };

  it.each([
    [30, '✅'],
    [41, '❌'],
  ])('compares recordEvent answer p99 %d ms during redeliverMany with 20 ms without (≤ 2 ×): %s', (withP99, verdict) => {
    const results: DatabaseResults = {
      kind: 'mysql',
      pipeline: pipelineWith(20),
      redeliver: { queued: 40_000, skipped: 0, callMs: 900, pipeline: pipelineWith(withP99) },
      peakRssBytes: 0,
    };
    const text = renderDatabase(results, options, 'undici');
    expect(text).toContain(`| recordEvent answer p99 (ms) while redeliverMany re-queues 40,000 | ${withP99}.0 with | 20.0 without |`);
    expect(text).toContain(`| ≤ 2 × | ${verdict} |`);
    expect(text).toContain('redeliverMany queued 40,000 (skipped 0) and answered in 900 ms');
  });

  it('leaves the redeliver phase unchecked on the worker layout', () => {
    const results: DatabaseResults = { kind: 'mysql', pipeline: pipelineWith(20), redeliver: { queued: 40_000, skipped: 0, callMs: 900, pipeline: pipelineWith(30) }, peakRssBytes: 0 };
    expect(renderDatabase(results, { ...options, layout: 'worker' }, 'undici')).toContain('| ≤ 2 × |  |');
  });
});

describe('mergeRounds', () => {
  it('adds up rounds into one rate and one latency distribution', () => {
    const { mergeRounds } = jest.requireActual('../../../bench/lib/load') as typeof import('../../../bench/lib/load');
    const round = (ok: number, seconds: number, latencies: number[], firstError: string | null = null) => ({
      ok, failed: firstError ? 1 : 0, measuredSeconds: seconds, rate: ok / seconds, latency: summarizeLatencies(latencies), firstError, latencies,
    });
    const merged = mergeRounds([round(100, 5, [1, 2]), round(300, 5, [3, 4], 'boom')]);
    expect(merged).toMatchObject({ ok: 400, failed: 1, measuredSeconds: 10, rate: 40, firstError: 'boom' });
    expect(merged.latency).toMatchObject({ count: 4, p50: 2, max: 4 });
  });
});
