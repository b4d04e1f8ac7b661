/**
 * The app's storeCutPercent for the *_net macros. The column belongs to the App entity (issue
 * #14 adds it); read through here so that an App without it counts as no cut.
 */
export function storeCutPercentOf(app: object): number {
  const value = (app as { storeCutPercent?: unknown }).storeCutPercent;
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
