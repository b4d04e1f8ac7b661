import type { DataSource } from 'typeorm';
import type { Clock } from '../common/clock';
import { newId } from '../common/ids';
import { DAY_MS, identifierKey, identifiersOf, type Identifier, type RememberedTouchpoint, touchpointExpiresAt, type UserIdentifiers } from './attribution';
import { Touchpoint } from './touchpoint.entity';
import { rememberedFromRow, SELECT_APP_HAS_TOUCHPOINTS, selectRememberedStatement } from './touchpoint.statements';

/** How long "this app has no touchpoint yet" is believed before asking again (another process may have written one). */
export const NO_TOUCHPOINTS_TTL_MS = 5000;

/** An event asking for its remembered touchpoints. */
export interface TouchpointQuery extends UserIdentifiers {
  appId: string;
  occurredAt: Date;
  memoryDays: number;
}

/** A new touchpoint, to be written in its event's transaction. */
export interface NewTouchpoint extends RememberedTouchpoint, UserIdentifiers {
  appId: string;
  memoryDays: number;
}

/**
 * Attribution memory: the touchpoints remembered per app and identifier. Reading is one indexed
 * statement for a whole call (none for an app that has never had a touchpoint, known from a
 * small cache); writing is INSERT statements that the caller runs in the event's transaction, so
 * a touchpoint exists exactly when its event does.
 */
export class AttributionMemory {
  /** true: the app has touchpoints (kept: retention emptying an app only costs a lookup that finds nothing). false: until expiresAt. */
  private readonly hasTouchpoints = new Map<string, { value: boolean; expiresAt: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /**
   * Every remembered touchpoint that may attribute one of `queries`, by identifier key
   * (identifierKey). A single query reads only its newest candidate.
   */
  async remembered(queries: readonly TouchpointQuery[]): Promise<Map<string, RememberedTouchpoint[]>> {
    const found = new Map<string, RememberedTouchpoint[]>();
    const byApp = new Map<string, TouchpointQuery[]>();
    for (const q of queries) {
      if (identifiersOf(q).length === 0) continue;
      byApp.set(q.appId, [...(byApp.get(q.appId) ?? []), q]);
    }
    for (const [appId, appQueries] of byApp) {
      if (!(await this.appHasTouchpoints(appId))) continue;
      const identifiers = new Map<string, Identifier>();
      let from = Infinity;
      let to = -Infinity;
      for (const q of appQueries) {
        for (const id of identifiersOf(q)) identifiers.set(identifierKey(appId, id), id);
        from = Math.min(from, q.occurredAt.getTime() - q.memoryDays * DAY_MS);
        to = Math.max(to, q.occurredAt.getTime());
      }
      const statement = selectRememberedStatement(this.dataSource, appId, [...identifiers.values()], new Date(from), new Date(to), appQueries.length === 1);
      const rows = (await this.dataSource.query(statement.sql, statement.parameters)) as Record<string, unknown>[];
      for (const row of rows) {
        const remembered = rememberedFromRow(row);
        const key = identifierKey(appId, { kind: remembered.identifierKind as Identifier['kind'], value: remembered.identifierValue });
        found.set(key, [...(found.get(key) ?? []), remembered]);
      }
    }
    return found;
  }

  /** The rows of new touchpoints, one per identifier, written in the event's transaction. */
  rowsOf(touchpoints: readonly NewTouchpoint[]): Touchpoint[] {
    const rows: Touchpoint[] = [];
    for (const t of touchpoints) {
      this.hasTouchpoints.set(t.appId, { value: true, expiresAt: Infinity });
      for (const id of identifiersOf(t)) {
        rows.push(
          Object.assign(new Touchpoint(), {
            id: newId(t.occurredAt.getTime()),
            appId: t.appId,
            identifierKind: id.kind,
            identifierValue: id.value,
            occurredAt: t.occurredAt,
            expiresAt: touchpointExpiresAt(t.occurredAt, t.memoryDays),
            eventUuid: t.eventUuid,
            networkId: t.networkId,
            networkSlug: t.networkSlug,
            campaignId: t.campaignId,
            attribution: t.attribution,
          }),
        );
      }
    }
    return rows;
  }

  private async appHasTouchpoints(appId: string): Promise<boolean> {
    const now = this.clock.now().getTime();
    const cached = this.hasTouchpoints.get(appId);
    if (cached && cached.expiresAt > now) return cached.value;
    const rows = (await this.dataSource.query(SELECT_APP_HAS_TOUCHPOINTS, [appId])) as unknown[];
    const value = rows.length > 0;
    // A write of this process may have landed while we asked: a true it set wins.
    if (this.hasTouchpoints.get(appId)?.value !== true) this.hasTouchpoints.set(appId, { value, expiresAt: value ? Infinity : now + NO_TOUCHPOINTS_TTL_MS });
    return value;
  }
}
