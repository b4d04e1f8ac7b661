// Which destinations a postback may reach. A postback URL is partner-controlled input, so
// without this check it could reach the cloud metadata service, localhost admin ports or
// the private network. The check runs inside the DNS lookup the socket itself uses, so an
// answer that changes between a check and the connect (DNS rebinding) cannot slip through.
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { MAX_RENDERED_URL_LENGTH } from './sender';

/**
 * IPv6 is public only inside global unicast 2000::/3 (and, below, for IPv4 embedded in
 * the IPv4-mapped, NAT64 and 6to4 forms). This catches what ipaddr.js labels 'unicast' by
 * default although it is no such thing, e.g. the deprecated IPv4-compatible ::a.b.c.d.
 */
export const IPV6_GLOBAL_UNICAST = '2000::/3';

/**
 * Ranges refused on top of ipaddr.js's own range names (everything but 'unicast' is
 * refused). ipaddr.js 2.5 already names every IANA special-purpose IPv4 range; these are
 * listed so the guard does not depend on its version, plus IPv6 ranges it folds into
 * 'unicast'.
 */
export const EXTRA_BLOCKED_IPV4_CIDRS: readonly string[] = [
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', // RFC 1918
  '100.64.0.0/10', // CGNAT
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, cloud metadata
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', // documentation
  '192.88.99.0/24', // deprecated 6to4 relay anycast
  '198.18.0.0/15', // benchmarking
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and 255.255.255.255 broadcast
];
export const EXTRA_BLOCKED_IPV6_CIDRS: readonly string[] = [
  '::/96', // deprecated IPv4-compatible addresses (and :: / ::1)
  '64:ff9b:1::/48', // local-use NAT64 (RFC 8215)
  '100::/64', // discard-only
  '2001::/23', // IETF protocol assignments, Teredo included
  '2001:db8::/32', // documentation
  '3fff::/20', // documentation (RFC 9637)
  '5f00::/16', // segment routing SIDs
  'fc00::/7', // unique local
  'fe80::/10', // link-local
  'fec0::/10', // deprecated site-local
  'ff00::/8', // multicast
];
/** NAT64 well-known prefix: the IPv4 address is the last 32 bits. */
export const NAT64_WELL_KNOWN_PREFIX = '64:ff9b::/96';
/** 6to4: the IPv4 address is bits 16–47. */
export const SIX_TO_FOUR_PREFIX = '2002::/16';

type Cidr<T> = [T, number];
const parseV4 = (cidr: string) => ipaddr.IPv4.parseCIDR(cidr) as Cidr<ipaddr.IPv4>;
const parseV6 = (cidr: string) => ipaddr.IPv6.parseCIDR(cidr) as Cidr<ipaddr.IPv6>;
const blockedV4 = EXTRA_BLOCKED_IPV4_CIDRS.map(parseV4);
const blockedV6 = EXTRA_BLOCKED_IPV6_CIDRS.map(parseV6);
const globalUnicastV6 = parseV6(IPV6_GLOBAL_UNICAST);
const nat64 = parseV6(NAT64_WELL_KNOWN_PREFIX);
const sixToFour = parseV6(SIX_TO_FOUR_PREFIX);

function isPublicV4(addr: ipaddr.IPv4): boolean {
  if (addr.range() !== 'unicast') return false;
  return !blockedV4.some((cidr) => addr.match(cidr));
}

function v4From(hi: number, lo: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

function isPublicV6(addr: ipaddr.IPv6): boolean {
  const p = addr.parts;
  // Forms that carry an IPv4 address: the IPv4 address decides.
  if (addr.isIPv4MappedAddress()) return isPublicV4(addr.toIPv4Address());
  if (addr.match(nat64)) return isPublicV4(v4From(p[6], p[7]));
  if (addr.match(sixToFour)) return isPublicV4(v4From(p[1], p[2]));
  if (addr.range() !== 'unicast') return false;
  if (!addr.match(globalUnicastV6)) return false;
  return !blockedV6.some((cidr) => addr.match(cidr));
}

/**
 * True only for globally reachable unicast addresses. Anything that is not a plain IPv4 or
 * IPv6 address in canonical textual form (as DNS and the URL parser produce) is refused.
 */
export function isPublicAddress(ip: string): boolean {
  const family = net.isIP(ip);
  if (family === 0) return false;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(family === 6 ? dottedTailToHex(ip) : ip);
  } catch {
    return false;
  }
  if (addr.kind() === 'ipv4') return isPublicV4(addr as ipaddr.IPv4);
  const v6 = addr as ipaddr.IPv6;
  // A zone id only makes sense on link-local addresses, which are refused anyway.
  if (v6.zoneId) return false;
  return isPublicV6(v6);
}

/**
 * ipaddr.js reads any IPv6 address with a dotted IPv4 tail as IPv4-mapped ("::8.8.8.8"
 * becomes ::ffff:808:808), while the socket would connect to the IPv4-compatible
 * ::808:808. Writing the tail in hex first makes ipaddr.js see the address Node uses.
 */
function dottedTailToHex(ip: string): string {
  const match = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!match) return ip;
  const [a, b, c, d] = match.slice(2).map(Number);
  return `${match[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

export const DESTINATION_NOT_ALLOWED_CODE = 'EDESTINATIONNOTALLOWED';

export class DestinationNotAllowedError extends Error {
  readonly code = DESTINATION_NOT_ALLOWED_CODE;
  constructor(
    readonly address: string,
    readonly hostname?: string,
  ) {
    super(
      hostname !== undefined && hostname !== address
        ? `destination not allowed: ${address} (resolved from ${hostname})`
        : `destination not allowed: ${address}`,
    );
    this.name = 'DestinationNotAllowedError';
  }
}

/** Walks an error's `cause` chain (got and undici wrap socket errors) for a guard refusal. */
export function findDestinationNotAllowed(error: unknown): DestinationNotAllowedError | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof DestinationNotAllowedError) return current;
    current = (current as Error & { cause?: unknown }).cause;
  }
  return null;
}

export type LookupAddress = { address: string; family: number };
export type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;
export type LookupOptions = number | { family?: number | string; all?: boolean; hints?: number; verbatim?: boolean; order?: string };
export type LookupFunction = (
  hostname: string,
  options: LookupOptions | LookupCallback,
  callback?: LookupCallback,
) => void;

/**
 * A `dns.lookup`-compatible function for http agents, got's `dnsLookup` and undici's
 * `connect.lookup`. With allowPrivate false it fails with DestinationNotAllowedError unless
 * every resolved address is public; Node connects only to addresses this returns.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return function lookup(hostname, options, callback) {
    let cb: LookupCallback;
    let opts: LookupOptions;
    if (typeof options === 'function') {
      cb = options;
      opts = {};
    } else {
      cb = callback as LookupCallback;
      opts = options ?? {};
    }
    const wantAll = typeof opts === 'object' && opts.all === true;
    const resolveOptions: dns.LookupAllOptions =
      typeof opts === 'number'
        ? { family: opts, all: true }
        : ({ ...opts, all: true } as dns.LookupAllOptions);
    dns.lookup(hostname, resolveOptions, (err, addresses) => {
      if (err) {
        cb(err, wantAll ? [] : '');
        return;
      }
      if (!allowPrivate) {
        const refused = addresses.find((a) => !isPublicAddress(a.address));
        if (refused) {
          cb(new DestinationNotAllowedError(refused.address, hostname), wantAll ? [] : '');
          return;
        }
      }
      if (wantAll) {
        cb(null, addresses);
      } else if (addresses.length === 0) {
        const notFound: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        notFound.code = 'ENOTFOUND';
        cb(notFound, '');
      } else {
        cb(null, addresses[0].address, addresses[0].family);
      }
    });
  };
}

export type UrlCheck =
  | { ok: true; url: URL }
  | { ok: false; reason: string; kind: 'invalid-url' | 'blocked' };

/**
 * Checks a rendered URL before any socket is opened: scheme, length, and hosts that are IP
 * literals (Node does not call `lookup` for those, so the guarded lookup never sees them).
 * The WHATWG parser has already normalised forms like 0x7f000001 or 2130706433 to 127.0.0.1.
 */
export function checkUrlForDispatch(url: string, allowPrivate: boolean): UrlCheck {
  if (url.length > MAX_RENDERED_URL_LENGTH) {
    return {
      ok: false,
      kind: 'invalid-url',
      reason: `the rendered URL exceeds ${MAX_RENDERED_URL_LENGTH} characters (${url.length})`,
    };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, kind: 'invalid-url', reason: 'the rendered URL is not a valid URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return {
      ok: false,
      kind: 'invalid-url',
      reason: `the URL scheme must be http or https, not ${parsed.protocol.replace(/:$/, '')}`,
    };
  }
  if (parsed.hostname === '') {
    return { ok: false, kind: 'invalid-url', reason: 'the URL has no host' };
  }
  if (!allowPrivate) {
    const host = literalHost(parsed.hostname);
    if (net.isIP(host) !== 0 && !isPublicAddress(host)) {
      return { ok: false, kind: 'blocked', reason: `destination not allowed: ${host}` };
    }
  }
  return { ok: true, url: parsed };
}

/** URL.hostname keeps the brackets of an IPv6 literal. */
export function literalHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}
