import { DataSource, In, IsNull } from 'typeorm';
import { MacroSource, MacroTransform } from '../common/enums';
import { BadUserInputError, ConflictError, NotFoundError } from '../common/errors';
import { newId } from '../common/ids';
import { isUniqueViolation } from '../db/errors';
import { App } from '../apps/app.entity';
import { Callback } from '../callbacks/callback.entity';
import { compileCallbackTemplates } from './render-postback';
import { validateMacroDefinition } from './macro-resolution';
import { GLOBAL_MACRO_SCOPE, Macro } from './macro.entity';
import { serialized } from '../db/transactions';

export interface CreateMacroCommand {
  appId?: string | null;
  name: string;
  source: MacroSource;
  path?: string | null;
  value?: string | null;
  defaultValue?: string | null;
  transform?: MacroTransform | null;
}

/**
 * Macros one scope (an app, or the global scope) may hold. Every recordEvent loads its app's
 * macros and the global ones; a real integration needs tens.
 */
export const MAX_MACROS_PER_SCOPE = 500;

export type UpdateMacroCommand = Partial<Omit<CreateMacroCommand, 'appId' | 'name'>>;

export class MacroService {
  constructor(
    private readonly dataSource: DataSource,
    /** appId null: a global macro changed, which may concern every app. */
    private readonly onChange: (appId: string | null) => void = () => undefined,
  ) {}

  /** Global macros and, with appId, that app's. */
  list(appId: string | null): Promise<Macro[]> {
    const scopes = appId ? [GLOBAL_MACRO_SCOPE, appId] : [GLOBAL_MACRO_SCOPE];
    return this.dataSource.getRepository(Macro).find({ where: { scope: In(scopes) }, order: { name: 'ASC', scope: 'ASC' } });
  }

  listForApp(appId: string): Promise<Macro[]> {
    return this.dataSource.getRepository(Macro).find({ where: { appId }, order: { name: 'ASC' } });
  }

  async getById(id: string): Promise<Macro> {
    const macro = await this.dataSource.getRepository(Macro).findOneBy({ id });
    if (!macro) throw new NotFoundError('macro', id);
    return macro;
  }

  /** Names that templates of this app may use: its macros and the global ones (built-ins are checked apart). */
  async definedNames(appId: string): Promise<Set<string>> {
    const rows = await this.dataSource.getRepository(Macro).find({ select: { name: true }, where: { scope: In([GLOBAL_MACRO_SCOPE, appId]) } });
    return new Set(rows.map((row) => row.name));
  }

  async create(input: CreateMacroCommand): Promise<Macro> {
    const appId = input.appId ?? null;
    const definition = normalise({ ...input, transform: input.transform ?? MacroTransform.NONE });
    throwProblems(validateMacroDefinition(definition, 'input'));
    if (appId && !(await this.dataSource.getRepository(App).existsBy({ id: appId }))) {
      throw BadUserInputError.field('input.appId', `no app with id ${appId}`);
    }
    const scope = appId ?? GLOBAL_MACRO_SCOPE;
    const repo = this.dataSource.getRepository(Macro);
    if (await repo.existsBy({ scope, name: definition.name })) throw duplicateMacro(definition.name, appId);
    if ((await repo.countBy({ scope })) >= MAX_MACROS_PER_SCOPE) {
      throw BadUserInputError.field(appId ? 'input.appId' : 'input', `${appId ? `app ${appId}` : 'the global scope'} already holds ${MAX_MACROS_PER_SCOPE} macros, the most one scope may hold`);
    }
    const macro = repo.create({ id: newId(), appId, scope, ...definition });
    try {
      await serialized(this.dataSource, () => repo.insert(macro));
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicateMacro(definition.name, appId);
      throw error;
    }
    this.onChange(appId);
    return this.getById(macro.id);
  }

  async update(id: string, input: UpdateMacroCommand): Promise<Macro> {
    const macro = await this.getById(id);
    const merged = normalise({
      name: macro.name,
      source: input.source ?? macro.source,
      // Switching source drops the other source's field unless it is given again.
      path: input.path !== undefined ? input.path : input.source && input.source !== macro.source ? null : macro.path,
      value: input.value !== undefined ? input.value : input.source && input.source !== macro.source ? null : macro.value,
      defaultValue: input.defaultValue !== undefined ? input.defaultValue : macro.defaultValue,
      transform: input.transform ?? macro.transform,
    });
    throwProblems(validateMacroDefinition(merged, 'input'));
    const { name: _name, ...changes } = merged;
    await serialized(this.dataSource, () => this.dataSource.getRepository(Macro).update({ id }, changes));
    this.onChange(macro.appId);
    return this.getById(id);
  }

  /** A macro that a live callback still uses (and nothing else would define) cannot go: CONFLICT naming the callbacks. */
  async delete(id: string): Promise<boolean> {
    const macro = await this.getById(id);
    const users = await this.callbacksLeftWithout(macro);
    if (users.length > 0) {
      throw new ConflictError(`macro ${macro.name} is used by callbacks ${users.map((c) => `${c.name} (${c.id})`).join(', ')}; change them first`, {
        callbackIds: users.map((c) => c.id),
      });
    }
    await serialized(this.dataSource, () => this.dataSource.getRepository(Macro).delete({ id }));
    this.onChange(macro.appId);
    return true;
  }

  private async callbacksLeftWithout(macro: Macro): Promise<Callback[]> {
    const callbacks = await this.dataSource.getRepository(Callback).find({
      where: macro.appId ? { appId: macro.appId, deletedAt: IsNull() } : { deletedAt: IsNull() },
    });
    const using = callbacks.filter((callback) => compileCallbackTemplates(callback).macroNames.includes(macro.name));
    if (using.length === 0) return [];
    if (macro.appId) {
      // The name may still be defined globally, which then takes over.
      const globalTwin = await this.dataSource.getRepository(Macro).existsBy({ scope: GLOBAL_MACRO_SCOPE, name: macro.name });
      return globalTwin ? [] : using;
    }
    // A global macro's name may still be defined by an app itself.
    const shadowed = await this.dataSource.getRepository(Macro).find({
      select: { appId: true },
      where: { name: macro.name, appId: In([...new Set(using.map((c) => c.appId))]) },
    });
    const appsWithOwn = new Set(shadowed.map((m) => m.appId));
    return using.filter((callback) => !appsWithOwn.has(callback.appId));
  }
}

function normalise(input: Omit<CreateMacroCommand, 'appId'> & { transform: MacroTransform }) {
  return {
    name: (input.name ?? '').trim(),
    source: input.source,
    path: input.path?.trim() || null,
    value: input.value ?? null,
    defaultValue: input.defaultValue ?? null,
    transform: input.transform,
  };
}

function throwProblems(problems: { field: string; reason: string }[]): void {
  if (problems.length > 0) throw new BadUserInputError(problems);
}

function duplicateMacro(name: string, appId: string | null): ConflictError {
  return new ConflictError(appId ? `app ${appId} already has a macro named ${name}` : `a global macro named ${name} already exists`, { field: 'input.name' });
}

