// What a rotated-out signing secret still counts for (rotateSigningSecret). Pure: the caller
// passes `now`. The columns keep the old secret after its overlap; from then on it signs
// nothing and is shown nowhere.
import type { Callback } from './callback.entity';

export type RotationColumns = Pick<Callback, 'signingSecret' | 'previousSigningSecret' | 'previousSecretExpiresAt'>;

/** The rotated-out secret and its end while the overlap lasts; null once it is over, or with signing off. */
export function previousSecretInForce(callback: RotationColumns, now: Date): { secret: string; expiresAt: Date } | null {
  const { signingSecret, previousSigningSecret, previousSecretExpiresAt } = callback;
  if (!signingSecret || !previousSigningSecret || previousSecretExpiresAt === null) return null;
  if (previousSecretExpiresAt.getTime() <= now.getTime()) return null;
  return { secret: previousSigningSecret, expiresAt: previousSecretExpiresAt };
}
