/**
 * How big a statement gets on the wire, so that no packet the service sends exceeds the
 * server's max_allowed_packet (16 MB on MariaDB by default, 4 MB on older MySQL; a larger
 * packet fails the whole statement with ER_NET_PACKET_TOO_LARGE).
 *
 * mysql2 interpolates bound values into the statement text (escaped, UTF-8), so a value's
 * share of the packet is at most 3 bytes per UTF-16 code unit (escaping doubles only ASCII
 * characters, which are 1 byte to start with) plus its quotes. This is an upper bound: cheap
 * to compute per value, and a packet within it is within the limit.
 */

/** The most a packet the service builds may hold by this estimate: a quarter of MariaDB's default limit. */
export const PACKET_BUDGET_BYTES = 4 * 1024 * 1024;

/** An upper bound on the bytes `value` adds to an interpolated statement. */
export function estimatedValueBytes(value: unknown): number {
  if (typeof value === 'string') return value.length * 3 + 2;
  if (value === null || value === undefined) return 4;
  if (Buffer.isBuffer(value)) return value.length * 2 + 3; // X'…' hex literal
  return 32; // numbers, booleans, dates
}

/** An upper bound on the bytes of `sql` with `parameters` interpolated. */
export function estimatedStatementBytes(sql: string, parameters: readonly unknown[]): number {
  let bytes = sql.length * 3;
  for (const value of parameters) bytes += estimatedValueBytes(value);
  return bytes;
}
