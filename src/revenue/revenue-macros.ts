// The revenue built-ins: revenue in USD (as a decimal, in cents, in micros) and net of the
// store's cut. Kept apart from the other built-ins; built-in-macros.ts lists them.
//
// No runtime import from built-in-macros.ts (which imports this file): the decimal formatter
// is passed in, so either module may be loaded first.

/** What the revenue built-ins read from the render context (a subset of PostbackEventContext). */
export interface RevenueContext {
  revenue: number | null;
  currency: string | null;
  occurredAt: Date;
  /** Units of the event's currency per 1 USD in force on the event's UTC date; null or absent: none. */
  usdRate?: number | null;
  /** The app's store cut, 0..100, taken off gross revenue by the *_net macros; absent: 0. */
  storeCutPercent?: number | null;
  /** Why a value rendered empty, for the delivery's renderNotes; absent: nobody listens. */
  renderNotes?: string[];
}

export interface RevenueMacro {
  name: string;
  description: string;
  example: string;
  value: (ctx: RevenueContext) => string | null;
}

export const REVENUE_MACRO_NAMES = ['revenue_usd', 'revenue_usd_cents', 'revenue_usd_micros', 'revenue_net', 'revenue_usd_net'] as const;

/** Decimal places kept in converted and net amounts: micros, the finest unit ad networks take. */
const DECIMALS = 6;

export function revenueMacros(formatDecimal: (n: number) => string): RevenueMacro[] {
  const usd = (name: string) => (ctx: RevenueContext) => revenueInUsd(ctx, name);
  return [
    {
      name: 'revenue_usd',
      description: 'The revenue in US dollars (rounded to 6 decimals), converted with the rate in force on the event\'s UTC date (setExchangeRates); empty, with a renderNote, when there is none.',
      example: '5.423913',
      value: (c) => mapNumber(usd('revenue_usd')(c), (v) => formatDecimal(roundTo(v, DECIMALS))),
    },
    {
      name: 'revenue_usd_cents',
      description: 'The revenue in whole US cents (rounded half away from zero).',
      example: '542',
      value: (c) => mapNumber(usd('revenue_usd_cents')(c), (v) => formatDecimal(roundTo(v * 100, 0))),
    },
    {
      name: 'revenue_usd_micros',
      description: 'The revenue in whole micro-dollars (1 USD = 1000000).',
      example: '5423913',
      value: (c) => mapNumber(usd('revenue_usd_micros')(c), (v) => formatDecimal(roundTo(v * 1_000_000, 0))),
    },
    {
      name: 'revenue_net',
      description: "The revenue in its own currency after the app's storeCutPercent (rounded to 6 decimals).",
      example: '3.493',
      value: (c) => (hasRevenue(c) ? formatDecimal(roundTo((c.revenue as number) * netFactor(c), DECIMALS)) : null),
    },
    {
      name: 'revenue_usd_net',
      description: "revenue_usd after the app's storeCutPercent (rounded to 6 decimals).",
      example: '3.796739',
      value: (c) => mapNumber(usd('revenue_usd_net')(c), (v) => formatDecimal(roundTo(v * netFactor(c), DECIMALS))),
    },
  ];
}

function hasRevenue(ctx: RevenueContext): boolean {
  return ctx.revenue !== null && Number.isFinite(ctx.revenue);
}

/**
 * The revenue in USD, unrounded: as is without a currency or in USD, else divided by the rate
 * in force. null without revenue, or without a rate (noted under `macro`'s name).
 */
export function revenueInUsd(ctx: RevenueContext, macro: string): number | null {
  if (!hasRevenue(ctx)) return null;
  const revenue = ctx.revenue as number;
  if (ctx.currency === null || ctx.currency === 'USD') return revenue;
  const rate = ctx.usdRate;
  if (rate === null || rate === undefined || !(rate > 0) || !Number.isFinite(rate)) {
    addRenderNote(ctx, `${macro}: no USD rate for ${ctx.currency} on ${utcDate(ctx.occurredAt)}`);
    return null;
  }
  return revenue / rate;
}

/** 1 − cut/100, with the cut held to 0..100 (a bad stored value must not invert revenue). */
function netFactor(ctx: RevenueContext): number {
  const cut = ctx.storeCutPercent ?? 0;
  if (!Number.isFinite(cut)) return 1;
  return 1 - Math.min(100, Math.max(0, cut)) / 100;
}

function mapNumber(value: number | null, f: (v: number) => string): string | null {
  return value === null ? null : f(value);
}

export function addRenderNote(ctx: { renderNotes?: string[] }, note: string): void {
  if (ctx.renderNotes && !ctx.renderNotes.includes(note)) ctx.renderNotes.push(note);
}

/** YYYY-MM-DD of a time, in UTC. */
export function utcDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * Rounds half away from zero to `decimals` places, deciding on the 15 significant digits a double
 * holds for sure: 1.005 × 100 is 100.49999999999999 in binary, and must round to 101 as on paper.
 */
export function roundTo(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  const scaled = Number((value * scale).toPrecision(15));
  const rounded = Math.sign(scaled) * Math.round(Math.abs(scaled));
  return rounded / scale + 0; // + 0 turns -0 into 0
}
