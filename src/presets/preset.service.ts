import { DataSource } from 'typeorm';
import { HttpMethod, MacroSource } from '../common/enums';
import { BadUserInputError, ConflictError, ProblemList } from '../common/errors';
import { App } from '../apps/app.entity';
import type { Callback } from '../callbacks/callback.entity';
import type { CallbackCommand, CallbackService } from '../callbacks/callback.service';
import { MACRO_VALUE_MAX_LENGTH } from '../macros/macro-resolution';
import { Macro } from '../macros/macro.entity';
import type { MacroService } from '../macros/macro.service';
import type { ValueSharing } from '../common/enums';
import { partnerPresets, type CatalogPreset } from './preset-catalog';

/** The shape of CallbackCommand's eventMappings. */
type EventMappingCommand = { eventName: string; partnerEventName?: string | null; share?: ValueSharing | null };

export interface CreateFromTemplateCommand {
  templateId: string;
  appId: string;
  networkId?: string | null;
  name?: string | null;
  credentials: ReadonlyArray<{ name: string; value: string }>;
  eventNames?: string[] | null;
  eventMappings?: EventMappingCommand[] | null;
  signing?: boolean | null;
}

/**
 * Partner presets and callbacks made from them. A preset's credentials become the app's CONSTANT
 * macros, which its templates name; a macro the app already has under that name is reused when
 * it holds the same value and refused (CONFLICT) otherwise, so one app's two presets cannot
 * silently change each other's keys.
 */
export class PresetService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly macros: MacroService,
    private readonly callbacks: CallbackService,
    private readonly catalog: () => ReadonlyMap<string, CatalogPreset> = partnerPresets,
  ) {}

  list(): CatalogPreset[] {
    return [...this.catalog().values()];
  }

  async createCallback(input: CreateFromTemplateCommand): Promise<Callback> {
    const preset = this.catalog().get(input.templateId);
    if (!preset) {
      throw BadUserInputError.field('input.templateId', `no partner template ${JSON.stringify(input.templateId)}; partnerTemplates lists them (${[...this.catalog().keys()].join(', ')})`);
    }
    const problems = new ProblemList();
    const credentials = checkCredentials(problems, preset, input.credentials);
    if (preset.attributedOnly && !input.networkId) {
      problems.add('input.networkId', `${preset.name} is sent only for events attributed to the callback's network: give its networkId`);
    }
    problems.throwIfAny();
    if (!(await this.dataSource.getRepository(App).existsBy({ id: input.appId }))) {
      throw BadUserInputError.field('input.appId', `no app with id ${input.appId}`);
    }

    // Refuse clashes before writing anything.
    const existing = new Map(
      (await this.dataSource.getRepository(Macro).find({ where: { scope: input.appId } })).map((m) => [m.name, m]),
    );
    const toCreate: { name: string; value: string }[] = [];
    for (const credential of credentials) {
      const macro = existing.get(credential.name);
      if (!macro) toCreate.push(credential);
      else if (macro.source !== MacroSource.CONSTANT || macro.value !== credential.value) {
        throw new ConflictError(
          `app ${input.appId} already has a macro ${credential.name} with another value; update or delete it (it may serve another callback), or give the same value`,
          { field: `input.credentials`, macro: credential.name },
        );
      }
    }

    const command: CallbackCommand & { appId: string } = {
      appId: input.appId,
      networkId: input.networkId ?? null,
      name: input.name ?? preset.name,
      method: preset.method as HttpMethod,
      urlTemplate: preset.urlTemplate,
      bodyTemplate: preset.bodyTemplate,
      headers: preset.headers.map((h) => ({ ...h })),
      eventNames: input.eventNames ?? preset.eventNames,
      eventMappings: input.eventMappings ?? preset.eventMappings.map((m) => ({ ...m })),
      attributedOnly: preset.attributedOnly,
      signing: input.signing ?? preset.signing,
    };

    // The macros first (the callback's check needs its names defined); taken out again if the
    // callback is refused, so a refused call leaves nothing behind.
    const created: string[] = [];
    try {
      for (const credential of toCreate) {
        const macro = await this.macros.create({ appId: input.appId, name: credential.name, source: MacroSource.CONSTANT, value: credential.value });
        created.push(macro.id);
      }
      return await this.callbacks.create(command);
    } catch (error) {
      for (const id of created) await this.macros.delete(id).catch(() => undefined);
      throw error;
    }
  }
}

/** Every credential of the preset given once with a non-empty value, and no other. */
function checkCredentials(problems: ProblemList, preset: CatalogPreset, given: ReadonlyArray<{ name: string; value: string }>): { name: string; value: string }[] {
  const known = new Set(preset.credentials.map((c) => c.name));
  const seen = new Map<string, string>();
  given.forEach((credential, i) => {
    const name = (credential.name ?? '').trim();
    if (!known.has(name)) {
      problems.add(`input.credentials.${i}.name`, `${JSON.stringify(credential.name)} is not a credential of ${preset.id}; it takes ${[...known].join(', ') || 'none'}`);
    } else if (seen.has(name)) {
      problems.add(`input.credentials.${i}.name`, `${name} is given more than once`);
    } else if ((credential.value ?? '').trim() === '') {
      problems.add(`input.credentials.${i}.value`, `${name} must not be empty`);
    } else if (credential.value.length > MACRO_VALUE_MAX_LENGTH) {
      problems.add(`input.credentials.${i}.value`, `${name} must be at most ${MACRO_VALUE_MAX_LENGTH} characters`);
    }
    seen.set(name, (credential.value ?? '').trim());
  });
  for (const credential of preset.credentials) {
    if (!seen.has(credential.name)) problems.add('input.credentials', `missing credential ${credential.name}: ${credential.description}`);
  }
  return preset.credentials.map((c) => ({ name: c.name, value: seen.get(c.name) ?? '' }));
}
