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
export function createLoaders(dataSource: DataSource, deliveryStore: DeliveryStore, options: { cache?: boolean } = {}): RequestLoaders {
  return new RequestLoaders(dataSource, deliveryStore, options.cache ?? true);
}

/**
 * A request's loaders, each made on first use: most requests (every recordEvent) use none. A
 * class, not an object literal with getters: V8 builds such a literal slowly (about 2 µs), and
 * every request makes one.
 */
export class RequestLoaders {
  private appLoader: DataLoader<string, App | null> | undefined;
  private networkLoader: DataLoader<string, Network | null> | undefined;
  private callbackLoader: DataLoader<string, Callback | null> | undefined;
  private eventLoader: DataLoader<string, Event | null> | undefined;
  private attemptsLoader: DataLoader<string, DeliveryAttempt[]> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly deliveryStore: DeliveryStore,
    private readonly cache: boolean,
  ) {}

  get app(): DataLoader<string, App | null> {
    return (this.appLoader ??= this.byId(App));
  }

  get network(): DataLoader<string, Network | null> {
    return (this.networkLoader ??= this.byId(Network));
  }

  get callback(): DataLoader<string, Callback | null> {
    return (this.callbackLoader ??= this.byId(Callback));
  }

  get event(): DataLoader<string, Event | null> {
    return (this.eventLoader ??= this.byId(Event));
  }

  /**
   * Not cached: a subscription keeps one context for its whole life and resolves the same
   * delivery again after every attempt, which must show the new attempt.
   */
  get attemptsByDelivery(): DataLoader<string, DeliveryAttempt[]> {
    return (this.attemptsLoader ??= new DataLoader<string, DeliveryAttempt[]>(
      async (deliveryIds) => {
        const grouped = await this.deliveryStore.attemptsOf(deliveryIds);
        return deliveryIds.map((id) => grouped.get(id) ?? []);
      },
      { cache: false },
    ));
  }

  private byId<T extends ObjectLiteral & { id: string }>(entity: EntityTarget<T>): DataLoader<string, T | null> {
    return new DataLoader<string, T | null>(
      async (ids) => {
        const rows = await this.dataSource.getRepository(entity).find({ where: { id: In([...ids]) } as never, withDeleted: true });
        const byKey = new Map(rows.map((row) => [row.id, row]));
        return ids.map((id) => byKey.get(id) ?? null);
      },
      { cache: this.cache },
    );
  }
}

export type Loaders = RequestLoaders;
