// Standard Webhooks signatures (https://www.standardwebhooks.com/): HMAC-SHA256 over
// `id.timestamp.payload`, keyed with the base64 part of a `whsec_` secret, so receivers can use
// the published verifiers. The payload is the body of a POST and the request target (path and
// query) of a GET: most ad-network postbacks are GETs whose query carries every macro value,
// and an empty payload would leave all of it unsigned.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const SIGNING_SECRET_PREFIX = 'whsec_';
export const SIGNING_SECRET_BYTES = 32;
/** Webhook instances decode their key once; a dispatcher signs for a bounded set of callbacks. */
const MAX_CACHED_SIGNERS = 1000;

export function generateSigningSecret(): string {
  return SIGNING_SECRET_PREFIX + randomBytes(SIGNING_SECRET_BYTES).toString('base64');
}

const signers = new Map<string, Webhook>();

function signerFor(secret: string): Webhook {
  let signer = signers.get(secret);
  if (!signer) {
    signer = new Webhook(secret);
    if (signers.size >= MAX_CACHED_SIGNERS) signers.clear();
    signers.set(secret, signer);
  }
  return signer;
}

/**
 * What a postback's signature covers: for a POST the exact body sent (empty when none), for a
 * GET the request target as it goes on the wire (`/path?query`, percent-encoded), which is what
 * a receiver reads as its request URL (`req.url` in Node, `$_SERVER['REQUEST_URI']` in PHP).
 */
export function signedContent(method: 'GET' | 'POST', requestTarget: string, body: string | null | undefined): string {
  return method === 'GET' ? requestTarget : (body ?? '');
}

/**
 * The `webhook-signature` header value (`v1,<base64>`) for one attempt. `payload` is what
 * signedContent() says the signature covers; `timestampSeconds` is the `webhook-timestamp` header sent with it.
 */
export function signPostback(
  secret: string,
  deliveryId: string,
  timestampSeconds: number,
  payload: string,
): string {
  return signerFor(secret).sign(deliveryId, new Date(timestampSeconds * 1000), payload);
}
