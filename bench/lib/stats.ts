// Pure arithmetic for the benchmark's figures: no I/O, unit-tested in test/unit/bench.

/** The q-quantile (0..1) of `values` by the nearest-rank method; NaN for no values. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return quantileOfSorted(sorted, q);
}

export function quantileOfSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(Math.min(1, Math.max(0, q)) * sorted.length);
  return sorted[Math.max(0, rank - 1)] as number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarizeLatencies(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: quantileOfSorted(sorted, 0.5),
    p95: quantileOfSorted(sorted, 0.95),
    p99: quantileOfSorted(sorted, 0.99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
  };
}

/**
 * Events per second between the first and the last of a series of arrival times (ms): n arrivals
 * span n - 1 intervals. NaN with fewer than two arrivals or no time between them.
 */
export function rateBetween(count: number, firstMs: number, lastMs: number): number {
  if (count < 2 || !(lastMs > firstMs)) return Number.NaN;
  return ((count - 1) * 1000) / (lastMs - firstMs);
}

/** Least-squares slope of y over x (units of y per unit of x); 0 for fewer than two points or no spread in x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export interface QueueVerdict {
  /** Deliveries per second the backlog grew by (least-squares over the samples); negative: shrank. */
  growthPerSecond: number;
  finalDepth: number;
  maxDepth: number;
  grows: boolean;
}

/**
 * Whether a queue kept up with its input. Samples are (seconds since start, live deliveries).
 * It grows when the backlog's trend is more than 1 % of the input rate, or when it ends with
 * more than one second of input waiting: a queue that keeps up holds only what is in flight.
 */
export function queueVerdict(samples: readonly { atSeconds: number; depth: number }[], inputPerSecond: number): QueueVerdict {
  const growthPerSecond = slope(samples.map((s) => ({ x: s.atSeconds, y: s.depth })));
  const finalDepth = samples.length > 0 ? (samples[samples.length - 1] as { depth: number }).depth : 0;
  const maxDepth = samples.reduce((m, s) => Math.max(m, s.depth), 0);
  const grows = growthPerSecond > 0.01 * inputPerSecond || finalDepth > Math.max(1, inputPerSecond);
  return { growthPerSecond, finalDepth, maxDepth, grows };
}

export interface RssVerdict {
  /** Mean RSS (bytes) over the first third of the soak after the warm-up. */
  referenceBytes: number;
  /** Mean RSS (bytes) over the last third. */
  finalBytes: number;
  minBytes: number;
  maxBytes: number;
  /** |final − reference| / reference (0.1 = 10 %). */
  maxDeviation: number;
  /** Least-squares trend after the warm-up, bytes per minute. */
  trendBytesPerMinute: number;
  stable: boolean;
}

/**
 * RSS stability over a soak. A Node process's RSS saws up and down with its garbage collector
 * (V8 grows the heap between full collections and gives it back after), so single samples say
 * little; what a leak changes is the level. So: the mean over the first third of the time after
 * the warm-up is the reference, the mean over the last third must stay within ±tolerance of it.
 */
export function rssVerdict(samples: readonly { atSeconds: number; rssBytes: number }[], warmupSeconds: number, tolerance = 0.1): RssVerdict {
  const after = samples.filter((s) => s.atSeconds >= warmupSeconds);
  const empty: RssVerdict = { referenceBytes: Number.NaN, finalBytes: Number.NaN, minBytes: Number.NaN, maxBytes: Number.NaN, maxDeviation: Number.NaN, trendBytesPerMinute: Number.NaN, stable: false };
  if (after.length < 3) return empty;
  const start = (after[0] as { atSeconds: number }).atSeconds;
  const end = (after[after.length - 1] as { atSeconds: number }).atSeconds;
  const third = (end - start) / 3;
  const mean = (xs: readonly { rssBytes: number }[]) => xs.reduce((sum, x) => sum + x.rssBytes, 0) / xs.length;
  const first = after.filter((s) => s.atSeconds <= start + third);
  const last = after.filter((s) => s.atSeconds >= end - third);
  if (first.length === 0 || last.length === 0) return empty;
  const referenceBytes = mean(first);
  const finalBytes = mean(last);
  const maxDeviation = Math.abs(finalBytes - referenceBytes) / referenceBytes;
  return {
    referenceBytes,
    finalBytes,
    minBytes: Math.min(...after.map((s) => s.rssBytes)),
    maxBytes: Math.max(...after.map((s) => s.rssBytes)),
    maxDeviation,
    trendBytesPerMinute: slope(after.map((s) => ({ x: s.atSeconds / 60, y: s.rssBytes }))),
    stable: maxDeviation <= tolerance,
  };
}

export interface PipelineLatencies {
  /** recordEvent call → its postback's arrival, of every request whose postback arrived. */
  endToEnd: number[];
  /** Requests sent whose postback never arrived. */
  missing: number;
  /** End-to-end p99 of the requests sent in each successive window. */
  p99ByWindow: number[];
  /** recordEvent's answer p99 of the requests sent in each successive window (answered ones). */
  answerP99ByWindow: number[];
}

/**
 * A pipeline's latencies from the load generator's send and answer times (NaN: not sent, or
 * no good answer) and each request's arrival time at the receiver, cut into windows by send
 * time from `t0`. All times are on one monotonic clock, in ms. The load lasts `loadSeconds`;
 * its last sends, a few ms past that (the load starts a little after t0), count in its last
 * window instead of making a window of their own.
 */
export function pipelineLatencies(sentAt: Float64Array, answeredAt: Float64Array, arrivedAt: (index: number) => number | undefined, t0: number, windowSeconds: number, loadSeconds: number): PipelineLatencies {
  const lastWindow = Math.max(0, Math.ceil(loadSeconds / windowSeconds) - 1);
  const endToEnd: number[] = [];
  const windows: number[][] = [];
  const answerWindows: number[][] = [];
  let missing = 0;
  for (let i = 0; i < sentAt.length; i++) {
    const sent = sentAt[i] as number;
    if (Number.isNaN(sent)) continue;
    const w = Math.min(lastWindow, Math.floor((sent - t0) / 1000 / windowSeconds));
    const answered = answeredAt[i] as number;
    if (!Number.isNaN(answered)) (answerWindows[w] ??= []).push(answered - sent);
    const arrived = arrivedAt(i);
    if (arrived === undefined) {
      missing++;
      continue;
    }
    endToEnd.push(arrived - sent);
    (windows[w] ??= []).push(arrived - sent);
  }
  const p99s = (ws: number[][]) => Array.from(ws, (w) => summarizeLatencies(w ?? []).p99);
  return { endToEnd, missing, p99ByWindow: p99s(windows), answerP99ByWindow: p99s(answerWindows) };
}
