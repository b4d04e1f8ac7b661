#!/usr/bin/env node
// Builds the browser side: the console SPA (console/app) and the GraphiQL IDE (console/ide),
// bundled by esbuild into dist/public/console/, which the service serves at /console and
// (the IDE's page) at GET /graphql for browsers. Everything a page loads comes from there:
// no CDN, so both work on a machine without internet. Plain JavaScript, like
// build-if-needed.js, so it runs before anything is compiled.
'use strict';
const { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { gzipSync } = require('node:zlib');

const root = join(__dirname, '..');
const source = join(root, 'console');
const out = join(root, 'dist', 'public', 'console');
/** The console's own JavaScript and CSS, gzipped (GraphiQL aside): past it the build fails. */
const CONSOLE_BUDGET_GZIP_BYTES = 200 * 1024;

function gzipSize(path) {
  return gzipSync(readFileSync(path), { level: 9 }).length;
}

async function buildConsole() {
  const esbuild = require('esbuild');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'ide'), { recursive: true });
  const common = {
    bundle: true,
    minify: true,
    sourcemap: false,
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    define: { 'process.env.NODE_ENV': '"production"' },
    legalComments: 'linked',
    logLevel: 'warning',
  };
  await esbuild.build({ ...common, entryPoints: { app: join(source, 'app', 'main.js') }, outdir: out, format: 'esm' });
  await esbuild.build({
    ...common,
    entryPoints: { ide: join(source, 'ide', 'ide.jsx') },
    outdir: join(out, 'ide'),
    format: 'iife',
    jsx: 'automatic',
    loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'file' },
  });
  copyFileSync(join(source, 'app', 'index.html'), join(out, 'index.html'));
  copyFileSync(join(source, 'app', 'app.css'), join(out, 'app.css'));
  copyFileSync(join(source, 'ide', 'index.html'), join(out, 'ide', 'index.html'));

  const consoleGzip = gzipSize(join(out, 'app.js')) + gzipSize(join(out, 'app.css'));
  const ideGzip = gzipSize(join(out, 'ide', 'ide.js')) + gzipSize(join(out, 'ide', 'ide.css'));
  const info = { builtAt: new Date().toISOString(), consoleGzipBytes: consoleGzip, consoleBudgetGzipBytes: CONSOLE_BUDGET_GZIP_BYTES, ideGzipBytes: ideGzip };
  writeFileSync(join(out, 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
  if (consoleGzip > CONSOLE_BUDGET_GZIP_BYTES) {
    throw new Error(`the console's JavaScript and CSS are ${consoleGzip} bytes gzipped, over the ${CONSOLE_BUDGET_GZIP_BYTES}-byte budget`);
  }
  // build-if-needed.js compares this with the sources' times.
  writeFileSync(join(root, 'dist', 'public', '.build-stamp'), `${info.builtAt}\n`);
  return info;
}

module.exports = { buildConsole, CONSOLE_BUDGET_GZIP_BYTES, consoleOutDir: out };

if (require.main === module) {
  buildConsole().then(
    (info) => process.stdout.write(`console built: ${(info.consoleGzipBytes / 1024).toFixed(1)} KB gzipped (budget ${CONSOLE_BUDGET_GZIP_BYTES / 1024} KB); GraphiQL ${(info.ideGzipBytes / 1024).toFixed(1)} KB\n`),
    (error) => {
      process.stderr.write(`build-console: ${error.message}\n`);
      process.exit(1);
    },
  );
}
