import { readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { PartnerPreset } from './partner-preset';

export interface CatalogPreset extends PartnerPreset {
  /** The data file's name without extension, e.g. `ga4`. */
  id: string;
}

const PARTNERS_DIR = join(__dirname, 'partners');
const PRESET_ID = /^[a-z0-9][a-z0-9_-]*$/;

let catalog: ReadonlyMap<string, CatalogPreset> | null = null;

/**
 * Every preset in ./partners/, by id, sorted by id: each `.ts` (tests, ts runners) or `.js` (the
 * build) file there default-exports one PartnerPreset. Read once per process.
 */
export function partnerPresets(): ReadonlyMap<string, CatalogPreset> {
  if (catalog) return catalog;
  const files = readdirSync(PARTNERS_DIR)
    .filter((file) => (file.endsWith('.ts') && !file.endsWith('.d.ts')) || file.endsWith('.js'))
    .sort();
  const loaded = new Map<string, CatalogPreset>();
  for (const file of files) {
    const id = basename(file, extname(file));
    if (loaded.has(id)) continue; // foo.ts beside foo.js
    if (!PRESET_ID.test(id)) throw new Error(`partner preset file ${file}: the name must be lowercase a-z, 0-9, _ and -`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const data = (require(join(PARTNERS_DIR, file)) as { default?: PartnerPreset }).default;
    if (!data || typeof data !== 'object') throw new Error(`partner preset file ${file} has no default export`);
    loaded.set(id, { id, ...data });
  }
  catalog = loaded;
  return catalog;
}
