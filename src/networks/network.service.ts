import { DataSource, EntityManager, IsNull, Not } from 'typeorm';
import { ConflictError, NotFoundError, ProblemList } from '../common/errors';
import { Clock } from '../common/clock';
import { newId } from '../common/ids';
import { requiredText } from '../common/validation';
import { isUniqueViolation } from '../db/errors';
import { Callback } from '../callbacks/callback.entity';
import { ApiKeyService } from '../auth/api-key.service';
import { Network } from './network.entity';
import { serialized, withTransaction } from '../db/transactions';

export const NETWORK_SLUG_PATTERN = /^[a-z0-9_-]{1,64}$/;

export interface NetworkFields {
  name?: string | null;
  slug?: string | null;
}

export class NetworkService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly onChange: () => void = () => undefined,
    /** Keys bound to a deleted network, revoked in its transaction: announced after the commit. */
    private readonly onKeysRevoked: (keyIds: string[]) => void = () => undefined,
  ) {}

  list(): Promise<Network[]> {
    return this.dataSource.getRepository(Network).find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  findById(id: string): Promise<Network | null> {
    return this.dataSource.getRepository(Network).findOneBy({ id });
  }

  async getById(id: string): Promise<Network> {
    const network = await this.findById(id);
    if (!network) throw new NotFoundError('network', id);
    return network;
  }

  async create(input: Required<NetworkFields>): Promise<Network> {
    const fields = validateNetworkFields(input, true);
    const network = this.dataSource.getRepository(Network).create({ id: newId(), ...fields, isLive: true });
    await this.assertSlugFree(network.slug, null);
    await this.save(() => serialized(this.dataSource, () => this.dataSource.getRepository(Network).insert(network)), network.slug);
    this.onChange();
    return this.getById(network.id);
  }

  async update(id: string, input: NetworkFields): Promise<Network> {
    const network = await this.getById(id);
    const fields = validateNetworkFields(input, false);
    if (fields.slug && fields.slug !== network.slug) await this.assertSlugFree(fields.slug, id);
    await this.save(() => serialized(this.dataSource, () => this.dataSource.getRepository(Network).update({ id }, fields)), fields.slug ?? network.slug);
    this.onChange();
    return this.getById(id);
  }

  /** Soft delete: history keeps the network; its callbacks stop firing and its PARTNER keys are revoked. */
  async delete(id: string): Promise<boolean> {
    await this.getById(id);
    const now = this.clock.now();
    const revoked = await withTransaction(this.dataSource, async (manager: EntityManager) => {
      await manager.getRepository(Callback).update({ networkId: id, deletedAt: IsNull() }, { deletedAt: now, enabled: false });
      const keyIds = await ApiKeyService.revokeBoundKeys(manager, { networkId: id }, now);
      await manager.getRepository(Network).update({ id }, { deletedAt: now, isLive: null });
      return keyIds;
    });
    this.onKeysRevoked(revoked);
    this.onChange();
    return true;
  }

  private async assertSlugFree(slug: string, exceptId: string | null): Promise<void> {
    const twin = await this.dataSource.getRepository(Network).findOneBy({ slug, ...(exceptId ? { id: Not(exceptId) } : {}) });
    if (twin) throw duplicateSlug(slug);
  }

  private async save(write: () => Promise<unknown>, slug: string): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicateSlug(slug);
      throw error;
    }
  }
}

function duplicateSlug(slug: string): ConflictError {
  return new ConflictError(`a network with slug ${slug} already exists`, { field: 'input.slug' });
}

function validateNetworkFields(input: NetworkFields, creating: boolean): Partial<Pick<Network, 'name' | 'slug'>> {
  const problems = new ProblemList();
  const fields: Partial<Pick<Network, 'name' | 'slug'>> = {};
  if (creating || input.name != null) fields.name = requiredText(problems, 'input.name', input.name, 200);
  if (creating || input.slug != null) {
    const slug = (input.slug ?? '').trim();
    if (!NETWORK_SLUG_PATTERN.test(slug)) problems.add('input.slug', 'must be 1 to 64 characters of lowercase a-z, 0-9, _ and -');
    fields.slug = slug;
  }
  problems.throwIfAny();
  return fields;
}
