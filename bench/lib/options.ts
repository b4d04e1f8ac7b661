// `npm run bench -- [flags]`: parsed once into a typed object (pure, unit-tested).

export type BenchDatabase = 'mysql' | 'sqlite';
/**
 * Postbacks sent before a drain is measured: by every bare sender, and by the service, whose
 * drain is measured from the arrival after its first WARMUP_SENDS. A process that has just
 * started spends its first seconds compiling its hot paths; measured cold, the service's
 * drain of 20,000 paid for that and the bare senders did not.
 */
export const WARMUP_SENDS = 2000;

export const PHASES = ['ingest', 'batch', 'dispatch', 'pipeline', 'purge', 'redeliver'] as const;
export type Phase = (typeof PHASES)[number];

export interface BenchOptions {
  databases: BenchDatabase[];
  phases: Phase[];
  /** Measured seconds of each closed-loop ingest phase (service and bare INSERT server). */
  durationSeconds: number;
  /** Unmeasured seconds of load before each measured ingest phase. */
  warmupSeconds: number;
  /** The single-event phase alternates service and bare server this many times (durationSeconds split among them). */
  rounds: number;
  /** Requests in flight in the single-event phase. */
  concurrency: number;
  batchSize: number;
  /** Requests (batches) in flight in the batch phase. */
  batchConcurrency: number;
  /** Deliveries queued and drained per sender in the dispatch phase. */
  deliveries: number;
  /** Deliveries the service drains before the measured window (0: measured from its first, cold). */
  drainWarmup: number;
  pipelineSeconds: number;
  /** Events per second for the pipeline; null: half the peak measured in the ingest phase (or this DB's --rate fallback). */
  pipelineRate: number | null;
  /** The sender of the pipeline (and soak); null: the service's default. */
  pipelineSender: 'got' | 'undici' | null;
  /**
   * Who dispatches in the pipeline phases: `inline`, the API process itself (the default, and
   * the layout the targets are checked on); `worker`, an `npm run worker` process beside an API
   * started with DISPATCHER=off, the two joined by Redis (MySQL only; shown, not checked).
   */
  layout: 'inline' | 'worker';
  /** Redis for the worker layout. */
  redisUrl: string;
  /** Rows older than the retention window seeded for the purge phase (events, deliveries, attempts in equal parts). */
  purgeRows: number;
  soak: boolean;
  soakMinutes: number;
  /** Add --cpu-prof to the service processes; profiles go to this directory. */
  profileDir: string | null;
  mysqlUrl: string;
  /** Update the results section of BENCHMARKS.md. */
  write: boolean;
  /** Where the markdown goes. */
  outputFile: string;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  databases: ['mysql', 'sqlite'],
  phases: [...PHASES],
  durationSeconds: 15,
  warmupSeconds: 3,
  rounds: 3,
  concurrency: 64,
  batchSize: 100,
  batchConcurrency: 8,
  deliveries: 20_000,
  drainWarmup: WARMUP_SENDS,
  pipelineSeconds: 60,
  pipelineRate: null,
  pipelineSender: null,
  layout: 'inline',
  redisUrl: 'redis://127.0.0.1:6379',
  purgeRows: 1_000_000,
  soak: false,
  soakMinutes: 10,
  profileDir: null,
  mysqlUrl: 'mysql://root:@127.0.0.1:3306',
  write: true,
  outputFile: 'BENCHMARKS.md',
};

export const USAGE = `npm run bench -- [flags]
  --db mysql|sqlite|both     databases to run on, in this order (default both: mysql, then sqlite)
  --phases LIST              comma-separated: ingest,batch,dispatch,pipeline,purge,redeliver (default all)
  --duration S               measured seconds per ingest phase (default 15)
  --warmup S                 unmeasured load before each ingest phase (default 3)
  --rounds N                 service and bare INSERT server take turns N times in the single-event phase (default 3)
  --concurrency N            requests in flight, single-event phase (default 64)
  --batch-size N             events per recordEvents call (default 100)
  --batch-concurrency N      recordEvents calls in flight (default 8)
  --deliveries N             deliveries queued then drained, per sender (default 20000)
  --drain-warmup N           drained unmeasured before those, as the bare senders' first 2000 (default 2000; 0: measured cold)
  --pipeline-seconds S       length of the whole-pipeline phase (default 60)
  --rate N                   pipeline events/s (default: half the measured single-event peak)
  --sender got|undici        DISPATCH_SENDER of the pipeline and soak (default: the service's default)
  --layout inline|worker     who dispatches in the pipeline phases: the API process (default), or an
                             \`npm run worker\` beside an API with DISPATCHER=off, joined by Redis (needs --db mysql)
  --redis-url URL            Redis for --layout worker (default redis://127.0.0.1:6379; env BENCH_REDIS_URL)
  --purge-rows N             old rows seeded for the purge phase, purged while the pipeline runs (default 1000000)
  --soak                     also run the pipeline for --soak-minutes (default 10) and check RSS stays within ±10 %
  --soak-minutes M
  --profile DIR              run the service with --cpu-prof, profiles in DIR
  --mysql-url URL            server for the benchmark databases (default mysql://root:@127.0.0.1:3306; env BENCH_MYSQL_URL)
  --no-write                 print only; do not update BENCHMARKS.md
  --out FILE                 the markdown file to update (default BENCHMARKS.md)`;

export class OptionsError extends Error {}

export function parseBenchArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): BenchOptions {
  const options: BenchOptions = { ...DEFAULT_OPTIONS, databases: [...DEFAULT_OPTIONS.databases], phases: [...DEFAULT_OPTIONS.phases] };
  if (env.BENCH_MYSQL_URL) options.mysqlUrl = env.BENCH_MYSQL_URL;
  if (env.BENCH_REDIS_URL) options.redisUrl = env.BENCH_REDIS_URL;
  const args = [...argv];
  const value = (flag: string): string => {
    const v = args.shift();
    if (v === undefined || v.startsWith('--')) throw new OptionsError(`${flag} needs a value`);
    return v;
  };
  const positive = (flag: string, min = 1): number => {
    const raw = value(flag);
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new OptionsError(`${flag} must be a number ≥ ${min}, got "${raw}"`);
    return n;
  };
  const whole = (flag: string, min = 1): number => {
    const n = positive(flag, min);
    if (!Number.isInteger(n)) throw new OptionsError(`${flag} must be a whole number, got ${n}`);
    return n;
  };
  while (args.length > 0) {
    const raw = args.shift() as string;
    const [flag, inline] = raw.includes('=') ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)] : [raw, undefined];
    if (inline !== undefined) args.unshift(inline);
    switch (flag) {
      case '--db': {
        const v = value(flag);
        if (v === 'both') options.databases = ['mysql', 'sqlite'];
        else if (v === 'mysql' || v === 'sqlite') options.databases = [v];
        else throw new OptionsError(`--db must be mysql, sqlite or both, got "${v}"`);
        break;
      }
      case '--phases': {
        const list = value(flag).split(',').map((p) => p.trim()).filter(Boolean);
        for (const p of list) if (!(PHASES as readonly string[]).includes(p)) throw new OptionsError(`unknown phase "${p}" (phases: ${PHASES.join(', ')})`);
        // Always in the benchmark's order, whatever order they were named in.
        options.phases = PHASES.filter((p) => list.includes(p));
        break;
      }
      case '--duration':
        options.durationSeconds = positive(flag);
        break;
      case '--warmup':
        options.warmupSeconds = positive(flag, 0);
        break;
      case '--rounds':
        options.rounds = whole(flag);
        break;
      case '--concurrency':
        options.concurrency = whole(flag);
        break;
      case '--batch-size':
        options.batchSize = whole(flag);
        if (options.batchSize > 500) throw new OptionsError('--batch-size must be at most 500 (the recordEvents limit)');
        break;
      case '--batch-concurrency':
        options.batchConcurrency = whole(flag);
        break;
      case '--deliveries':
        options.deliveries = whole(flag, 2);
        break;
      case '--drain-warmup':
        options.drainWarmup = whole(flag, 0);
        break;
      case '--pipeline-seconds':
        options.pipelineSeconds = positive(flag);
        break;
      case '--rate':
        options.pipelineRate = positive(flag);
        break;
      case '--sender': {
        const v = value(flag);
        if (v !== 'got' && v !== 'undici') throw new OptionsError(`--sender must be got or undici, got "${v}"`);
        options.pipelineSender = v;
        break;
      }
      case '--layout': {
        const v = value(flag);
        if (v !== 'inline' && v !== 'worker') throw new OptionsError(`--layout must be inline or worker, got "${v}"`);
        options.layout = v;
        break;
      }
      case '--redis-url':
        options.redisUrl = value(flag);
        break;
      case '--purge-rows':
        options.purgeRows = whole(flag, 3);
        break;
      case '--soak':
        options.soak = true;
        break;
      case '--soak-minutes':
        options.soakMinutes = positive(flag);
        options.soak = true;
        break;
      case '--profile':
        options.profileDir = value(flag);
        break;
      case '--mysql-url':
        options.mysqlUrl = value(flag);
        break;
      case '--no-write':
        options.write = false;
        break;
      case '--out':
        options.outputFile = value(flag);
        break;
      default:
        throw new OptionsError(`unknown flag "${raw}"\n\n${USAGE}`);
    }
  }
  if (options.phases.length === 0 && !options.soak) throw new OptionsError('--phases names no phase');
  if (options.layout === 'worker' && options.databases.includes('sqlite')) {
    throw new OptionsError('--layout worker needs --db mysql: the worker and the API share one MySQL server (SQLite is for a single process)');
  }
  return options;
}
