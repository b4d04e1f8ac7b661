import { DataSource, IsNull } from 'typeorm';
import { HttpMethod } from '../common/enums';
import { BadUserInputError, DomainError, NotFoundError, ProblemList } from '../common/errors';
import { newId } from '../common/ids';
import { intInRange, requiredText } from '../common/validation';
import { App } from '../apps/app.entity';
import { Network } from '../networks/network.entity';
import { BUILT_IN_MACRO_NAMES } from '../macros/built-in-macros';
import { compileCallbackTemplates, validateHeaders } from '../macros/render-postback';
import { MacroService } from '../macros/macro.service';
import { generateSigningSecret } from '../dispatch/signing';
import { Callback, HttpHeader, noConditions } from './callback.entity';
import { type CallbackConditionsInput, type EventMappingInput, normalizeConditions, normalizeEventMappings, PARTNER_RULE_LIMITS } from './partner-rules';
import { serialized } from '../db/transactions';
import { CallbackState, disableHealth, healthyState, resumeHealth } from '../dispatch/circuit-breaker';
import { healthColumns, healthOf } from './callback-health';

export const CALLBACK_LIMITS = {
  maxAttempts: { min: 1, max: 20, default: 10 },
  timeoutMs: { min: 100, max: 30_000, default: 10_000 },
  urlTemplateLength: 4096,
  bodyTemplateLength: 65_536,
  eventNames: 100,
  eventNameLength: 128,
  /** maxRequestsPerSecond: null is no limit. */
  maxRequestsPerSecond: { min: 1, max: 10_000 },
  /** autoDisableAfterHours: up to 30 days of failures only; null is never. */
  autoDisableAfterHours: { min: 1, max: 720 },
  /** Every event of an app fans out to each of its callbacks: a batch of 500 events may queue 500 × this many deliveries at once. */
  perApp: 100,
} as const;

export interface CallbackCommand {
  appId?: string;
  networkId?: string | null;
  name?: string | null;
  enabled?: boolean | null;
  method?: HttpMethod | null;
  urlTemplate?: string | null;
  bodyTemplate?: string | null;
  headers?: HttpHeader[] | null;
  eventNames?: string[] | null;
  attributedOnly?: boolean | null;
  maxAttempts?: number | null;
  timeoutMs?: number | null;
  signing?: boolean | null;
  eventMappings?: EventMappingInput[] | null;
  conditions?: CallbackConditionsInput | null;
  postbackWindowDays?: number | null;
  delaySeconds?: number | null;
  maxRequestsPerSecond?: number | null;
  autoDisableAfterHours?: number | null;
}

/** What a new callback's health and operations columns start as. */
function freshOperations(now: Date) {
  return { ...healthColumns(healthyState(now)), probeLeaseUntil: null, previousSigningSecret: null, previousSecretExpiresAt: null };
}

const HEALTH_COLUMNS = [
  'healthState', 'consecutiveFailures', 'consecutiveRefusals', 'failingSince', 'lastSuccessAt', 'lastFailureAt',
  'pausedUntil', 'pauseMs', 'disabledReason', 'healthChangedAt', 'probeLeaseUntil',
] as const;

/** An admin's `enabled: false` is the DISABLED state with this reason. */
export const DISABLED_BY_ADMIN = 'disabled by an admin';

export class CallbackService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly macros: MacroService,
    private readonly onChange: (appId: string) => void = () => undefined,
  ) {}

  findById(id: string): Promise<Callback | null> {
    return this.dataSource.getRepository(Callback).findOneBy({ id });
  }

  findByIdWithDeleted(id: string): Promise<Callback | null> {
    return this.dataSource.getRepository(Callback).findOne({ where: { id }, withDeleted: true });
  }

  async getById(id: string): Promise<Callback> {
    const callback = await this.findById(id);
    if (!callback) throw new NotFoundError('callback', id);
    return callback;
  }

  listForApp(appId: string): Promise<Callback[]> {
    return this.dataSource.getRepository(Callback).find({ where: { appId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async create(input: CallbackCommand & { appId: string }): Promise<Callback> {
    if (!(await this.dataSource.getRepository(App).existsBy({ id: input.appId }))) {
      throw BadUserInputError.field('input.appId', `no app with id ${input.appId}`);
    }
    if ((await this.dataSource.getRepository(Callback).countBy({ appId: input.appId })) >= CALLBACK_LIMITS.perApp) {
      throw BadUserInputError.field('input.appId', `app ${input.appId} already has ${CALLBACK_LIMITS.perApp} callbacks, the most one app may have`);
    }
    const bodyTemplate = input.bodyTemplate ?? null;
    const draft: Omit<Callback, 'createdAt' | 'updatedAt' | 'deletedAt'> = {
      id: newId(),
      appId: input.appId,
      networkId: input.networkId ?? null,
      name: input.name ?? '',
      enabled: input.enabled ?? true,
      // Postbacks to ad networks are GET with query parameters; a body makes it a POST unless told otherwise.
      method: input.method ?? (bodyTemplate !== null ? HttpMethod.POST : HttpMethod.GET),
      urlTemplate: input.urlTemplate ?? '',
      bodyTemplate,
      headers: input.headers ?? [],
      eventNames: input.eventNames ?? [],
      attributedOnly: input.attributedOnly ?? false,
      maxAttempts: input.maxAttempts ?? CALLBACK_LIMITS.maxAttempts.default,
      timeoutMs: input.timeoutMs ?? CALLBACK_LIMITS.timeoutMs.default,
      signingSecret: input.signing ? generateSigningSecret() : null,
      eventMappings: (input.eventMappings ?? []) as Callback['eventMappings'],
      conditions: { ...noConditions(), ...(input.conditions ?? {}) } as Callback['conditions'],
      postbackWindowDays: input.postbackWindowDays ?? null,
      delaySeconds: input.delaySeconds ?? 0,
      maxRequestsPerSecond: input.maxRequestsPerSecond ?? null,
      autoDisableAfterHours: input.autoDisableAfterHours ?? null,
      ...freshOperations(new Date()),
    };
    if (draft.enabled === false) Object.assign(draft, { healthState: CallbackState.DISABLED, disabledReason: DISABLED_BY_ADMIN });
    const callback = await this.validate(draft);
    await serialized(this.dataSource, () => this.dataSource.getRepository(Callback).insert(callback));
    this.onChange(callback.appId);
    return this.getById(callback.id);
  }

  async update(id: string, input: CallbackCommand): Promise<Callback> {
    const callback = await this.validateUpdate(id, input);
    const current = await this.getById(id);
    const { createdAt: _c, updatedAt: _u, deletedAt: _d, ...changes } = callback as Callback;
    // The dispatcher writes health as attempts come in: an edit writes it only when it switches `enabled`.
    if (callback.healthState === current.healthState) for (const key of HEALTH_COLUMNS) delete (changes as Partial<Callback>)[key];
    await serialized(this.dataSource, () => this.dataSource.getRepository(Callback).update({ id }, changes));
    this.onChange(callback.appId);
    return this.getById(id);
  }

  /**
   * The callback as `update` would store it, checked by the same rules, but not stored: what an
   * editor previews while its changes are unsaved. Problems are named under `fieldPrefix`.
   */
  async draft(id: string, input: CallbackCommand, fieldPrefix: string): Promise<Callback> {
    try {
      return await this.validateUpdate(id, input);
    } catch (error) {
      if (!(error instanceof BadUserInputError)) throw error;
      const renamed = error.problems.map((p) => ({ field: p.field.replace(/^input(?=\.|$)/, fieldPrefix), reason: p.reason }));
      throw new BadUserInputError(renamed).withDetails({ ...error.details, field: renamed[0]?.field, problems: renamed });
    }
  }

  /** `update`'s input over the current callback, checked by every rule. */
  private async validateUpdate(id: string, input: CallbackCommand): Promise<Callback> {
    const current = await this.getById(id);
    const next = { ...current };
    for (const key of ['name', 'enabled', 'method', 'urlTemplate', 'headers', 'eventNames', 'attributedOnly', 'maxAttempts', 'timeoutMs'] as const) {
      if (input[key] !== undefined && input[key] !== null) (next as Record<string, unknown>)[key] = input[key];
    }
    // Explicit null clears these; leaving them out keeps them.
    if (input.networkId !== undefined) next.networkId = input.networkId;
    if (input.bodyTemplate !== undefined) next.bodyTemplate = input.bodyTemplate;
    // Explicit null clears the window; conditions and mappings are replaced whole when given.
    if (input.postbackWindowDays !== undefined) next.postbackWindowDays = input.postbackWindowDays;
    if (input.delaySeconds != null) next.delaySeconds = input.delaySeconds;
    // Explicit null removes the limit / the auto-disable.
    if (input.maxRequestsPerSecond !== undefined) next.maxRequestsPerSecond = input.maxRequestsPerSecond;
    if (input.autoDisableAfterHours !== undefined) next.autoDisableAfterHours = input.autoDisableAfterHours;
    // `enabled` is the DISABLED state's switch: off disables, on resumes (as resumeCallback).
    if (input.enabled === false && current.healthState !== CallbackState.DISABLED) {
      Object.assign(next, { ...healthColumns(disableHealth(healthOf(current), DISABLED_BY_ADMIN, new Date()).health) });
    } else if (input.enabled === true && current.healthState === CallbackState.DISABLED) {
      Object.assign(next, { ...healthColumns(resumeHealth(healthOf(current), new Date()).health), probeLeaseUntil: null });
    }
    if (input.eventMappings != null) next.eventMappings = input.eventMappings as Callback['eventMappings'];
    if (input.conditions != null) next.conditions = { ...noConditions(), ...input.conditions } as Callback['conditions'];
    if (input.signing === true && !current.signingSecret) next.signingSecret = generateSigningSecret();
    if (input.signing === false) Object.assign(next, { signingSecret: null, previousSigningSecret: null, previousSecretExpiresAt: null });
    return this.validate(next);
  }

  /**
   * A new signing secret; the old one keeps signing too for `overlapHours` (0..168, default 24),
   * so receivers can switch at their pace. A second rotation during an overlap drops the oldest.
   */
  async rotateSigningSecret(id: string, overlapHours: number | null | undefined, now: Date): Promise<Callback> {
    const hours = overlapHours ?? 24;
    const problems = new ProblemList();
    intInRange(problems, 'overlapHours', hours, 0, 168);
    problems.throwIfAny();
    const current = await this.getById(id);
    if (!current.signingSecret) throw BadUserInputError.field('callbackId', 'signing is off for this callback: turn it on with updateCallback(signing: true)');
    const changes = {
      signingSecret: generateSigningSecret(),
      previousSigningSecret: hours > 0 ? current.signingSecret : null,
      previousSecretExpiresAt: hours > 0 ? new Date(now.getTime() + hours * 3_600_000) : null,
    };
    await serialized(this.dataSource, () => this.dataSource.getRepository(Callback).update({ id }, changes));
    this.onChange(current.appId);
    return this.getById(id);
  }

  /** Soft delete: deliveries already made keep their callback; it fires no more. */
  async delete(id: string): Promise<boolean> {
    const callback = await this.getById(id);
    await serialized(this.dataSource, () => this.dataSource.getRepository(Callback).update({ id, deletedAt: IsNull() }, { deletedAt: new Date(), enabled: false }));
    this.onChange(callback.appId);
    return true;
  }

  /** Checks every rule and returns the normalised callback; throws one BadUserInputError listing every problem. */
  private async validate<T extends Omit<Callback, 'createdAt' | 'updatedAt' | 'deletedAt'>>(draft: T): Promise<T> {
    const problems = new ProblemList();
    draft.name = requiredText(problems, 'input.name', draft.name, 200);
    draft.urlTemplate = draft.urlTemplate.trim();
    if (!/^https?:\/\/[^\s/]/i.test(draft.urlTemplate)) {
      problems.add('input.urlTemplate', 'must start with http:// or https:// followed by a host');
    } else if (draft.urlTemplate.length > CALLBACK_LIMITS.urlTemplateLength) {
      problems.add('input.urlTemplate', `must be at most ${CALLBACK_LIMITS.urlTemplateLength} characters`);
    }
    if (draft.bodyTemplate !== null && draft.bodyTemplate.length > CALLBACK_LIMITS.bodyTemplateLength) {
      problems.add('input.bodyTemplate', `must be at most ${CALLBACK_LIMITS.bodyTemplateLength} characters`);
    }
    for (const problem of validateHeaders(draft.headers, 'input.headers')) problems.add(problem.field, problem.reason);
    draft.headers = draft.headers.map((h) => ({ name: h.name.trim(), value: h.value }));

    const eventNames = [...new Set(draft.eventNames.map((name) => name.trim()))];
    if (eventNames.length > CALLBACK_LIMITS.eventNames) problems.add('input.eventNames', `may hold at most ${CALLBACK_LIMITS.eventNames} names`);
    eventNames.forEach((name, i) => {
      if (name.length === 0 || name.length > CALLBACK_LIMITS.eventNameLength) problems.add(`input.eventNames.${i}`, `must be 1 to ${CALLBACK_LIMITS.eventNameLength} characters`);
    });
    draft.eventNames = eventNames;
    draft.eventMappings = normalizeEventMappings(problems, 'input.eventMappings', draft.eventMappings, eventNames);
    draft.conditions = normalizeConditions(problems, 'input.conditions', draft.conditions);
    if (draft.postbackWindowDays !== null) {
      intInRange(problems, 'input.postbackWindowDays', draft.postbackWindowDays, PARTNER_RULE_LIMITS.postbackWindowDays.min, PARTNER_RULE_LIMITS.postbackWindowDays.max);
    }
    if (draft.maxRequestsPerSecond !== null) {
      intInRange(problems, 'input.maxRequestsPerSecond', draft.maxRequestsPerSecond, CALLBACK_LIMITS.maxRequestsPerSecond.min, CALLBACK_LIMITS.maxRequestsPerSecond.max);
    }
    if (draft.autoDisableAfterHours !== null) {
      intInRange(problems, 'input.autoDisableAfterHours', draft.autoDisableAfterHours, CALLBACK_LIMITS.autoDisableAfterHours.min, CALLBACK_LIMITS.autoDisableAfterHours.max);
    }
    intInRange(problems, 'input.delaySeconds', draft.delaySeconds, PARTNER_RULE_LIMITS.delaySeconds.min, PARTNER_RULE_LIMITS.delaySeconds.max);

    intInRange(problems, 'input.maxAttempts', draft.maxAttempts, CALLBACK_LIMITS.maxAttempts.min, CALLBACK_LIMITS.maxAttempts.max);
    intInRange(problems, 'input.timeoutMs', draft.timeoutMs, CALLBACK_LIMITS.timeoutMs.min, CALLBACK_LIMITS.timeoutMs.max);
    if (draft.attributedOnly && !draft.networkId) problems.add('input.attributedOnly', 'needs a networkId: attribution is checked against the callback\'s network');
    if (draft.networkId && !(await this.dataSource.getRepository(Network).existsBy({ id: draft.networkId }))) {
      problems.add('input.networkId', `no network with id ${draft.networkId}`);
    }
    problems.throwIfAny();

    let macroNames: string[];
    try {
      macroNames = compileCallbackTemplates(draft).macroNames;
    } catch (error) {
      if (error instanceof DomainError) throw prefixFields(error);
      throw error;
    }
    const defined = await this.macros.definedNames(draft.appId);
    const unknown = macroNames.filter((name) => !defined.has(name) && !BUILT_IN_MACRO_NAMES.has(name)).sort();
    if (unknown.length > 0) {
      throw new BadUserInputError([{ field: 'input', reason: `unknown macros: ${unknown.join(', ')}` }]).withDetails({ unknownMacros: unknown });
    }
    return draft;
  }
}

/** The template compiler names fields relative to the callback (urlTemplate); the API names them under `input`. */
function prefixFields(error: DomainError): DomainError {
  if (error instanceof BadUserInputError) {
    return new BadUserInputError(error.problems.map((p) => ({ field: p.field.startsWith('input.') ? p.field : `input.${p.field}`, reason: p.reason })));
  }
  return error;
}
