// The console's browser assets, built (scripts/build-console.js) when a source is newer than
// the last build, so the tests serve what `npm run build` would ship.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const SOURCES = ['console', 'scripts/build-console.js', 'package-lock.json'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))));
}

export interface ConsoleBuildInfo {
  consoleGzipBytes: number;
  consoleBudgetGzipBytes: number;
  ideGzipBytes: number;
}

let built: Promise<void> | null = null;

export function ensureConsoleBuilt(): Promise<void> {
  built ??= (async () => {
    const stamp = join(root, 'dist', 'public', '.build-stamp');
    const builtAt = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
    if (builtAt >= Math.max(...SOURCES.map((s) => newestMtime(join(root, s))))) return;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildConsole } = require(join(root, 'scripts', 'build-console.js')) as { buildConsole(): Promise<unknown> };
    await buildConsole();
  })();
  return built;
}

export function consoleBuildInfo(): ConsoleBuildInfo {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return JSON.parse(require('node:fs').readFileSync(join(root, 'dist', 'public', 'console', 'build-info.json'), 'utf8')) as ConsoleBuildInfo;
}
