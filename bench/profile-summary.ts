// `node dist/bench/profile-summary.js FILE.cpuprofile [TOP]`: where a --cpu-prof profile spent
// its time, by function (self time), by package (self time of every frame inside
// node_modules/<package>, or the service's own src/, or Node's internals), and by owner: each
// sample charged to the nearest package or service folder up its stack, so that native work
// (a socket write, a parse) counts for the library that asked for it.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function packageOf(url: string): string {
  if (url === '') return '(native/idle)';
  const i = url.lastIndexOf('node_modules/');
  if (i >= 0) {
    const rest = url.slice(i + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node:internal';
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + '/dist/'.length).split('/').slice(0, 2).join('/');
  return url;
}

/** Each node's caller and each node by id, to walk a sample's stack from its leaf up. */
function callTree(profile: Profile): { parent: Map<number, number>; byId: Map<number, ProfileNode> } {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  return { parent, byId: new Map(profile.nodes.map((n) => [n.id, n])) };
}

/** Module loading at start: not part of any measured window, left out of the owners' shares. */
const STARTUP = '(startup: module loading)';

/**
 * Who a frame's time belongs to: a package under node_modules, a folder of the service's own
 * src/ (or bench/), the profiler's own entries, module loading; null for Node's internals and
 * native frames, which belong to whoever called them.
 */
export function ownerOf(url: string, functionName: string): string | null {
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return '(gc)';
  if (functionName === '(program)') return '(program)';
  if (/^node:internal\/modules\//.test(url) || ['wrapSafe', 'compileForInternalLoader', 'internalModuleStat', 'readFileUtf8'].includes(functionName)) return STARTUP;
  // undici's HTTP parser (llhttp) runs as WebAssembly: its caller owns it.
  if (url === '' || url.startsWith('node:') || url.startsWith('wasm://')) return null;
  return packageOf(url);
}

/** Each sample's time charged to the nearest owner up its stack (ownerOf); samples with none go to Node's internals. */
function byOwner(profile: Profile): Map<string, number> {
  const { parent, byId } = callTree(profile);
  const ownerOfNode = new Map<number, string>();
  const resolve = (start: number): string => {
    const cached = ownerOfNode.get(start);
    if (cached !== undefined) return cached;
    let owner: string | null = null;
    for (let id: number | undefined = start; id !== undefined && owner === null; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (frame) owner = ownerOf(frame.url, frame.functionName);
    }
    const found = owner ?? 'node:internal (no owner above)';
    ownerOfNode.set(start, found);
    return found;
  };
  const totals = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const owner = resolve(profile.samples[i] as number);
    totals.set(owner, (totals.get(owner) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  return totals;
}

/** Time spent in `names` and everything they called (a frame counted once per sample even if recursive). */
function inclusive(profile: Profile, names: string[]): Map<string, number> {
  const { parent, byId } = callTree(profile);
  const totals = new Map(names.map((n) => [n, 0]));
  for (let i = 0; i < profile.samples.length; i++) {
    const seen = new Set<string>();
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
      const name = byId.get(id)?.callFrame.functionName ?? '';
      if (totals.has(name) && !seen.has(name)) {
        seen.add(name);
        totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
      }
    }
  }
  return totals;
}

function main(): void {
  const [file, topRaw, inclusiveNames] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary FILE.cpuprofile [TOP] [fn1,fn2,… for inclusive times]');
  const top = Number(topRaw ?? 40);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, '')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const pkg = functionName === '(idle)' ? '(idle)' : functionName === '(garbage collector)' ? '(gc)' : functionName === '(program)' ? '(program)' : packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  process.stdout.write(`total ${(total / 1e6).toFixed(2)} s sampled\n\nby package (self time)\n`);
  for (const [pkg, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${pct(us)}  ${pkg}\n`);
  process.stdout.write(`\nby function (self time)\n`);
  for (const [fn, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(us)}  ${fn}\n`);
  const owners = byOwner(profile);
  const busy = [...owners].filter(([owner]) => owner !== '(idle)' && owner !== STARTUP).reduce((sum, [, us]) => sum + us, 0);
  process.stdout.write(`\nby owner (the nearest package or service folder up each sample's stack), share of ${(busy / 1e6).toFixed(2)} s busy; idle ${(((owners.get('(idle)') ?? 0)) / 1e6).toFixed(2)} s and module loading ${((owners.get(STARTUP) ?? 0) / 1e6).toFixed(2)} s left out\n`);
  for (const [owner, us] of [...owners].filter(([o]) => o !== '(idle)' && o !== STARTUP).sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    process.stdout.write(`${((100 * us) / busy).toFixed(1).padStart(5)} %  ${owner}\n`);
  }
  if (inclusiveNames) {
    process.stdout.write(`\ninclusive (the function and all it called)\n`);
    for (const [fn, us] of inclusive(profile, inclusiveNames.split(','))) process.stdout.write(`${pct(us)}  ${fn}\n`);
  }
}

if (require.main === module) main();
