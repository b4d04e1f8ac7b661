// A real headless Chromium for the end-to-end tests, driven by puppeteer-core (no browser
// download: Debian's `chromium` package, or CHROMIUM_PATH). Without one the tests are
// skipped with a notice, unless REQUIRE_BROWSER=1 (CI), which makes that a failure.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { Browser, Page } from 'puppeteer-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => Boolean(p));

export const chromiumPath: string | null = CANDIDATES.find((p) => existsSync(p)) ?? null;

/** `describe`, or `describe.skip` with a notice when there is no browser (a failure under REQUIRE_BROWSER=1). */
export function describeInBrowser(name: string, body: () => void): void {
  if (chromiumPath) {
    describe(name, body);
    return;
  }
  if (process.env.REQUIRE_BROWSER === '1') {
    describe(name, () => {
      it('needs a browser', () => {
        throw new Error(`REQUIRE_BROWSER=1 but no Chromium at ${CANDIDATES.join(', ')} (apt-get install chromium, or set CHROMIUM_PATH)`);
      });
    });
    return;
  }
  process.stderr.write(`\n  No Chromium at ${CANDIDATES.join(', ')}: browser tests SKIPPED (REQUIRE_BROWSER=1 makes this a failure).\n\n`);
  describe.skip(name, body);
}

export interface RunningBrowser {
  browser: Browser;
  page: Page;
  /** Errors the page threw or logged; a test expects none. */
  pageErrors: string[];
  /** Bodies of every GraphQL POST the page sent. */
  graphqlRequests: string[];
  close(): Promise<void>;
}

export async function openBrowser(): Promise<RunningBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'postbacks-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath as string,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  const pageErrors: string[] = [];
  const graphqlRequests: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/graphql') graphqlRequests.push(request.postData() ?? '');
  });
  return {
    browser,
    page,
    pageErrors,
    graphqlRequests,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// The README's pictures are retaken with UPDATE_SCREENSHOTS=1; an ordinary run writes its
// screenshots beside the build output, so running the tests leaves the work tree clean.
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1'
  ? join(__dirname, '..', '..', 'docs', 'screenshots')
  : join(__dirname, '..', '..', 'dist', 'test-screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) as `${string}.png` });
}

/** Waits until `predicate` (run in the page) is true. */
export async function waitInPage<A extends unknown[]>(page: Page, predicate: (...args: A) => boolean, ...args: A): Promise<void> {
  await page.waitForFunction(predicate as (...a: unknown[]) => boolean, { timeout: 20_000, polling: 100 }, ...args);
}
