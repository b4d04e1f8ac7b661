// Value sharing (a callback's eventMappings `share`): which macros a partner does not receive.
// Pure.
import { MacroSource, ValueSharing } from '../common/enums';

/**
 * Revenue and every macro derived from it. Names that no built-in defines (yet) are harmless
 * here: a callback cannot use an undefined name.
 */
export const REVENUE_MACRO_NAMES: ReadonlySet<string> = new Set([
  'revenue',
  'currency',
  'revenue_usd',
  'revenue_usd_cents',
  'revenue_usd_micros',
  'revenue_net',
  'revenue_usd_net',
]);

/** Built-ins that carry the event's params, withheld under NONE like PARAM macros. */
export const PARAM_BUILT_IN_NAMES: ReadonlySet<string> = new Set(['params_json']);

/**
 * Whether a macro is withheld: NONE withholds revenue, currency, every revenue macro, every
 * PARAM macro and params_json; VALUES only the revenue ones. `builtIn` is the built-in the macro
 * reads (itself, or a FIELD macro's path); `source` is a custom macro's, else null.
 */
export function isWithheld(share: ValueSharing, builtIn: string | null, source: MacroSource | null): boolean {
  if (share === ValueSharing.VALUES_AND_REVENUE) return false;
  if (builtIn !== null && REVENUE_MACRO_NAMES.has(builtIn)) return true;
  if (share === ValueSharing.VALUES) return false;
  return source === MacroSource.PARAM || (builtIn !== null && PARAM_BUILT_IN_NAMES.has(builtIn));
}
