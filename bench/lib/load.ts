// The load generator: HTTP POSTs through an undici pool (the cheapest Node client measured
// here, so the generator takes as little of the shared CPU as it can), closed-loop at a fixed
// concurrency or open-loop at a fixed rate. It runs in the benchmark's own process.
import { Pool } from 'undici';
import { monotonicMs } from './ipc';
import { summarizeLatencies, type LatencySummary } from './stats';

export interface Target {
  origin: string;
  path: string;
  headers: Record<string, string>;
}

export interface ClosedLoopResult {
  /** Requests answered 200 without GraphQL errors inside the measured window. */
  ok: number;
  failed: number;
  measuredSeconds: number;
  /** ok per second. */
  rate: number;
  latency: LatencySummary;
  firstError: string | null;
  /** Every measured answer time (ms), for merging rounds. */
  latencies: number[];
}

/** Several measured rounds of the same load as one result. */
export function mergeRounds(rounds: readonly ClosedLoopResult[]): ClosedLoopResult {
  const ok = rounds.reduce((n, r) => n + r.ok, 0);
  const measuredSeconds = rounds.reduce((n, r) => n + r.measuredSeconds, 0);
  const latencies = rounds.flatMap((r) => r.latencies);
  return {
    ok,
    failed: rounds.reduce((n, r) => n + r.failed, 0),
    measuredSeconds,
    rate: measuredSeconds > 0 ? ok / measuredSeconds : Number.NaN,
    latency: summarizeLatencies(latencies),
    firstError: rounds.find((r) => r.firstError !== null)?.firstError ?? null,
    latencies,
  };
}

/** A response is good when it is 200 and carries no GraphQL errors. */
function isGood(status: number, text: string): boolean {
  return status === 200 && !text.includes('"errors"');
}

/**
 * `concurrency` requests in flight for warmupSeconds + seconds; only answers that arrive in the
 * last `seconds` count. `body(i)` makes the i-th request (i counts from 0 across the warmup).
 */
export async function closedLoop(target: Target, options: { concurrency: number; warmupSeconds: number; seconds: number; body: (i: number) => string }): Promise<ClosedLoopResult> {
  const pool = new Pool(target.origin, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const start = monotonicMs();
  const measureFrom = start + options.warmupSeconds * 1000;
  const end = measureFrom + options.seconds * 1000;
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  const latencies: number[] = [];
  const worker = async () => {
    while (monotonicMs() < end) {
      const body = options.body(next++);
      const sent = monotonicMs();
      let good = false;
      let text = '';
      try {
        const response = await pool.request({ path: target.path, method: 'POST', headers: target.headers, body });
        text = await response.body.text();
        good = isGood(response.statusCode, text);
        if (!good) text = `HTTP ${response.statusCode}: ${text.slice(0, 500)}`;
      } catch (error) {
        text = String(error);
      }
      const done = monotonicMs();
      if (done < measureFrom || done > end) continue;
      if (good) {
        ok++;
        latencies.push(done - sent);
      } else {
        failed++;
        firstError ??= text;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  await pool.close();
  return { ok, failed, measuredSeconds: options.seconds, rate: ok / options.seconds, latency: summarizeLatencies(latencies), firstError, latencies };
}

export interface OpenLoopResult {
  sent: number;
  ok: number;
  failed: number;
  /** Requests not sent because maxInFlight were already waiting: the service fell behind. */
  shed: number;
  seconds: number;
  /** Answer times of the recordEvent calls. */
  latency: LatencySummary;
  firstError: string | null;
  /** When each request was sent (monotonic ms), by its index. */
  sentAt: Float64Array;
  /** When each request's good answer came (monotonic ms), by its index; NaN: none (shed, failed). */
  answeredAt: Float64Array;
}

/**
 * Requests at a fixed rate for `seconds`, whatever the answers' pace (so a slow service shows
 * as latency and shed requests, not as a lower rate), at most maxInFlight waiting at once.
 */
export async function openLoop(target: Target, options: { rate: number; seconds: number; maxInFlight: number; body: (i: number) => string }): Promise<OpenLoopResult> {
  const pool = new Pool(target.origin, { connections: options.maxInFlight, pipelining: 1, keepAliveTimeout: 60_000 });
  const total = Math.round(options.rate * options.seconds);
  const sentAt = new Float64Array(total).fill(Number.NaN);
  const latencies: number[] = [];
  const answeredAt = new Float64Array(total).fill(Number.NaN);
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let shed = 0;
  let inFlight = 0;
  let firstError: string | null = null;
  const pending = new Set<Promise<void>>();
  const start = monotonicMs();

  const fire = (i: number) => {
    const body = options.body(i);
    const t = monotonicMs();
    sentAt[i] = t;
    sent++;
    inFlight++;
    const p = (async () => {
      try {
        const response = await pool.request({ path: target.path, method: 'POST', headers: target.headers, body });
        const text = await response.body.text();
        if (isGood(response.statusCode, text)) {
          ok++;
          answeredAt[i] = monotonicMs();
          latencies.push(answeredAt[i] - t);
        } else {
          failed++;
          firstError ??= `HTTP ${response.statusCode}: ${text.slice(0, 500)}`;
        }
      } catch (error) {
        failed++;
        firstError ??= String(error);
      } finally {
        inFlight--;
      }
    })();
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  let issued = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((monotonicMs() - start) / 1000) * options.rate));
      while (issued < due) {
        if (inFlight >= options.maxInFlight) shed++;
        else fire(issued);
        issued++;
      }
      if (issued >= total) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  await Promise.all([...pending]);
  await pool.close();
  return { sent, ok, failed, shed, seconds: (monotonicMs() - start) / 1000, latency: summarizeLatencies(latencies), firstError, sentAt, answeredAt };
}
