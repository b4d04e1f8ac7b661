import { DataSource, FindOptionsWhere, In, LessThan } from 'typeorm';
import { ApiKeyRole, DeliveryStatus } from '../common/enums';
import { BadUserInputError, ForbiddenError } from '../common/errors';
import type { Principal } from '../auth/principal';
import { scopeDeliveryFilter } from '../auth/scope';
import { Callback } from '../callbacks/callback.entity';
import { isUuid } from '../common/ids';
import { Delivery } from './delivery.entity';

export const DELIVERY_PAGE = { defaultSize: 20, maxSize: 100 } as const;

export interface DeliveryListFilter {
  appId?: string | null;
  networkId?: string | null;
  callbackId?: string | null;
  eventUuid?: string | null;
  statuses?: DeliveryStatus[] | null;
}

export interface DeliveryPage {
  deliveries: Delivery[];
  hasNextPage: boolean;
}

/**
 * Cursors are opaque to clients; inside they are the last delivery id seen. Ids are UUIDv7,
 * ordered by creation time, so "id below the cursor" pages newest first and a delivery
 * queued while a client pages lands above its first page instead of shifting the others.
 */
export function encodeCursor(deliveryId: string): string {
  return Buffer.from(`delivery:${deliveryId}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = text.startsWith('delivery:') ? text.slice('delivery:'.length) : '';
  if (!isUuid(id)) throw BadUserInputError.field('after', 'is not a cursor this API returned (use pageInfo.endCursor)');
  return id;
}

export function pageSize(first: number | null | undefined): number {
  if (first == null) return DELIVERY_PAGE.defaultSize;
  if (!Number.isInteger(first) || first < 0 || first > DELIVERY_PAGE.maxSize) {
    throw BadUserInputError.field('first', `must be from 0 to ${DELIVERY_PAGE.maxSize}, got ${first}`);
  }
  return first;
}

export class DeliveryService {
  constructor(private readonly dataSource: DataSource) {}

  findById(id: string): Promise<Delivery | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.dataSource.getRepository(Delivery).findOneBy({ id });
  }

  /** Newest first. Each filter field narrows; the (appId|networkId|callbackId, id) indexes serve the common ones. */
  async list(filter: DeliveryListFilter, first: number | null | undefined, after: string | null | undefined): Promise<DeliveryPage> {
    const size = pageSize(first);
    const where: FindOptionsWhere<Delivery> = {};
    for (const [key, value] of [['appId', filter.appId], ['networkId', filter.networkId], ['callbackId', filter.callbackId], ['eventId', filter.eventUuid]] as const) {
      if (value == null) continue;
      // A malformed id matches nothing; saying so beats an empty page the client cannot explain.
      if (!isUuid(value)) throw BadUserInputError.field(`filter.${key === 'eventId' ? 'eventUuid' : key}`, `must be an id (a UUID), got ${JSON.stringify(value)}`);
      where[key] = value;
    }
    if (filter.statuses != null && filter.statuses.length > 0) where.status = In(filter.statuses);
    if (after != null) where.id = LessThan(decodeCursor(after));
    if (size === 0) return { deliveries: [], hasNextPage: await this.dataSource.getRepository(Delivery).exists({ where }) };
    const rows = await this.dataSource.getRepository(Delivery).find({ where, order: { id: 'DESC' }, take: size + 1 });
    return { deliveries: rows.slice(0, size), hasNextPage: rows.length > size };
  }

  /**
   * The filter narrowed to what the key may see, for lists and subscriptions alike. Naming
   * another network, an app the partner has no deliveries of, or another tenant's callback is
   * FORBIDDEN rather than an empty result, so a mistake does not look like silence.
   */
  async scopeFilter<T extends DeliveryListFilter>(principal: Principal, filter: T): Promise<T> {
    const scoped = scopeDeliveryFilter(principal, filter);
    if (principal.role === ApiKeyRole.ADMIN) return scoped;
    if (principal.role === ApiKeyRole.PARTNER && scoped.appId != null && !(await this.networkHasDeliveriesOfApp(principal.networkId, scoped.appId))) {
      throw new ForbiddenError(`this PARTNER key's network has no deliveries of app ${scoped.appId}`);
    }
    if (scoped.callbackId != null) {
      const callback = isUuid(scoped.callbackId) ? await this.dataSource.getRepository(Callback).findOne({ where: { id: scoped.callbackId }, withDeleted: true }) : null;
      const own = callback && (principal.role === ApiKeyRole.PARTNER ? callback.networkId === principal.networkId : callback.appId === principal.appId);
      if (!own) throw new ForbiddenError(`callback ${scoped.callbackId} is not one of this key's`);
    }
    return scoped;
  }

  /** Does this network have any delivery of this app? (A partner may filter only by apps it has deliveries in.) */
  async networkHasDeliveriesOfApp(networkId: string, appId: string): Promise<boolean> {
    if (!isUuid(appId)) return false;
    return this.dataSource.getRepository(Delivery).existsBy({ networkId, appId });
  }

  /** Did this event cause a delivery to this network? (A partner may read only such events.) */
  async eventHasDeliveryToNetwork(eventId: string, networkId: string): Promise<boolean> {
    return this.dataSource.getRepository(Delivery).existsBy({ eventId, networkId });
  }
}
