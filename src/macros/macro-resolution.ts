// Resolving a macro name to its value for one event: custom macros (the app's, then global),
// then built-ins; transforms; defaults; and limit-ad-tracking blanking.

import { createHash } from 'node:crypto';
import { MacroSource, MacroTransform, ValueSharing } from '../common/enums';
import type { FieldProblem } from '../common/errors';
import {
  BUILT_IN_MACRO_NAMES,
  DEVICE_IDENTIFIER_MACROS,
  builtInMacroValue,
  formatRevenue,
  type PostbackEventContext,
} from './built-in-macros';
import { MACRO_NAME_PATTERN } from './template';
import { isWithheld } from './value-sharing';

export const MACRO_NAME_MAX_LENGTH = 64;
export const MACRO_PARAM_PATH_MAX_LENGTH = 255;
export const MACRO_VALUE_MAX_LENGTH = 4096;
const PARAM_PATH_SEGMENT = /^[A-Za-z0-9_-]+$/;

export interface MacroDefinition {
  name: string;
  source: MacroSource;
  path: string | null;
  value: string | null;
  defaultValue: string | null;
  transform: MacroTransform;
}

export interface MacroScope {
  appMacros: ReadonlyMap<string, MacroDefinition>;
  globalMacros: ReadonlyMap<string, MacroDefinition>;
}

const DEVICE_IDENTIFIERS: ReadonlySet<string> = new Set(DEVICE_IDENTIFIER_MACROS);

/**
 * Returns the raw (not yet encoded) value of each macro for this event. Unknown names give ''
 * (callbacks naming them are rejected at save time). With `blankDeviceIdentifiers` (limit ad
 * tracking on a callback that has a network), device identifiers and FIELD macros built on them
 * give '' and their defaults do not refill them. With `share` (the callback's value sharing for
 * this event), withheld macros give their defaultValue, else ''.
 */
export function createMacroLookup(
  scope: MacroScope,
  ctx: PostbackEventContext,
  options: { blankDeviceIdentifiers: boolean; share?: ValueSharing },
): (name: string) => string {
  const blanked = (builtInName: string | null): boolean =>
    options.blankDeviceIdentifiers && builtInName !== null && DEVICE_IDENTIFIERS.has(builtInName);
  const share = options.share ?? ValueSharing.VALUES_AND_REVENUE;

  return (name) => {
    if (blanked(name)) return '';
    const def = scope.appMacros.get(name) ?? scope.globalMacros.get(name);
    if (!def) return isWithheld(share, name, null) ? '' : (builtInMacroValue(name, ctx) ?? '');
    if (def.source === MacroSource.FIELD && blanked(def.path)) return '';
    if (isWithheld(share, def.source === MacroSource.FIELD ? def.path : null, def.source)) return def.defaultValue ?? '';
    const raw = rawMacroValue(def, ctx);
    // The default is sent as configured, not transformed: it is what the partner expects to see.
    if (raw === null || raw === '') return def.defaultValue ?? '';
    return applyTransform(raw, def.transform);
  };
}

function rawMacroValue(def: MacroDefinition, ctx: PostbackEventContext): string | null {
  switch (def.source) {
    case MacroSource.FIELD:
      return def.path === null ? null : builtInMacroValue(def.path, ctx);
    case MacroSource.PARAM:
      return def.path === null ? null : paramValue(ctx.params, def.path);
    case MacroSource.CONSTANT:
      return def.value;
    default:
      return null;
  }
}

/**
 * The value at a dot path in the event's params (`items.0.sku` indexes arrays), as text:
 * strings as-is, numbers as plain decimals, booleans `true`/`false`, objects and arrays as
 * JSON. null, undefined or an absent path give null (missing).
 */
export function paramValue(params: Record<string, unknown> | null, path: string): string | null {
  let current: unknown = params;
  for (const key of path.split('.')) {
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(key)) return null;
      current = current[Number(key)];
    } else if (current !== null && typeof current === 'object') {
      // Own properties only: `constructor` or `__proto__` must not reach Object.prototype.
      if (!Object.prototype.hasOwnProperty.call(current, key)) return null;
      current = (current as Record<string, unknown>)[key];
    } else {
      return null;
    }
  }
  return stringifyParam(current);
}

function stringifyParam(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? formatRevenue(value) : null;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      return value === null ? null : JSON.stringify(value);
    default:
      return null;
  }
}

/** Hashes give lowercase hex. Callers never pass an empty value: empty stays empty. */
export function applyTransform(value: string, transform: MacroTransform): string {
  switch (transform) {
    case MacroTransform.LOWERCASE:
      return value.toLowerCase();
    case MacroTransform.UPPERCASE:
      return value.toUpperCase();
    case MacroTransform.MD5:
      return createHash('md5').update(value, 'utf8').digest('hex');
    case MacroTransform.SHA1:
      return createHash('sha1').update(value, 'utf8').digest('hex');
    case MacroTransform.SHA256:
      return createHash('sha256').update(value, 'utf8').digest('hex');
    default:
      return value;
  }
}

export interface MacroDefinitionInput {
  name: string;
  source: MacroSource;
  path?: string | null;
  value?: string | null;
  defaultValue?: string | null;
  transform?: MacroTransform | null;
}

/** Every problem with a custom macro definition, with fields named `${fieldPrefix}.name` etc. */
export function validateMacroDefinition(input: MacroDefinitionInput, fieldPrefix: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add = (field: string, reason: string) => problems.push({ field: `${fieldPrefix}.${field}`, reason });

  if (!MACRO_NAME_PATTERN.test(input.name)) {
    add('name', 'must start with a lowercase letter and hold only a-z, 0-9 and _');
  } else if (input.name.length > MACRO_NAME_MAX_LENGTH) {
    add('name', `must be at most ${MACRO_NAME_MAX_LENGTH} characters`);
  } else if (BUILT_IN_MACRO_NAMES.has(input.name)) {
    add('name', `${input.name} is a built-in macro; choose another name`);
  }

  const path = input.path ?? null;
  const value = input.value ?? null;
  switch (input.source) {
    case MacroSource.FIELD:
      if (path === null || path === '') add('path', 'a FIELD macro needs path: the name of a built-in macro');
      else if (!BUILT_IN_MACRO_NAMES.has(path)) add('path', `${JSON.stringify(path)} is not a built-in macro`);
      break;
    case MacroSource.PARAM:
      if (path === null || path === '') add('path', 'a PARAM macro needs path: a dot path into the event params');
      else if (path.length > MACRO_PARAM_PATH_MAX_LENGTH) add('path', `must be at most ${MACRO_PARAM_PATH_MAX_LENGTH} characters`);
      else if (!path.split('.').every((s) => PARAM_PATH_SEGMENT.test(s))) {
        add('path', 'must be dot-separated keys of A-Z, a-z, 0-9, _ and - (e.g. items.0.sku)');
      }
      break;
    case MacroSource.CONSTANT:
      if (value === null) add('value', 'a CONSTANT macro needs value');
      else if (value.length > MACRO_VALUE_MAX_LENGTH) add('value', `must be at most ${MACRO_VALUE_MAX_LENGTH} characters`);
      break;
    default:
      add('source', 'must be FIELD, PARAM or CONSTANT');
  }

  if (input.defaultValue != null && input.defaultValue.length > MACRO_VALUE_MAX_LENGTH) {
    add('defaultValue', `must be at most ${MACRO_VALUE_MAX_LENGTH} characters`);
  }
  if (input.transform != null && !Object.values(MacroTransform).includes(input.transform)) {
    add('transform', `must be one of ${Object.values(MacroTransform).join(', ')}`);
  }
  return problems;
}

/** Names that `known` rejects, sorted and unique, so an error can list every one at once. */
export function findUnknownMacroNames(names: Iterable<string>, known: (name: string) => boolean): string[] {
  const unknown = new Set<string>();
  for (const name of names) if (!known(name)) unknown.add(name);
  return [...unknown].sort();
}
