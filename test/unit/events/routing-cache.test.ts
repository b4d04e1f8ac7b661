// The routing cache shares one load among the calls that miss the same entry at once (an entry
// expiring under load is missed by every call in flight), and never shares a load that started
// before an invalidation.
import type { DataSource } from 'typeorm';
import { App } from '../../../src/apps/app.entity';
import { Network } from '../../../src/networks/network.entity';
import { RoutingCache } from '../../../src/events/routing-cache';

function fakeDatabase() {
  const finds = new Map<string, number>();
  let release: (() => void)[] = [];
  let fail = false;
  let appName = 'first';
  const dataSource = {
    getRepository(entity: { name: string }) {
      return {
        async find() {
          finds.set(entity.name, (finds.get(entity.name) ?? 0) + 1);
          await new Promise<void>((resolve) => release.push(resolve));
          if (fail) throw new Error('database down');
          if (entity === App) return [Object.assign(new App(), { id: 'app-1', name: appName })];
          if (entity === Network) return [{ id: 'net-1', slug: 'ads' }];
          return [];
        },
      };
    },
  } as unknown as DataSource;
  return {
    dataSource,
    finds: (entity: { name: string }) => finds.get(entity.name) ?? 0,
    /** Lets every query waiting so far answer. */
    answer: async () => {
      while (release.length > 0) {
        const waiting = release;
        release = [];
        waiting.forEach((r) => r());
        await new Promise((r) => setImmediate(r));
      }
    },
    setFailing: (value: boolean) => (fail = value),
    renameApp: (name: string) => (appName = name),
  };
}

const clock = { now: () => new Date(1_000_000) };

describe('RoutingCache', () => {
  it('loads an app once for the calls that miss it at the same time', async () => {
    const db = fakeDatabase();
    const cache = new RoutingCache(db.dataSource, clock);
    const calls = Array.from({ length: 10 }, () => cache.forApps(['app-1']));
    await db.answer();
    const answers = await Promise.all(calls);
    expect(db.finds(App)).toBe(1);
    expect(answers.every((a) => a.get('app-1')?.app.id === 'app-1')).toBe(true);
    // Then from the cache.
    await cache.forApps(['app-1']);
    expect(db.finds(App)).toBe(1);
  });

  it('does not share a load that started before a change', async () => {
    const db = fakeDatabase();
    const cache = new RoutingCache(db.dataSource, clock);
    const before = cache.forApps(['app-1']);
    cache.appChanged('app-1');
    db.renameApp('renamed');
    const after = cache.forApps(['app-1']);
    await db.answer();
    expect(db.finds(App)).toBe(2);
    expect((await after).get('app-1')?.app.name).toBe('renamed');
    await before;
    // The load that raced with the change was not kept.
    expect((await cache.forApps(['app-1'])).get('app-1')?.app.name).toBe('renamed');
    expect(db.finds(App)).toBe(2);
  });

  it('fails every call sharing a failed load, and loads again on the next call', async () => {
    const db = fakeDatabase();
    const cache = new RoutingCache(db.dataSource, clock);
    db.setFailing(true);
    const calls = [cache.forApps(['app-1']), cache.forApps(['app-1'])];
    await db.answer();
    for (const call of calls) await expect(call).rejects.toThrow('database down');
    db.setFailing(false);
    const again = cache.forApps(['app-1']);
    await db.answer();
    expect((await again).get('app-1')?.app.id).toBe('app-1');
    expect(db.finds(App)).toBe(2);
  });

  it('loads the networks once for the calls that miss them at the same time', async () => {
    const db = fakeDatabase();
    const cache = new RoutingCache(db.dataSource, clock);
    const calls = [cache.networkIdsBySlug(), cache.networkIdsBySlug(), cache.networkIdsBySlug()];
    await db.answer();
    for (const call of calls) expect((await call).get('ads')).toBe('net-1');
    expect(db.finds(Network)).toBe(1);
    cache.networksChanged();
    const reload = cache.networkIdsBySlug();
    await db.answer();
    await reload;
    expect(db.finds(Network)).toBe(2);
  });
});
