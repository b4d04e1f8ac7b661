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
  /** Mean RSS (bytes) of the samples in the reference window. */
  referenceBytes: number;
  minBytes: number;
  maxBytes: number;
  /** Largest deviation from the reference, as a fraction (0.1 = 10 %). */
  maxDeviation: number;
  stable: boolean;
}

/**
 * RSS stability over a soak: the reference is the mean of the samples taken in
 * [warmupSeconds, 2 × warmupSeconds) (after start-up and JIT have settled); every later
 * sample must stay within ±tolerance of it.
 */
export function rssVerdict(samples: readonly { atSeconds: number; rssBytes: number }[], warmupSeconds: number, tolerance = 0.1): RssVerdict {
  const reference = samples.filter((s) => s.atSeconds >= warmupSeconds && s.atSeconds < 2 * warmupSeconds);
  const later = samples.filter((s) => s.atSeconds >= warmupSeconds);
  if (reference.length === 0 || later.length === 0) {
    return { referenceBytes: Number.NaN, minBytes: Number.NaN, maxBytes: Number.NaN, maxDeviation: Number.NaN, stable: false };
  }
  const referenceBytes = reference.reduce((sum, s) => sum + s.rssBytes, 0) / reference.length;
  let minBytes = Number.POSITIVE_INFINITY;
  let maxBytes = 0;
  for (const s of later) {
    minBytes = Math.min(minBytes, s.rssBytes);
    maxBytes = Math.max(maxBytes, s.rssBytes);
  }
  const maxDeviation = Math.max(Math.abs(maxBytes - referenceBytes), Math.abs(referenceBytes - minBytes)) / referenceBytes;
  return { referenceBytes, minBytes, maxBytes, maxDeviation, stable: maxDeviation <= tolerance };
}
