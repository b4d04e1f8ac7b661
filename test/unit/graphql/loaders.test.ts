// Loaders are made on first use (a recordEvent uses none) and then kept for the request, so
// lookups of one request still batch into one query per type.
import type { DataSource } from 'typeorm';
import { App } from '../../../src/apps/app.entity';
import { createLoaders } from '../../../src/graphql/loaders';
import type { DeliveryStore } from '../../../src/deliveries/delivery-store';

describe('createLoaders', () => {
  it('keeps each loader for the request once made, so its lookups batch', async () => {
    const queries: string[] = [];
    const dataSource = {
      getRepository: (entity: { name: string }) => ({
        find: async ({ where }: { where: { id: { value: string[] } } }) => {
          queries.push(entity.name);
          return where.id.value.map((id) => Object.assign(new App(), { id }));
        },
      }),
    } as unknown as DataSource;
    const store = { attemptsOf: async () => new Map() } as unknown as DeliveryStore;
    const loaders = createLoaders(dataSource, store);
    expect(loaders.app).toBe(loaders.app);
    const [a, b] = await Promise.all([loaders.app.load('a'), loaders.app.load('b')]);
    expect([a?.id, b?.id]).toEqual(['a', 'b']);
    expect(queries).toEqual(['App']);
    expect(loaders.attemptsByDelivery).toBe(loaders.attemptsByDelivery);
  });
});
