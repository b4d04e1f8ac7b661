import { DataSource, In, IsNull } from 'typeorm';
import { Clock } from '../common/clock';
import { App } from '../apps/app.entity';
import { Callback } from '../callbacks/callback.entity';
import { Network } from '../networks/network.entity';
import { GLOBAL_MACRO_SCOPE, Macro } from '../macros/macro.entity';
import type { MacroDefinition, MacroScope } from '../macros/macro-resolution';
import { compileCallbackTemplates, type CompiledCallback } from '../macros/render-postback';
import type { ConfigChange } from '../pubsub/cluster-pubsub';
import { SingleFlight } from '../common/single-flight';

/**
 * What recording an event needs to know about its app, loaded once and kept: the app, its
 * enabled callbacks with their templates already compiled, and the macros they may use.
 * Without it every recordEvent would pay three extra queries and a template parse per callback.
 *
 * Changes made through this process invalidate at once (the configuration services call
 * appChanged / globalMacrosChanged / networksChanged). Changes made by another process reach
 * this one through the same calls when Redis is configured, and otherwise after at most
 * CONFIG_CACHE_TTL_MS.
 */
export const CONFIG_CACHE_TTL_MS = 5000;

export interface AppRoute {
  callback: Callback;
  compiled: CompiledCallback;
}

export interface AppRouting {
  app: App;
  /** Enabled, live callbacks, oldest first. */
  routes: AppRoute[];
  /** This app's macros and the global ones. */
  macros: MacroScope;
}

interface Entry<T> {
  value: T;
  expiresAt: number;
}

export class RoutingCache {
  private readonly apps = new Map<string, Entry<AppRouting | null>>();
  private globalMacros: Entry<Map<string, MacroDefinition>> | null = null;
  private networks: Entry<Map<string, string>> | null = null;
  /** Bumped by every invalidation, so a load that raced with a change is not stored (nor shared). */
  private generation = 0;
  /** Loads in flight, shared by the calls that miss the same entry meanwhile. */
  private readonly loadingApps = new SingleFlight<string, AppRouting | null>();
  private readonly loadingNetworks = new SingleFlight<'networks', Map<string, string>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly ttlMs: number = CONFIG_CACHE_TTL_MS,
  ) {}

  appChanged(appId: string): void {
    this.generation++;
    this.apps.delete(appId);
  }

  globalMacrosChanged(): void {
    this.generation++;
    this.globalMacros = null;
    this.apps.clear();
  }

  /** A network's slug or existence changed: deleting one also took its callbacks out of every app's routes. */
  networksChanged(): void {
    this.generation++;
    this.networks = null;
    this.apps.clear();
  }

  apply(change: ConfigChange): void {
    switch (change.kind) {
      case 'app':
        return this.appChanged(change.appId);
      case 'global-macros':
        return this.globalMacrosChanged();
      case 'networks':
        return this.networksChanged();
    }
  }

  clear(): void {
    this.generation++;
    this.apps.clear();
    this.globalMacros = null;
    this.networks = null;
  }

  /** Routing for each id; null for an id that names no live app. */
  async forApps(appIds: readonly string[]): Promise<Map<string, AppRouting | null>> {
    const now = this.clock.now().getTime();
    const result = new Map<string, AppRouting | null>();
    const missing: string[] = [];
    const joined: [string, Promise<AppRouting | null>][] = [];
    for (const id of new Set(appIds)) {
      const cached = this.apps.get(id);
      if (cached && cached.expiresAt > now) {
        result.set(id, cached.value);
        continue;
      }
      // When an entry expires, every call in flight misses it at once: they share one load
      // (started since the last invalidation) instead of each sending the same four queries.
      const loading = this.loadingApps.joinable(id, this.generation);
      if (loading) joined.push([id, loading]);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const generation = this.generation;
      const load = this.loadApps(missing, now, generation);
      for (const id of missing) {
        const value = load.then((routings) => routings.get(id) as AppRouting | null);
        // Awaited below one by one: a failed load must not also surface as unhandled rejections.
        value.catch(() => undefined);
        joined.push([id, this.loadingApps.track(id, generation, value)]);
      }
    }
    for (const [id, value] of joined) result.set(id, await value);
    return result;
  }

  private async loadApps(missing: readonly string[], now: number, generation: number): Promise<Map<string, AppRouting | null>> {
    const [globalMacros, apps, callbacks, appMacros] = await Promise.all([
      this.loadGlobalMacros(now),
      this.dataSource.getRepository(App).find({ where: { id: In([...missing]) } }),
      this.dataSource.getRepository(Callback).find({
        where: { appId: In([...missing]), enabled: true, deletedAt: IsNull() },
        order: { createdAt: 'ASC', id: 'ASC' },
      }),
      this.dataSource.getRepository(Macro).find({ where: { scope: In([...missing]) } }),
    ]);
    const appsById = new Map(apps.map((app) => [app.id, app]));
    const result = new Map<string, AppRouting | null>();
    for (const id of missing) {
      const app = appsById.get(id);
      const routing: AppRouting | null = app
        ? {
            app,
            routes: callbacks.filter((c) => c.appId === id).map((callback) => ({ callback, compiled: compileCallbackTemplates(callback) })),
            macros: {
              appMacros: new Map(appMacros.filter((m) => m.appId === id).map((m) => [m.name, definitionOf(m)])),
              globalMacros,
            },
          }
        : null;
      result.set(id, routing);
      if (generation === this.generation) this.apps.set(id, { value: routing, expiresAt: now + this.ttlMs });
    }
    return result;
  }

  /** The live network id for each configured slug. */
  async networkIdsBySlug(): Promise<Map<string, string>> {
    const now = this.clock.now().getTime();
    if (this.networks && this.networks.expiresAt > now) return this.networks.value;
    const generation = this.generation;
    const loading = this.loadingNetworks.joinable('networks', generation);
    if (loading) return loading;
    return this.loadingNetworks.track(
      'networks',
      generation,
      (async () => {
        const rows = await this.dataSource.getRepository(Network).find({ select: { id: true, slug: true } });
        const bySlug = new Map(rows.map((n) => [n.slug, n.id]));
        if (generation === this.generation) this.networks = { value: bySlug, expiresAt: now + this.ttlMs };
        return bySlug;
      })(),
    );
  }

  /** Macro definitions for rendering one app's templates (also for callbacks that are disabled, as previews need). */
  async macroScope(appId: string): Promise<MacroScope> {
    const now = this.clock.now().getTime();
    const [globalMacros, appMacros] = await Promise.all([
      this.loadGlobalMacros(now),
      this.dataSource.getRepository(Macro).find({ where: { scope: appId } }),
    ]);
    return { appMacros: new Map(appMacros.map((m) => [m.name, definitionOf(m)])), globalMacros };
  }

  private async loadGlobalMacros(now: number): Promise<Map<string, MacroDefinition>> {
    if (this.globalMacros && this.globalMacros.expiresAt > now) return this.globalMacros.value;
    const generation = this.generation;
    const rows = await this.dataSource.getRepository(Macro).find({ where: { scope: GLOBAL_MACRO_SCOPE } });
    const value = new Map(rows.map((m) => [m.name, definitionOf(m)]));
    if (generation === this.generation) this.globalMacros = { value, expiresAt: now + this.ttlMs };
    return value;
  }
}

function definitionOf(m: Macro): MacroDefinition {
  return { name: m.name, source: m.source, path: m.path, value: m.value, defaultValue: m.defaultValue, transform: m.transform };
}
