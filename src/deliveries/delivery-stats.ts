// Delivery statistics kept as hourly rollups: pure arithmetic (no I/O). The store adds the
// deltas of what it records (a delivery queued, an attempt, a final status) to one rollup row
// per (hour the delivery was created, callback), and `deliveryStats` sums the rows of a
// window, so a question about millions of deliveries reads a few thousand small rows instead
// of scanning deliveries.
//
// Figures belong to the hour the *delivery was created* in (the contract: "the deliveries
// created in [from, to) and their attempts"), so a delivery's later attempts and final
// status update its creation hour's row.

export enum StatsBucket {
  HOUR = 'HOUR',
  DAY = 'DAY',
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Upper bounds (inclusive, ms) of the latency histogram's buckets; the last is open. Roughly
 * logarithmic, so a percentile read from it is off by at most its bucket's width: a few ms
 * under 50 ms, about a third of the value above.
 */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = [
  1, 2, 3, 5, 7, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500,
  10_000, 15_000, 20_000, 30_000, 60_000, Number.POSITIVE_INFINITY,
];
export const LATENCY_BUCKETS = LATENCY_BUCKET_BOUNDS_MS.length;
/** Rollup columns `lat00`…`lat30`, one per bucket. */
export const LATENCY_COLUMNS: readonly string[] = LATENCY_BUCKET_BOUNDS_MS.map((_, i) => `lat${String(i).padStart(2, '0')}`);
/** The most error classes a summary names. */
export const TOP_ERRORS = 5;
/** An error class is cut to this many characters, so rollup keys stay small. */
export const ERROR_CLASS_MAX_LENGTH = 120;

export function latencyBucketIndex(latencyMs: number): number {
  const ms = Math.max(0, latencyMs);
  let lo = 0;
  let hi = LATENCY_BUCKETS - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= LATENCY_BUCKET_BOUNDS_MS[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The p-th percentile (0 < p ≤ 1) of a latency histogram: the bucket holding the rank
 * ⌈p·n⌉, interpolated linearly inside it; the open last bucket reports its lower bound.
 * Null for an empty histogram.
 */
export function percentileFromHistogram(counts: readonly number[], p: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (c === 0) continue;
    if (seen + c >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BUCKET_BOUNDS_MS[i - 1]!;
      const upper = LATENCY_BUCKET_BOUNDS_MS[i]!;
      if (!Number.isFinite(upper)) return lower;
      return Math.round(lower + ((upper - lower) * (rank - seen)) / c);
    }
    seen += c;
  }
  return null;
}

export function hourStart(date: Date): Date {
  return new Date(Math.floor(date.getTime() / HOUR_MS) * HOUR_MS);
}

export function bucketStart(date: Date, bucket: StatsBucket): Date {
  const size = bucket === StatsBucket.DAY ? DAY_MS : HOUR_MS;
  return new Date(Math.floor(date.getTime() / size) * size);
}

/** The window a stats question covers: `from` rounded down and `to` up to the UTC hour. */
export function statsWindow(from: Date, to: Date): { from: Date; to: Date } {
  const start = hourStart(from);
  const end = to.getTime() % HOUR_MS === 0 ? new Date(to.getTime()) : new Date(hourStart(to).getTime() + HOUR_MS);
  return { from: start, to: end };
}

/** A short, stable name for what went wrong in an attempt, to count alike failures together. */
export function errorClass(attempt: { statusCode: number | null; error: string | null }): string | null {
  if (attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300) return null;
  const error = attempt.error ?? '';
  const code = /\b(E[A-Z]{3,}|UND_ERR_[A-Z_]+)\b/.exec(error)?.[1];
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (/timed out/i.test(error) || code === 'ETIMEDOUT') return 'timeout';
  if (attempt.statusCode !== null) return `HTTP ${attempt.statusCode}`;
  if (code) return code;
  if (error === '') return 'unknown error';
  // Ids, addresses and numbers vary between alike errors: fold them.
  const folded = error
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '…')
    .replace(/\d+/g, 'N');
  return folded.slice(0, ERROR_CLASS_MAX_LENGTH);
}

/** What the store records, as the rollup sees it. */
export type StatsEvent =
  | { kind: 'queued'; key: RollupKey }
  | { kind: 'attempt'; key: RollupKey; latencyMs: number; statusCode: number | null; error: string | null }
  /** A delivery reached DELIVERED or FAILED. */
  | { kind: 'final'; key: RollupKey; status: 'DELIVERED' | 'FAILED' }
  /** A DELIVERED or FAILED delivery went back into the queue (redeliver). */
  | { kind: 'reopened'; key: RollupKey; from: 'DELIVERED' | 'FAILED' };

export interface RollupKey {
  /** When the delivery was created; its hour is the row's. */
  deliveryCreatedAt: Date;
  appId: string;
  networkId: string | null;
  callbackId: string;
}

export interface RollupDelta {
  hour: Date;
  appId: string;
  networkId: string | null;
  callbackId: string;
  queued: number;
  delivered: number;
  failed: number;
  attempts: number;
  latency: number[];
}

export interface ErrorDelta {
  hour: Date;
  appId: string;
  networkId: string | null;
  callbackId: string;
  error: string;
  count: number;
}

/** Many recorded facts as one delta per rollup row (and per error class), for one upsert each. */
export function rollupDeltas(events: Iterable<StatsEvent>): { rows: RollupDelta[]; errors: ErrorDelta[] } {
  const rows = new Map<string, RollupDelta>();
  const errors = new Map<string, ErrorDelta>();
  for (const event of events) {
    const hour = hourStart(event.key.deliveryCreatedAt);
    const id = `${hour.getTime()}|${event.key.callbackId}`;
    let row = rows.get(id);
    if (!row) {
      row = {
        hour, appId: event.key.appId, networkId: event.key.networkId, callbackId: event.key.callbackId,
        queued: 0, delivered: 0, failed: 0, attempts: 0, latency: new Array<number>(LATENCY_BUCKETS).fill(0),
      };
      rows.set(id, row);
    }
    switch (event.kind) {
      case 'queued':
        row.queued += 1;
        break;
      case 'final':
        if (event.status === 'DELIVERED') row.delivered += 1;
        else row.failed += 1;
        break;
      case 'reopened':
        if (event.from === 'DELIVERED') row.delivered -= 1;
        else row.failed -= 1;
        break;
      case 'attempt': {
        row.attempts += 1;
        row.latency[latencyBucketIndex(event.latencyMs)]! += 1;
        const cls = errorClass(event);
        if (cls !== null) {
          const errorId = `${id}|${cls}`;
          const e = errors.get(errorId);
          if (e) e.count += 1;
          else errors.set(errorId, { hour, appId: row.appId, networkId: row.networkId, callbackId: row.callbackId, error: cls, count: 1 });
        }
        break;
      }
    }
  }
  return { rows: [...rows.values()], errors: [...errors.values()] };
}

/** One rollup row (or the sum of several) as read back. */
export interface RollupRow {
  hour: Date;
  queued: number;
  delivered: number;
  failed: number;
  attempts: number;
  latency: readonly number[];
}

export interface DeliveryStatsPoint {
  start: Date;
  queued: number;
  delivered: number;
  failed: number;
  attempts: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
}

export interface DeliveryStatsSummary {
  queued: number;
  delivered: number;
  failed: number;
  inProgress: number;
  attempts: number;
  successRate: number | null;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  p99LatencyMs: number | null;
  topErrors: { error: string; count: number }[];
  series: DeliveryStatsPoint[];
}

/**
 * The answer to deliveryStats from the rollup rows of the window and their error counts.
 * `series` holds a point for every bucket of the window, empty ones included, so a chart's
 * x-axis needs no gap filling.
 */
export function summarizeStats(input: {
  rows: readonly RollupRow[];
  errors: readonly { error: string; count: number }[];
  window: { from: Date; to: Date };
  bucket: StatsBucket;
}): DeliveryStatsSummary {
  const total = emptyPoint(input.window.from);
  const points = new Map<number, ReturnType<typeof emptyPoint>>();
  const first = bucketStart(input.window.from, input.bucket).getTime();
  const size = input.bucket === StatsBucket.DAY ? DAY_MS : HOUR_MS;
  for (let t = first; t < input.window.to.getTime(); t += size) points.set(t, emptyPoint(new Date(t)));
  for (const row of input.rows) {
    add(total, row);
    const point = points.get(bucketStart(row.hour, input.bucket).getTime());
    if (point) add(point, row);
  }
  const errorTotals = new Map<string, number>();
  for (const e of input.errors) errorTotals.set(e.error, (errorTotals.get(e.error) ?? 0) + e.count);
  const topErrors = [...errorTotals]
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, TOP_ERRORS)
    .map(([error, count]) => ({ error, count }));
  const finished = total.delivered + total.failed;
  return {
    queued: total.queued,
    delivered: total.delivered,
    failed: total.failed,
    inProgress: Math.max(0, total.queued - finished),
    attempts: total.attempts,
    successRate: finished === 0 ? null : total.delivered / finished,
    p50LatencyMs: percentileFromHistogram(total.latency, 0.5),
    p95LatencyMs: percentileFromHistogram(total.latency, 0.95),
    p99LatencyMs: percentileFromHistogram(total.latency, 0.99),
    topErrors,
    series: [...points.values()].map((p) => ({
      start: p.start,
      queued: p.queued,
      delivered: p.delivered,
      failed: p.failed,
      attempts: p.attempts,
      p50LatencyMs: percentileFromHistogram(p.latency, 0.5),
      p95LatencyMs: percentileFromHistogram(p.latency, 0.95),
    })),
  };
}

function emptyPoint(start: Date) {
  return { start, queued: 0, delivered: 0, failed: 0, attempts: 0, latency: new Array<number>(LATENCY_BUCKETS).fill(0) };
}

function add(into: ReturnType<typeof emptyPoint>, row: RollupRow): void {
  into.queued += row.queued;
  into.delivered += row.delivered;
  into.failed += row.failed;
  into.attempts += row.attempts;
  for (let i = 0; i < LATENCY_BUCKETS; i++) into.latency[i]! += row.latency[i] ?? 0;
}
