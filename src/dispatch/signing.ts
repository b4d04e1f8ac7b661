// Standard Webhooks signatures (https://www.standardwebhooks.com/): HMAC-SHA256 over
// `id.timestamp.body`, keyed with the base64 part of a `whsec_` secret, so receivers can use
// the published verifiers.
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
 * The `webhook-signature` header value (`v1,<base64>`) for one attempt. `body` is the exact
 * bytes sent ('' for GET); `timestampSeconds` is the `webhook-timestamp` header sent with it.
 */
export function signPostback(
  secret: string,
  deliveryId: string,
  timestampSeconds: number,
  body: string,
): string {
  return signerFor(secret).sign(deliveryId, new Date(timestampSeconds * 1000), body);
}
