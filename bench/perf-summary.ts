// `perf script -F tid,ip,sym -i perf.data | node dist/bench/perf-summary.js [MAIN_TID]`: a Linux
// `perf record -e cpu-clock -g` profile of a service process, by thread and, for its main
// thread, by owner: each sample charged to the nearest package or service folder up its stack,
// as profile-summary.ts does for --cpu-prof. The service must run with --perf-basic-prof, so that
// JavaScript frames have names (`JS:*fn /path/file.js:line:col`).
//
// Unlike --cpu-prof, which samples the main thread on a wall-clock tick, perf's cpu-clock samples
// a thread only while it is on a CPU, kernel included, and sees V8's background threads
// (TurboFan compiling, concurrent marking) as well. Its names are approximate: when V8 frees or
// moves code, the --perf-basic-prof map can name a later function by an earlier one's name.
// How to take one: BENCHMARKS.md, "The drain measured warm".
import { readFileSync } from 'node:fs';
import { packageOf } from './profile-summary';

export interface PerfSample {
  tid: number;
  /** Symbols from the leaf up. */
  frames: string[];
}

/** The samples of `perf script -F tid,ip,sym` output: a line with the tid, then one line per frame. */
export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  let current: PerfSample | null = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      current = null;
      continue;
    }
    // A sample's first line is its tid (padded with spaces when short); its frames are indented with a tab.
    if (!line.startsWith('\t')) {
      current = { tid: Number(line.trim().split(/\s+/)[0]), frames: [] };
      samples.push(current);
      continue;
    }
    const frame = line.trim().replace(/^[0-9a-f]+\s+/, '');
    current?.frames.push(frame);
  }
  return samples;
}

/**
 * Who a frame belongs to: a package under node_modules or a folder of the service's own dist
 * (packageOf), for JavaScript frames with a file; null for Node's own JavaScript, V8's builtins,
 * native code and the kernel, which belong to whoever called them.
 */
export function perfOwnerOf(frame: string): string | null {
  const js = /^JS:\S*\s*(?:\S*\s+)?(\/\S+):\d+:\d+$/.exec(frame);
  if (!js) return null;
  return packageOf(js[1] as string);
}

const GC = /Scavenger|MarkCompact|Heap::|GCTracer|Sweeper/;

/** A sample's owner: GC on the thread, else the nearest owner up the stack, else Node's internals. */
export function ownerOfSample(sample: PerfSample): string {
  if (GC.test(sample.frames[0] ?? '')) return '(gc)';
  for (const frame of sample.frames) {
    const owner = perfOwnerOf(frame);
    if (owner !== null) return owner;
  }
  return '(native I/O and Node internals, no owner above)';
}

export function summarize(samples: PerfSample[], mainTid?: number): string {
  const byThread = new Map<number, number>();
  for (const s of samples) byThread.set(s.tid, (byThread.get(s.tid) ?? 0) + 1);
  const threads = [...byThread].sort((a, b) => b[1] - a[1]);
  const main = mainTid ?? threads[0]?.[0];
  const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1).padStart(5)} %`;
  const lines = [`${samples.length} samples`, '', 'by thread'];
  for (const [tid, n] of threads) lines.push(`${pct(n, samples.length)}  ${tid}${tid === main ? ' (main)' : ''}`);
  const mainSamples = samples.filter((s) => s.tid === main);
  const owners = new Map<string, number>();
  for (const s of mainSamples) {
    const owner = ownerOfSample(s);
    owners.set(owner, (owners.get(owner) ?? 0) + 1);
  }
  lines.push('', `main thread by owner (the nearest package or service folder up each sample's stack), ${mainSamples.length} samples`);
  for (const [owner, n] of [...owners].sort((a, b) => b[1] - a[1]).slice(0, 25)) lines.push(`${pct(n, mainSamples.length)}  ${owner}`);
  return `${lines.join('\n')}\n`;
}

function main(): void {
  const [mainTidRaw] = process.argv.slice(2);
  const text = readFileSync(0, 'utf8');
  process.stdout.write(summarize(parsePerfScript(text), mainTidRaw === undefined ? undefined : Number(mainTidRaw)));
}

if (require.main === module) main();
