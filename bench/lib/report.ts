// The benchmark's figures as markdown, beside the bare programs' and the ratio, with each
// target checked. Pure: the run hands it the results.
import type { ServerWrites } from './database';
import type { ClosedLoopResult } from './load';
import type { BenchDatabase, BenchOptions } from './options';
import type { LatencySummary, QueueVerdict, RssVerdict } from './stats';

export interface DrainResult {
  sender: 'got' | 'undici';
  /** Queued, the warm-up's included. */
  deliveries: number;
  /** Arrivals before the measured window opened (the service compiling its hot paths). */
  warmup: number;
  /** Requests the receiver got in the measured window (at least once: may exceed deliveries). */
  arrived: number;
  /** Deliveries DELIVERED in the database at the end. */
  delivered: number;
  /** Postbacks per second from the first arrival to the last. */
  rate: number;
  secondsFirstToLast: number;
  cpuMicrosPerPostback: Record<string, number>;
}

export interface BareSendResult {
  sender: 'got' | 'undici';
  rate: number;
  ok: number;
  failed: number;
  cpuMicrosPerRequest: { sender: number; receiver: number };
}

export interface PipelineResult {
  rate: number;
  seconds: number;
  sender: string;
  sent: number;
  accepted: number;
  failed: number;
  shed: number;
  arrived: number;
  missing: number;
  duplicates: number;
  /** recordEvent call → its answer. */
  callLatency: LatencySummary;
  /** recordEvent call → the postback's arrival at the receiver. */
  endToEnd: LatencySummary;
  queue: QueueVerdict;
  depthAfterDrain: number;
  /** (seconds, live deliveries) while the load ran. */
  depthSamples?: [number, number][];
  /** End-to-end p99 of the events sent in each successive 10 s window. */
  p99ByWindow?: number[];
  /**
   * recordEvent's answer p99 in the same windows: beside p99ByWindow, it tells whether a slow
   * window's events waited to be stored (the answer) or to be sent (after it).
   */
  answerP99ByWindow?: number[];
  /** The service's longest event-loop stall between two /metrics scrapes (ms). */
  loopLagMaxMs?: number[];
  cpuMicrosPerEvent: Record<string, number>;
  /** The MySQL server's writes per accepted event, from the window's start until the queue was empty after it. */
  serverWritesPerEvent?: ServerWrites;
  peakRssBytes: number;
}

export interface SoakResult {
  minutes: number;
  rate: number;
  warmupSeconds: number;
  rss: RssVerdict;
  endToEnd: LatencySummary;
  queue: QueueVerdict;
  samples: number;
  /** As the pipeline's (absent when the queue did not empty after the soak). */
  serverWritesPerEvent?: ServerWrites;
  /** Highest RSS and V8 heap in use in each minute of the soak (bytes). */
  rssMaxByMinute?: number[];
  heapMaxByMinute?: number[];
}

export interface DatabaseResults {
  kind: BenchDatabase;
  ingest?: {
    service: ClosedLoopResult;
    bare: ClosedLoopResult;
    serviceCpuMicros: Record<string, number>;
    bareCpuMicros: Record<string, number>;
    rounds?: number;
    /** MySQL's writes per event row written, over the rounds (warmups included). */
    serviceWrites?: ServerWrites;
    bareWrites?: ServerWrites;
  };
  batch?: {
    requests: ClosedLoopResult;
    eventsPerSecond: number;
    batchSize: number;
    cpuMicrosPerEvent: Record<string, number>;
    /** As the single-event phase's. */
    serviceWrites?: ServerWrites;
    /** The bare INSERT server on the same bodies: one multi-row INSERT per request. */
    bare?: { requests: ClosedLoopResult; eventsPerSecond: number; cpuMicrosPerEvent: Record<string, number>; writes?: ServerWrites };
  };
  dispatch?: { got: DrainResult; undici: DrainResult; bareGot: BareSendResult; bareUndici: BareSendResult };
  pipeline?: PipelineResult;
  purge?: PurgeResult;
  redeliver?: RedeliverBenchResult;
  soak?: SoakResult;
  /** The highest VmHWM of any service process of this database's run. */
  peakRssBytes: number;
  /** The database server's version and the settings that decide write throughput (MySQL). */
  server?: string;
}

export interface PurgeResult {
  seededRows: number;
  seedSeconds: number;
  purgedRows: number;
  /** Every seeded row went before the run ended. */
  finished: boolean;
  purgeSeconds: number;
  rowsPerSecond: number;
  /** Rows purged while the pipeline's measured window ran. */
  purgedWhileMeasured: number;
  /** The pipeline run beside the purge. */
  pipeline: PipelineResult;
}

/** The pipeline again while one redeliverMany re-queues the dispatch phase's finished deliveries. */
export interface RedeliverBenchResult {
  queued: number;
  skipped: number;
  /** How long the redeliverMany call took to answer (ms). */
  callMs: number;
  pipeline: PipelineResult;
}

/** The targets of issue #18 (MySQL, this machine), checked in the MySQL table. */
export const TARGETS = {
  /** single recordEvent ≥ this × the bare INSERT server */
  singleVsBare: 0.8,
  /** recordEvents × 100 ≥ this × the bare server doing one 100-row INSERT per request */
  batchVsBare: 0.8,
  /** drain with the default sender ≥ this × bare undici, and ≥ 1.0 × bare got */
  drainVsBareUndici: 0.35,
  drainVsBareGot: 1.0,
  /** pipeline at half the single-event peak: end-to-end p99 below this (ms), queue flat */
  pipelineP99Ms: 50,
  /** CPU per event in the pipeline at most (µs): the service, and MariaDB */
  pipelineServiceCpuMicros: 200,
  pipelineDatabaseCpuMicros: 100,
  /** soak: queue flat, end-to-end p99 below this (ms), RSS within ±10 % */
  soakP99Ms: 250,
  /** recordEvent's answer p99 while redeliverMany runs, at most this × without */
  redeliverP99Factor: 2,
} as const;

export const RESULTS_START = '<!-- bench:results:start -->';
export const RESULTS_END = '<!-- bench:results:end -->';

/** Replaces the marked results section of a markdown document, or appends one. */
export function replaceResultsSection(document: string, results: string): string {
  const block = `${RESULTS_START}\n${results.trim()}\n${RESULTS_END}`;
  const start = document.indexOf(RESULTS_START);
  const end = document.indexOf(RESULTS_END);
  if (start >= 0 && end > start) return document.slice(0, start) + block + document.slice(end + RESULTS_END.length);
  return `${document.trimEnd()}\n\n${block}\n`;
}

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '–';
}

function mark(ok: boolean | null): string {
  return ok === null ? '' : ok ? '✅' : '❌';
}

function atLeast(a: number, b: number, factor: number): boolean | null {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b >= factor : null;
}

function atMost(value: number | undefined, limit: number): boolean | null {
  return value !== undefined && Number.isFinite(value) ? value <= limit : null;
}

function mb(bytes: number): string {
  return Number.isFinite(bytes) && bytes > 0 ? `${fmt(bytes / 2 ** 20)} MB` : '–';
}

function serverWritesLine(w: ServerWrites): string {
  return `redo ${fmt(w.redoGenerated)} B generated, ${fmt(w.redoBytes)} B written, data files ${fmt(w.dataBytes)} B, ${fmt(w.commits, 2)} COMMITs, rows inserted ${fmt(w.rowsInserted, 2)}, updated ${fmt(w.rowsUpdated, 2)}, deleted ${fmt(w.rowsDeleted, 2)}`;
}

function cpuLine(cpu: Record<string, number>): string {
  const names: Record<string, string> = { service: 'service', database: 'MariaDB', generator: 'load generator', receiver: 'receiver', bare: 'bare server' };
  return Object.entries(cpu)
    .filter(([, v]) => Number.isFinite(v))
    .map(([k, v]) => `${names[k] ?? k} ${fmt(v)}`)
    .join(', ');
}

function latencyLine(l: LatencySummary): string {
  return `p50 ${fmt(l.p50, 1)} / p95 ${fmt(l.p95, 1)} / p99 ${fmt(l.p99, 1)} ms (max ${fmt(l.max, 1)}, n = ${fmt(l.count)})`;
}

export function renderDatabase(
  r: DatabaseResults,
  options: Pick<BenchOptions, 'concurrency' | 'batchConcurrency' | 'deliveries'> & Partial<Pick<BenchOptions, 'pipelineRate' | 'layout'>>,
  defaultSender: string,
): string {
  // The pipeline's targets hold for the layout #18 set them on: half the peak, inline dispatcher.
  const onWorker = options.layout === 'worker';
  const workerNote = onWorker ? '--layout worker: API and worker' : null;
  const pipelineChecked = options.pipelineRate == null && !onWorker;
  const pipelineNotes = [options.pipelineRate == null ? null : '--rate', workerNote].filter(Boolean);
  const pipelineAt = pipelineNotes.length > 0 ? ` (${pipelineNotes.join(', ')})` : '';
  const title = r.kind === 'mysql' ? 'MySQL (MariaDB)' : 'SQLite (better-sqlite3)';
  const targetsApply = r.kind === 'mysql';
  const t = (ok: boolean | null) => (targetsApply ? mark(ok) : '');
  const rows: string[] = [];
  const details: string[] = [];
  rows.push('| measure | service | bare program | ratio | target | met |', '| --- | ---: | ---: | ---: | --- | :---: |');

  if (r.ingest) {
    const { service, bare } = r.ingest;
    rows.push(`| single recordEvent, dispatcher off (req/s, ${options.concurrency} in flight) | ${fmt(service.rate)} | ${fmt(bare.rate)} (bare INSERT server) | ${ratio(service.rate, bare.rate)} | ≥ ${TARGETS.singleVsBare} | ${t(atLeast(service.rate, bare.rate, TARGETS.singleVsBare))} |`);
    details.push(`- single recordEvent${r.ingest.rounds ? ` (${r.ingest.rounds} alternating rounds with the bare server)` : ''}: answer ${latencyLine(service.latency)}; bare INSERT ${latencyLine(bare.latency)}.`);
    details.push(`- CPU µs per request: service run: ${cpuLine(r.ingest.serviceCpuMicros)}; bare run: ${cpuLine(r.ingest.bareCpuMicros)}.`);
    if (r.ingest.serviceWrites && r.ingest.bareWrites) details.push(`- MariaDB writes per event: service run: ${serverWritesLine(r.ingest.serviceWrites)}; bare run: ${serverWritesLine(r.ingest.bareWrites)}.`);
    if (service.failed + bare.failed > 0) details.push(`- failed requests: service ${service.failed}, bare ${bare.failed}; first: ${service.firstError ?? bare.firstError}`);
  }
  if (r.batch) {
    const single = r.ingest?.service.rate ?? Number.NaN;
    const bareBatch = r.batch.bare;
    if (bareBatch) {
      rows.push(
        `| recordEvents × ${r.batch.batchSize} vs bare ${r.batch.batchSize}-row INSERT server (events/s, ${options.batchConcurrency} calls in flight) | ${fmt(r.batch.eventsPerSecond)} | ${fmt(bareBatch.eventsPerSecond)} (bare ${r.batch.batchSize}-row INSERT) | ${ratio(r.batch.eventsPerSecond, bareBatch.eventsPerSecond)} | ≥ ${TARGETS.batchVsBare} | ${t(atLeast(r.batch.eventsPerSecond, bareBatch.eventsPerSecond, TARGETS.batchVsBare))} |`,
      );
    }
    rows.push(`| recordEvents × ${r.batch.batchSize} against single recordEvent (events/s) | ${fmt(r.batch.eventsPerSecond)} | ${fmt(single)} (single recordEvent) | ${ratio(r.batch.eventsPerSecond, single)} | | |`);
    details.push(`- recordEvents: answer ${latencyLine(r.batch.requests.latency)}; CPU µs per event: ${cpuLine(r.batch.cpuMicrosPerEvent)}.`);
    if (bareBatch) details.push(`- bare ${r.batch.batchSize}-row INSERT server: answer ${latencyLine(bareBatch.requests.latency)}; CPU µs per event: ${cpuLine(bareBatch.cpuMicrosPerEvent)}.`);
    if (r.batch.serviceWrites && bareBatch?.writes) details.push(`- recordEvents MariaDB writes per event: service run: ${serverWritesLine(r.batch.serviceWrites)}; bare run: ${serverWritesLine(bareBatch.writes)}.`);
  }
  if (r.dispatch) {
    const { got, undici, bareGot, bareUndici } = r.dispatch;
    for (const drain of [got, undici]) {
      const isDefault = drain.sender === defaultSender;
      const label = `drain ${fmt(drain.deliveries - drain.warmup)} queued (${drain.warmup > 0 ? `after ${fmt(drain.warmup)} unmeasured` : 'measured cold'}), DISPATCH_SENDER=${drain.sender}${isDefault ? ' (default)' : ''} (postbacks/s)`;
      rows.push(`| ${label} | ${fmt(drain.rate)} | ${fmt(bareUndici.rate)} (bare undici) | ${ratio(drain.rate, bareUndici.rate)} | ≥ ${TARGETS.drainVsBareUndici} | ${isDefault ? t(atLeast(drain.rate, bareUndici.rate, TARGETS.drainVsBareUndici)) : ''} |`);
      rows.push(`| 〃 | 〃 | ${fmt(bareGot.rate)} (bare got) | ${ratio(drain.rate, bareGot.rate)} | ≥ ${TARGETS.drainVsBareGot.toFixed(1)} | ${isDefault ? t(atLeast(drain.rate, bareGot.rate, TARGETS.drainVsBareGot)) : ''} |`);
      details.push(`- drain with ${drain.sender}: ${fmt(drain.arrived)} arrivals measured${drain.warmup > 0 ? `, after ${fmt(drain.warmup)} unmeasured,` : ' (cold)'} for ${fmt(drain.deliveries)} deliveries (${fmt(drain.delivered)} DELIVERED) in ${fmt(drain.secondsFirstToLast, 1)} s; CPU µs per postback: ${cpuLine(drain.cpuMicrosPerPostback)}.`);
    }
    details.push(`- bare senders, CPU µs per request: got ${fmt(bareGot.cpuMicrosPerRequest.sender)} (receiver ${fmt(bareGot.cpuMicrosPerRequest.receiver)}), undici ${fmt(bareUndici.cpuMicrosPerRequest.sender)} (receiver ${fmt(bareUndici.cpuMicrosPerRequest.receiver)}).`);
  }
  if (r.pipeline) {
    const p = r.pipeline;
    // The targets are for half the single-event peak; at a rate given with --rate the figures are shown unchecked.
    const at = options.pipelineRate == null ? ` (${['half the single-event peak', workerNote].filter(Boolean).join(', ')})` : pipelineAt;
    const tp = (ok: boolean | null) => (pipelineChecked ? t(ok) : '');
    rows.push(`| pipeline at ${fmt(p.rate)} events/s${at} for ${fmt(p.seconds)} s: queue growth (deliveries/s) | ${fmt(p.queue.growthPerSecond, 1)} (max depth ${fmt(p.queue.maxDepth)}, final ${fmt(p.queue.finalDepth)}) | | | does not grow | ${tp(!p.queue.grows && p.shed === 0)} |`);
    rows.push(`| pipeline: recordEvent → postback arrival p50 / p95 / p99 (ms) | ${fmt(p.endToEnd.p50, 1)} / ${fmt(p.endToEnd.p95, 1)} / ${fmt(p.endToEnd.p99, 1)} | | | p99 < ${TARGETS.pipelineP99Ms} | ${tp(Number.isFinite(p.endToEnd.p99) && p.endToEnd.p99 < TARGETS.pipelineP99Ms && p.missing === 0)} |`);
    rows.push(`| pipeline: ${onWorker ? 'API process (the worker\'s is in the details)' : 'service'} CPU per event (µs) | ${fmt(p.cpuMicrosPerEvent.service ?? Number.NaN)} | | | ≤ ${TARGETS.pipelineServiceCpuMicros} | ${tp(atMost(p.cpuMicrosPerEvent.service, TARGETS.pipelineServiceCpuMicros))} |`);
    if (r.kind === 'mysql') {
      rows.push(`| pipeline: MariaDB CPU per event (µs) | ${fmt(p.cpuMicrosPerEvent.database ?? Number.NaN)} | | | ≤ ${TARGETS.pipelineDatabaseCpuMicros} | ${tp(atMost(p.cpuMicrosPerEvent.database, TARGETS.pipelineDatabaseCpuMicros))} |`);
    }
    details.push(`- pipeline (DISPATCH_SENDER ${p.sender}): ${fmt(p.sent)} sent, ${fmt(p.accepted)} accepted, ${fmt(p.failed)} failed, ${fmt(p.shed)} shed; ${fmt(p.arrived)} postbacks matched, ${fmt(p.missing)} missing, ${fmt(p.duplicates)} duplicates; queue ${fmt(p.depthAfterDrain)} after drain.`);
    details.push(`- pipeline recordEvent answer ${latencyLine(p.callLatency)}; end to end ${latencyLine(p.endToEnd)}; CPU µs per event: ${cpuLine(p.cpuMicrosPerEvent)}.`);
    if (p.serverWritesPerEvent) details.push(`- pipeline MariaDB writes per event: ${serverWritesLine(p.serverWritesPerEvent)}.`);
    if (p.p99ByWindow?.length) details.push(`- pipeline end-to-end p99 per 10 s window (ms): ${p.p99ByWindow.map((v) => fmt(v, 1)).join(', ')}.`);
    if (p.answerP99ByWindow?.length) details.push(`- pipeline recordEvent answer p99 per 10 s window (ms): ${p.answerP99ByWindow.map((v) => fmt(v, 1)).join(', ')}.`);
    if (p.loopLagMaxMs?.length) details.push(`- pipeline longest event-loop stall per 10 s (ms): ${p.loopLagMaxMs.map((v) => fmt(v)).join(', ')}.`);
    if (p.depthSamples?.length) details.push(`- pipeline queue depth (s: live deliveries): ${p.depthSamples.map(([at, d]) => `${at}: ${d}`).join(', ')}.`);
  }
  if (r.purge) {
    const u = r.purge;
    const p = u.pipeline;
    const without = r.pipeline ? `${fmt(r.pipeline.endToEnd.p99, 1)} without` : 'pipeline phase not run';
    rows.push(`| pipeline p99 (ms) while ${fmt(u.seededRows)} old rows are purged | ${fmt(p.endToEnd.p99, 1)} with purge | ${without} | ${r.pipeline ? ratio(p.endToEnd.p99, r.pipeline.endToEnd.p99) : ''} | | |`);
    rows.push(`| purge rate (rows/s, beside the pipeline) | ${fmt(u.rowsPerSecond)} | | | | |`);
    details.push(`- purge: ${fmt(u.seededRows)} rows (events, deliveries, attempts) seeded in ${fmt(u.seedSeconds)} s; ${fmt(u.purgedRows)} purged${u.finished ? '' : ' (NOT finished when the run ended)'} in ${fmt(u.purgeSeconds)} s, ${fmt(u.purgedWhileMeasured)} of them during the measured window; pipeline beside it: end to end ${latencyLine(p.endToEnd)}, ${fmt(p.missing)} missing, queue max depth ${fmt(p.queue.maxDepth)}.`);
    if (p.p99ByWindow?.length) details.push(`- pipeline with purge, end-to-end p99 per 10 s window (ms): ${p.p99ByWindow.map((v) => fmt(v, 1)).join(', ')}.`);
  }
  if (r.redeliver) {
    const u = r.redeliver;
    const p = u.pipeline;
    const without = r.pipeline ? `${fmt(r.pipeline.callLatency.p99, 1)} without` : 'pipeline phase not run';
    rows.push(`| recordEvent answer p99 (ms) while redeliverMany re-queues ${fmt(u.queued)} | ${fmt(p.callLatency.p99, 1)} with | ${without} | ${r.pipeline ? ratio(p.callLatency.p99, r.pipeline.callLatency.p99) : ''} | ≤ ${TARGETS.redeliverP99Factor} × | ${onWorker ? '' : t(r.pipeline !== undefined && p.callLatency.p99 <= TARGETS.redeliverP99Factor * r.pipeline.callLatency.p99)} |`);
    details.push(`- redeliver: redeliverMany queued ${fmt(u.queued)} (skipped ${fmt(u.skipped)}) and answered in ${fmt(u.callMs)} ms, at the start of the measured window; pipeline beside it: recordEvent answer ${latencyLine(p.callLatency)}; end to end ${latencyLine(p.endToEnd)} (the redelivered postbacks share the dispatcher), ${fmt(p.missing)} missing.`);
  }
  rows.push(`| service peak RSS (VmHWM, any phase) | ${mb(r.peakRssBytes)} | | | | |`);
  if (r.soak) {
    const s = r.soak;
    // Like the pipeline's, the soak's queue and p99 targets are for half the single-event peak.
    const ts = (ok: boolean | null) => (pipelineChecked ? t(ok) : '');
    rows.push(`| soak ${fmt(s.minutes)} min at ${fmt(s.rate)} events/s${pipelineAt}: queue growth (deliveries/s) | ${fmt(s.queue.growthPerSecond, 2)} (max depth ${fmt(s.queue.maxDepth)}, final ${fmt(s.queue.finalDepth)}) | | | does not grow | ${ts(!s.queue.grows)} |`);
    rows.push(`| soak: recordEvent → postback arrival p50 / p95 / p99 (ms) | ${fmt(s.endToEnd.p50, 1)} / ${fmt(s.endToEnd.p95, 1)} / ${fmt(s.endToEnd.p99, 1)} | | | p99 < ${TARGETS.soakP99Ms} | ${ts(Number.isFinite(s.endToEnd.p99) && s.endToEnd.p99 < TARGETS.soakP99Ms)} |`);
    rows.push(`| soak: mean RSS, last third vs first third after ${fmt(s.warmupSeconds)} s | ${mb(s.rss.finalBytes)} vs ${mb(s.rss.referenceBytes)} (${s.rss.finalBytes >= s.rss.referenceBytes ? '+' : '−'}${fmt(s.rss.maxDeviation * 100, 1)} %) | | | within ±10 % | ${onWorker ? '' : t(s.rss.stable)} |`);
    details.push(`- soak: end to end ${latencyLine(s.endToEnd)}; queue growth ${fmt(s.queue.growthPerSecond, 2)}/s, max depth ${fmt(s.queue.maxDepth)}; RSS ${mb(s.rss.minBytes)} to ${mb(s.rss.maxBytes)} (it saws with the garbage collector), trend ${fmt(s.rss.trendBytesPerMinute / 2 ** 20, 1)} MB/min over ${s.samples} samples.`);
    if (s.serverWritesPerEvent) details.push(`- soak MariaDB writes per event: ${serverWritesLine(s.serverWritesPerEvent)}.`);
    if (s.rssMaxByMinute?.length) details.push(`- soak RSS, highest per minute (MB): ${s.rssMaxByMinute.map((b) => fmt(b / 2 ** 20)).join(', ')}.`);
    if (s.heapMaxByMinute?.length) details.push(`- soak V8 heap in use, highest per minute (MB): ${s.heapMaxByMinute.map((b) => fmt(b / 2 ** 20)).join(', ')}.`);
  }
  const note = targetsApply ? '' : '\n(The targets are set for MySQL; SQLite is shown for comparison.)\n';
  const server = r.server ? `Server: ${r.server}.\n\n` : '';
  return `### ${title}\n\n${server}${rows.join('\n')}\n${note}\n${details.join('\n')}\n`;
}

export function renderReport(results: DatabaseResults[], meta: { startedAt: Date; finishedAt: Date; options: BenchOptions; machine: string; defaultSender?: string }): string {
  const o = meta.options;
  const minutes = (meta.finishedAt.getTime() - meta.startedAt.getTime()) / 60_000;
  const head = [
    `## Latest run`,
    '',
    `${meta.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${fmt(minutes, 1)} min, ${meta.machine}.`,
    `Settings: ${o.warmupSeconds}+${o.durationSeconds} s per ingest phase (single events: ${o.rounds} alternating rounds), ${o.concurrency} in flight, batches of ${o.batchSize} with ${o.batchConcurrency} in flight, ${fmt(o.deliveries)} deliveries per drain (after ${fmt(o.drainWarmup)} unmeasured), pipeline ${o.pipelineSeconds} s${o.pipelineRate ? ` at ${o.pipelineRate}/s` : ' at half the single-event rate'}${o.layout === 'worker' ? ', dispatched by an `npm run worker` beside an API with DISPATCHER=off (--layout worker)' : ''}.`,
    '',
  ];
  return [...head, ...results.map((r) => renderDatabase(r, o, meta.defaultSender ?? 'got'))].join('\n');
}
