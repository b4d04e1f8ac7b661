import { ApiKeyRole } from '../common/enums';
import { ForbiddenError, UnauthenticatedError } from '../common/errors';

/** Who is calling: resolved once per request (or WebSocket connection) from the API key. */
export type Principal =
  | { role: ApiKeyRole.ADMIN; keyId: string | null }
  | { role: ApiKeyRole.SDK; keyId: string; appId: string }
  | { role: ApiKeyRole.PARTNER; keyId: string; networkId: string };

export type AdminPrincipal = Extract<Principal, { role: ApiKeyRole.ADMIN }>;

export function requirePrincipal(principal: Principal | null): Principal {
  if (!principal) throw new UnauthenticatedError();
  return principal;
}

export function requireAdmin(principal: Principal | null): AdminPrincipal {
  const p = requirePrincipal(principal);
  if (p.role !== ApiKeyRole.ADMIN) throw new ForbiddenError('this operation needs an ADMIN key');
  return p;
}

export function isAdmin(principal: Principal | null): boolean {
  return principal?.role === ApiKeyRole.ADMIN;
}

/** ADMIN, or the SDK key bound to this app. */
export function requireAppWriter(principal: Principal | null, appId: string): Principal {
  const p = requirePrincipal(principal);
  if (p.role === ApiKeyRole.ADMIN) return p;
  if (p.role === ApiKeyRole.SDK && p.appId === appId) return p;
  throw new ForbiddenError(p.role === ApiKeyRole.SDK ? 'this SDK key is bound to another app' : 'a PARTNER key cannot record events');
}
