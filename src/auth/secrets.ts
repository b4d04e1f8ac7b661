import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiKeyRole } from '../common/enums';

const PREFIX_BY_ROLE: Record<ApiKeyRole, string> = {
  [ApiKeyRole.ADMIN]: 'pb_admin_',
  [ApiKeyRole.SDK]: 'pb_sdk_',
  [ApiKeyRole.PARTNER]: 'pb_partner_',
};

/** 256 random bits, with a role prefix so a leaked key is recognisable in a scan. */
export function generateApiSecret(role: ApiKeyRole): string {
  return PREFIX_BY_ROLE[role] + randomBytes(32).toString('base64url');
}

/** Secrets are random and long, so SHA-256 (no salt, no stretching) is enough and lets us look keys up by hash. */
export function hashApiSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** What may be shown or logged of a secret. */
export function secretDisplayPrefix(secret: string): string {
  return secret.slice(0, Math.min(14, Math.floor(secret.length / 3)));
}

export function sameSecretHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `Bearer <secret>` → secret; anything else → null. */
export function parseBearer(header: string | undefined | null): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}
