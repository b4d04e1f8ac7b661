// Rules of the layout that a reviewer would otherwise check by hand: no import circle in src/,
// and the delivery and attempt rows have one owner (src/deliveries/).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports (type-only ones too: a circle of types is still a circle to read). */
function importsOf(file: string, text: string): string[] {
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/g)].map((m) => {
    const target = resolve(dirname(file), m[1] as string);
    return existsSync(join(target, 'index.ts')) ? join(target, 'index.ts') : `${target}.ts`;
  });
}

function importGraph(files: string[]): Map<string, string[]> {
  return new Map(files.map((f) => [f, importsOf(f, readFileSync(f, 'utf8'))]));
}

function cyclesOf(graph: Map<string, string[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].map((f) => relative(SRC, f)).join(' -> '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

describe('the source layout', () => {
  const files = sourceFiles(SRC);

  it('has no import circle', () => {
    expect(cyclesOf(importGraph(files))).toEqual([]);
  });

  it('finds a circle when there is one (the check can fail)', () => {
    const [a, b, c] = ['__a.ts', '__b.ts', '__c.ts'].map((name) => join(SRC, name)) as [string, string, string];
    const graph = new Map([
      [a, importsOf(a, "import type { B } from './__b';")],
      [b, importsOf(b, "import { c } from './__c';")],
      [c, importsOf(c, "export { a } from './__a';")],
    ]);
    expect(cyclesOf(graph)).toEqual(['__a.ts -> __b.ts -> __c.ts -> __a.ts']);
  });

  it('leaves the delivery and attempt rows to src/deliveries/', () => {
    const outside = files.filter((f) => !relative(SRC, f).startsWith('deliveries/') && !relative(SRC, f).startsWith('db/'));
    const trespassers = outside.filter((f) => {
      const text = readFileSync(f, 'utf8');
      return (
        /getRepository\((Delivery|DeliveryAttempt)\)/.test(text) ||
        /\b(FROM|INTO|UPDATE|JOIN)\s+`?(delivery|delivery_attempt)\b/i.test(text) ||
        /\b(insert|update|delete)\((Delivery|DeliveryAttempt)\b/.test(text) ||
        /from '\.\.\/db\/(transaction-script|bulk-insert)'/.test(text)
      );
    });
    expect(trespassers.map((f) => relative(SRC, f))).toEqual([]);
  });
});
