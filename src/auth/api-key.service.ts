import { DataSource, In, IsNull } from 'typeorm';
import { ApiKeyRole } from '../common/enums';
import { BadUserInputError, NotFoundError, ProblemList } from '../common/errors';
import { Clock } from '../common/clock';
import { newId } from '../common/ids';
import { App } from '../apps/app.entity';
import { Network } from '../networks/network.entity';
import { ApiKey } from './api-key.entity';
import { Principal } from './principal';
import { generateApiSecret, hashApiSecret, sameSecretHash, secretDisplayPrefix } from './secrets';
import { serialized } from '../db/transactions';
import { SingleFlight } from '../common/single-flight';

export interface CreateApiKeyCommand {
  name: string;
  role: ApiKeyRole;
  appId?: string | null;
  networkId?: string | null;
}

/** How long a looked-up key is trusted without asking the database again. Revocation in this process clears it at once. */
const KEY_CACHE_TTL_MS = 1000;
/** lastUsedAt is a hint for operators, not an audit log: write it at most this often per key. */
const LAST_USED_WRITE_INTERVAL_MS = 60_000;

interface CachedKey {
  principal: Principal | null;
  keyId: string | null;
  expiresAt: number;
}

export class ApiKeyService {
  private readonly adminSecretHash: string;
  private readonly cache = new Map<string, CachedKey>();
  private readonly lastUsedWritten = new Map<string, number>();
  /** Lookups in flight by secret hash. */
  private readonly loading = new SingleFlight<string, Principal | null>();
  /** Bumped by forget(): a lookup that started before a revocation is neither shared nor kept. */
  private generation = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    adminSecret: string,
    /** Tells every process (open WebSockets, key caches) that a key was revoked. */
    private readonly onRevoked: (keyId: string) => void = () => undefined,
  ) {
    this.adminSecretHash = hashApiSecret(adminSecret);
  }

  /** The principal for a bearer secret, or null when the secret is unknown or revoked. */
  async authenticate(secret: string): Promise<Principal | null> {
    const hash = hashApiSecret(secret);
    if (sameSecretHash(hash, this.adminSecretHash)) return { role: ApiKeyRole.ADMIN, keyId: null };
    const nowMs = this.clock.now().getTime();
    const cached = this.cache.get(hash);
    if (cached && cached.expiresAt > nowMs) return cached.principal;
    // When a key's entry expires, every request of that key in flight misses it at once: they
    // share one lookup, unless a key was forgotten (revoked) since it started.
    const generation = this.generation;
    return this.loading.joinable(hash, generation) ?? this.loading.track(hash, generation, this.lookUp(hash, nowMs, generation));
  }

  private async lookUp(hash: string, nowMs: number, generation: number): Promise<Principal | null> {
    const key = await this.dataSource.getRepository(ApiKey).findOneBy({ secretHash: hash });
    const principal = key && !key.revokedAt ? principalOf(key) : null;
    if (generation === this.generation) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, { principal, keyId: key?.id ?? null, expiresAt: nowMs + KEY_CACHE_TTL_MS });
    }
    if (key && principal) this.touch(key.id, nowMs);
    return principal;
  }

  /** Which of these keys are still valid: open WebSockets of the others are closed. */
  async activeKeyIds(keyIds: string[]): Promise<Set<string>> {
    const keys = await this.dataSource.getRepository(ApiKey).find({ select: { id: true }, where: { id: In(keyIds), revokedAt: IsNull() } });
    return new Set(keys.map((k) => k.id));
  }

  private touch(keyId: string, nowMs: number): void {
    const last = this.lastUsedWritten.get(keyId) ?? 0;
    if (nowMs - last < LAST_USED_WRITE_INTERVAL_MS) return;
    this.lastUsedWritten.set(keyId, nowMs);
    void serialized(this.dataSource, () => this.dataSource.getRepository(ApiKey).update({ id: keyId }, { lastUsedAt: new Date(nowMs) })).catch(() => undefined);
  }

  async findById(id: string): Promise<ApiKey | null> {
    return this.dataSource.getRepository(ApiKey).findOneBy({ id });
  }

  async list(): Promise<ApiKey[]> {
    return this.dataSource.getRepository(ApiKey).find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async create(command: CreateApiKeyCommand): Promise<{ apiKey: ApiKey; secret: string }> {
    const problems = new ProblemList();
    const name = command.name?.trim() ?? '';
    if (name.length === 0 || name.length > 200) problems.add('input.name', 'must be 1 to 200 characters');
    const appId = command.appId ?? null;
    const networkId = command.networkId ?? null;
    if (command.role === ApiKeyRole.SDK) {
      if (!appId) problems.add('input.appId', 'is required for SDK keys');
      if (networkId) problems.add('input.networkId', 'must be empty for SDK keys');
    } else if (command.role === ApiKeyRole.PARTNER) {
      if (!networkId) problems.add('input.networkId', 'is required for PARTNER keys');
      if (appId) problems.add('input.appId', 'must be empty for PARTNER keys');
    } else if (appId || networkId) {
      problems.add(appId ? 'input.appId' : 'input.networkId', 'must be empty for ADMIN keys');
    }
    problems.throwIfAny();
    if (appId && !(await this.dataSource.getRepository(App).existsBy({ id: appId }))) {
      throw BadUserInputError.field('input.appId', `no app with id ${appId}`);
    }
    if (networkId && !(await this.dataSource.getRepository(Network).existsBy({ id: networkId }))) {
      throw BadUserInputError.field('input.networkId', `no network with id ${networkId}`);
    }
    const secret = generateApiSecret(command.role);
    const apiKey = this.dataSource.getRepository(ApiKey).create({
      id: newId(),
      name,
      role: command.role,
      appId,
      networkId,
      secretHash: hashApiSecret(secret),
      secretPrefix: secretDisplayPrefix(secret),
      lastUsedAt: null,
      revokedAt: null,
    });
    await serialized(this.dataSource, () => this.dataSource.getRepository(ApiKey).insert(apiKey));
    return { apiKey: await this.dataSource.getRepository(ApiKey).findOneByOrFail({ id: apiKey.id }), secret };
  }

  /** Idempotent: revoking a revoked key returns true and keeps the first revocation time. */
  async revoke(id: string): Promise<boolean> {
    const repo = this.dataSource.getRepository(ApiKey);
    const key = await repo.findOneBy({ id });
    if (!key) throw new NotFoundError('API key', id);
    if (!key.revokedAt) await serialized(this.dataSource, () => repo.update({ id, revokedAt: IsNull() }, { revokedAt: this.clock.now() }));
    this.announceRevoked([id]);
    return true;
  }

  /** After a revocation committed: this process forgets the keys at once, and every process closes their WebSockets. */
  announceRevoked(keyIds: readonly string[]): void {
    for (const id of keyIds) {
      this.forget(id);
      this.onRevoked(id);
    }
  }

  /** Drops cached lookups of this key (after revocation here or, through pub/sub, elsewhere). */
  forget(keyId: string): void {
    this.generation++;
    for (const [hash, cached] of this.cache) if (cached.keyId === keyId) this.cache.delete(hash);
  }

  /**
   * Revokes every key bound to a deleted app or network, inside the caller's transaction, and
   * returns their ids: the caller passes them to announceRevoked once the transaction committed.
   */
  static async revokeBoundKeys(manager: DataSource['manager'], where: { appId?: string; networkId?: string }, now: Date): Promise<string[]> {
    const repo = manager.getRepository(ApiKey);
    const keys = await repo.find({ select: { id: true }, where: { ...where, revokedAt: IsNull() } });
    if (keys.length > 0) await repo.update({ id: In(keys.map((k) => k.id)) }, { revokedAt: now });
    return keys.map((k) => k.id);
  }
}

function principalOf(key: ApiKey): Principal | null {
  switch (key.role) {
    case ApiKeyRole.ADMIN:
      return { role: ApiKeyRole.ADMIN, keyId: key.id };
    case ApiKeyRole.SDK:
      return key.appId ? { role: ApiKeyRole.SDK, keyId: key.id, appId: key.appId } : null;
    case ApiKeyRole.PARTNER:
      return key.networkId ? { role: ApiKeyRole.PARTNER, keyId: key.id, networkId: key.networkId } : null;
  }
}
