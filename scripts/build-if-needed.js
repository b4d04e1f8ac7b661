#!/usr/bin/env node
// `npm start`, `npm run worker` and `npm run migration:run` build first (the server, and the
// console's browser assets), but only when a source is newer than the last build: a restart does not pay a full compile, and a
// production install without devDependencies (no TypeScript) runs the dist/ it was shipped
// with. Plain JavaScript, so it runs before anything is compiled.
'use strict';
const { existsSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', '.build-stamp');
const inputs = ['src', 'migrations', 'bench', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];
const consoleInputs = ['console', 'scripts/build-console.js', 'package-lock.json'];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** The server: TypeScript compiled to dist/, when a source is newer than the last build. */
function buildServer() {
  const builtAt = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  const changedAt = Math.max(...inputs.map((input) => newestMtime(join(root, input))));
  if (builtAt >= changedAt) return;

  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  } catch {
    if (existsSync(join(root, 'dist', 'src', 'main.js'))) {
      process.stderr.write('build-if-needed: TypeScript is not installed (production install?); running the existing dist/\n');
      return;
    }
    process.stderr.write('build-if-needed: dist/ is missing and TypeScript is not installed: run `npm install` (with devDependencies) first\n');
    process.exit(1);
  }
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

/**
 * The browser side (console and GraphiQL, scripts/build-console.js), when its sources or the
 * locked packages changed. Without esbuild (a production install) the shipped assets are served.
 */
function buildBrowserAssets() {
  const consoleStamp = join(root, 'dist', 'public', '.build-stamp');
  const builtAt = existsSync(consoleStamp) ? statSync(consoleStamp).mtimeMs : 0;
  const changedAt = Math.max(...consoleInputs.map((input) => newestMtime(join(root, input))));
  if (builtAt >= changedAt) return;
  try {
    require.resolve('esbuild', { paths: [root] });
  } catch {
    process.stderr.write('build-if-needed: esbuild is not installed (production install?); serving the console assets shipped in dist/public\n');
    return;
  }
  // build-console.js writes the stamp when it succeeds.
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'build-console.js')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

buildServer();
buildBrowserAssets();
