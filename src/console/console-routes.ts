import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import express, { Express, Request, Response } from 'express';

/**
 * The browser side of the service, built by `npm run build` (scripts/build-console.js) into
 * dist/public/console: the console SPA at /console, and GraphiQL at GET /graphql for a
 * browser (a request that prefers text/html); GraphQL clients' GET and POST are untouched.
 * Every file a page loads is served from here, so both work offline.
 */
export function registerConsoleRoutes(app: Express, assetsDir: string = defaultAssetsDir()): void {
  app.get('/graphql', (req, res, next) => {
    if (!prefersHtml(req)) {
      next();
      return;
    }
    sendPage(res, assetsDir, join('ide', 'index.html'));
  });
  // One address for the SPA, /console/ (Express routes /console/ here too, hence the exact check).
  app.get('/console', (req, res, next) => {
    const [path, query] = req.originalUrl.split('?', 2);
    if (path !== '/console') {
      next();
      return;
    }
    res.redirect(301, `/console/${query === undefined ? '' : `?${query}`}`);
  });
  app.use(
    '/console',
    (_req, res, next) => {
      res.setHeader('Content-Security-Policy', PAGE_POLICY);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      next();
    },
    express.static(assetsDir, { index: 'index.html', redirect: false, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }),
    (req, res, next) => (req.path === '/' ? sendPage(res, assetsDir, 'index.html') : next()),
  );
}

/**
 * Same-origin only: scripts, styles, fonts and the API (HTTP and WebSocket) come from this
 * service. Inline styles are allowed (GraphiQL and the console set style attributes).
 */
const PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** A browser navigating to /graphql; API clients ask for JSON (or anything). */
export function prefersHtml(req: Request): boolean {
  return req.accepts(['application/graphql-response+json', 'application/json', 'text/html']) === 'text/html';
}

function sendPage(res: Response, assetsDir: string, page: string): void {
  const path = join(assetsDir, page);
  res.setHeader('Content-Security-Policy', PAGE_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-cache');
  if (!existsSync(path)) {
    res.status(503).type('text/plain').send('The console and GraphQL IDE are not built: run `npm run build` (or `npm start`, which builds when needed).\n');
    return;
  }
  res.sendFile(path);
}

/** dist/public/console under the package root, whether running from src/ (tests) or dist/src/. */
export function defaultAssetsDir(startDir: string = __dirname): string {
  for (let dir = startDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'public', 'console');
    if (dirname(dir) === dir) return join(startDir, 'public', 'console');
  }
}
