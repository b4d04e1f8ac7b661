import DataLoader from 'dataloader';
import { DataSource, In, ObjectLiteral, EntityTarget } from 'typeorm';
import { App } from '../apps/app.entity';
import { Network } from '../networks/network.entity';
import { Callback } from '../callbacks/callback.entity';
import { Event } from '../events/event.entity';
import type { DeliveryAttempt } from '../deliveries/delivery-attempt.entity';
import type { DeliveryStore } from '../deliveries/delivery-store';

/**
 * Per-request batching of lookups for nested fields, so a page of 100 deliveries costs one
 * query per related type, not one per row. Soft-deleted rows are included: history keeps
 * pointing at what it was sent for.
 *
 * `cache: false` for WebSocket operations: graphql-ws keeps one context for a subscription's
 * whole life, and a caching loader would pin every row it ever loaded (memory) and serve them
 * stale (a callback renamed or disabled since). Batching within one update still applies.
 */
export function createLoaders(dataSource: DataSource, deliveryStore: DeliveryStore, options: { cache?: boolean } = {}) {
  const cache = options.cache ?? true;
  function byId<T extends ObjectLiteral & { id: string }>(entity: EntityTarget<T>): DataLoader<string, T | null> {
    return new DataLoader<string, T | null>(
      async (ids) => {
        const rows = await dataSource.getRepository(entity).find({ where: { id: In([...ids]) } as never, withDeleted: true });
        const byKey = new Map(rows.map((row) => [row.id, row]));
        return ids.map((id) => byKey.get(id) ?? null);
      },
      { cache },
    );
  }
  const attemptsByDelivery = () =>
    new DataLoader<string, DeliveryAttempt[]>(
      async (deliveryIds) => {
        const grouped = await deliveryStore.attemptsOf(deliveryIds);
        return deliveryIds.map((id) => grouped.get(id) ?? []);
      },
      { cache: false },
    );
  // Made on first use: most requests (every recordEvent) use none of them.
  let app: DataLoader<string, App | null> | undefined;
  let network: DataLoader<string, Network | null> | undefined;
  let callback: DataLoader<string, Callback | null> | undefined;
  let event: DataLoader<string, Event | null> | undefined;
  let attempts: DataLoader<string, DeliveryAttempt[]> | undefined;
  return {
    get app() {
      return (app ??= byId(App));
    },
    get network() {
      return (network ??= byId(Network));
    },
    get callback() {
      return (callback ??= byId(Callback));
    },
    get event() {
      return (event ??= byId(Event));
    },
    /**
     * Not cached: a subscription keeps one context for its whole life and resolves the same
     * delivery again after every attempt, which must show the new attempt.
     */
    get attemptsByDelivery() {
      return (attempts ??= attemptsByDelivery());
    },
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
