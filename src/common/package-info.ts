import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * This package's name and version, read from package.json at run time: from src/ under
 * ts-node/jest and from dist/src/ once built, so it is looked up the directory tree rather
 * than imported (an import would copy package.json into dist/).
 */
export function readPackageInfo(startDir: string = __dirname): { name: string; version: string } {
  for (let dir = startDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const parsed = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown };
      if (typeof parsed.name === 'string' && typeof parsed.version === 'string') return { name: parsed.name, version: parsed.version };
    }
    if (dirname(dir) === dir) throw new Error(`no package.json with a name and version above ${startDir}`);
  }
}

/** The contract's `User-Agent: <package name>/<version>` of every postback. */
export function postbackUserAgent(): string {
  const { name, version } = readPackageInfo();
  return `${name}/${version}`;
}
