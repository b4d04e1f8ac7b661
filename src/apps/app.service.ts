import { DataSource, EntityManager, IsNull, Not } from 'typeorm';
import { Platform } from '../common/enums';
import { ConflictError, NotFoundError, ProblemList } from '../common/errors';
import { Clock } from '../common/clock';
import { newId } from '../common/ids';
import { intInRange, requiredText } from '../common/validation';
import { isUniqueViolation } from '../db/errors';
import { Callback } from '../callbacks/callback.entity';
import { Macro } from '../macros/macro.entity';
import { ApiKeyService } from '../auth/api-key.service';
import { App } from './app.entity';
import { serialized, withTransaction } from '../db/transactions';

export interface AppFields {
  name?: string | null;
  bundleId?: string | null;
  platform?: Platform | null;
  attributionMemoryDays?: number | null;
  storeCutPercent?: number | null;
}

export const APP_LIMITS = {
  attributionMemoryDays: { min: 1, max: 730, default: 90 },
  storeCutPercent: { min: 0, max: 100, default: 0 },
} as const;

// Reverse-DNS bundle ids, Android package names, App Store ids (id123…) and web domains.
const BUNDLE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class AppService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly onChange: (appId: string) => void = () => undefined,
    /** Keys bound to a deleted app, revoked in its transaction: announced after the commit. */
    private readonly onKeysRevoked: (keyIds: string[]) => void = () => undefined,
  ) {}

  list(): Promise<App[]> {
    return this.dataSource.getRepository(App).find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  findById(id: string): Promise<App | null> {
    return this.dataSource.getRepository(App).findOneBy({ id });
  }

  async getById(id: string): Promise<App> {
    const app = await this.findById(id);
    if (!app) throw new NotFoundError('app', id);
    return app;
  }

  async create(input: AppFields & Required<Pick<AppFields, 'name' | 'bundleId' | 'platform'>>): Promise<App> {
    const fields = validateAppFields(input, true);
    const app = this.dataSource.getRepository(App).create({
      id: newId(),
      attributionMemoryDays: APP_LIMITS.attributionMemoryDays.default,
      storeCutPercent: APP_LIMITS.storeCutPercent.default,
      ...fields,
      isLive: true,
    });
    await this.assertNoTwin(app.bundleId, app.platform, null);
    await this.save(() => serialized(this.dataSource, () => this.dataSource.getRepository(App).insert(app)), app);
    return this.getById(app.id);
  }

  async update(id: string, input: AppFields): Promise<App> {
    const app = await this.getById(id);
    const fields = validateAppFields(input, false);
    const next = { ...app, ...fields };
    if (next.bundleId !== app.bundleId || next.platform !== app.platform) await this.assertNoTwin(next.bundleId, next.platform, id);
    await this.save(() => serialized(this.dataSource, () => this.dataSource.getRepository(App).update({ id }, fields)), next);
    this.onChange(id);
    return this.getById(id);
  }

  /**
   * Soft delete: deliveries keep pointing at the app, its callbacks stop firing, its
   * macros go, and its SDK keys are revoked, all in one transaction.
   */
  async delete(id: string): Promise<boolean> {
    await this.getById(id);
    const now = this.clock.now();
    const revoked = await withTransaction(this.dataSource, async (manager: EntityManager) => {
      await manager.getRepository(Callback).update({ appId: id, deletedAt: IsNull() }, { deletedAt: now, enabled: false });
      await manager.getRepository(Macro).delete({ appId: id });
      const keyIds = await ApiKeyService.revokeBoundKeys(manager, { appId: id }, now);
      await manager.getRepository(App).update({ id }, { deletedAt: now, isLive: null });
      return keyIds;
    });
    this.onKeysRevoked(revoked);
    this.onChange(id);
    return true;
  }

  private async assertNoTwin(bundleId: string, platform: Platform, exceptId: string | null): Promise<void> {
    const twin = await this.dataSource.getRepository(App).findOneBy({ bundleId, platform, ...(exceptId ? { id: Not(exceptId) } : {}) });
    if (twin) throw duplicateApp(bundleId, platform, twin.id);
  }

  private async save(write: () => Promise<unknown>, app: { bundleId: string; platform: Platform }): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicateApp(app.bundleId, app.platform, null);
      throw error;
    }
  }
}

function duplicateApp(bundleId: string, platform: Platform, existingId: string | null): ConflictError {
  return new ConflictError(`an app with bundle id ${bundleId} on ${platform} already exists`, {
    field: 'input.bundleId',
    ...(existingId ? { existingId } : {}),
  });
}

type AppColumns = Pick<App, 'name' | 'bundleId' | 'platform' | 'attributionMemoryDays' | 'storeCutPercent'>;

function validateAppFields(input: AppFields, creating: boolean): Partial<AppColumns> {
  const problems = new ProblemList();
  const fields: Partial<AppColumns> = {};
  if (creating || input.name != null) fields.name = requiredText(problems, 'input.name', input.name, 200);
  if (creating || input.bundleId != null) {
    const bundleId = requiredText(problems, 'input.bundleId', input.bundleId, 255);
    if (bundleId && !BUNDLE_ID_PATTERN.test(bundleId)) {
      problems.add('input.bundleId', 'may hold only letters, digits, dots, dashes and underscores, starting with a letter or digit');
    }
    fields.bundleId = bundleId;
  }
  if (input.platform != null) fields.platform = input.platform;
  if (input.attributionMemoryDays != null) {
    const { min, max } = APP_LIMITS.attributionMemoryDays;
    intInRange(problems, 'input.attributionMemoryDays', input.attributionMemoryDays, min, max);
    fields.attributionMemoryDays = input.attributionMemoryDays;
  }
  if (input.storeCutPercent != null) {
    const { min, max } = APP_LIMITS.storeCutPercent;
    if (!Number.isFinite(input.storeCutPercent) || input.storeCutPercent < min || input.storeCutPercent > max) {
      problems.add('input.storeCutPercent', `must be a number from ${min} to ${max}, got ${input.storeCutPercent}`);
    }
    fields.storeCutPercent = input.storeCutPercent;
  }
  problems.throwIfAny();
  return fields;
}
