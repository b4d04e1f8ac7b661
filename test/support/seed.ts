// Rows written straight through the DataSource, for tests that need deliveries in states or
// numbers the API would not give them (due in the past, thousands at once, a held lease).
// Deliveries are shaped exactly as EventService queues them.
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DeliveryStatus, HttpMethod, Platform } from '../../src/common/enums';
import { newId } from '../../src/common/ids';
import { withTransaction } from '../../src/db/transactions';
import { App } from '../../src/apps/app.entity';
import { Callback, HttpHeader } from '../../src/callbacks/callback.entity';
import { Event } from '../../src/events/event.entity';
import { Delivery } from '../../src/deliveries/delivery.entity';
import type { DeliveryHub } from '../../src/deliveries/delivery-hub';
import { generateSigningSecret } from '../../src/dispatch/signing';

const INSERT_CHUNK = 500;

export async function seedApp(dataSource: DataSource): Promise<App> {
  const app = dataSource.getRepository(App).create({
    id: newId(),
    name: 'Seeded app',
    bundleId: `com.example.seed.${randomBytes(6).toString('hex')}`,
    platform: Platform.IOS,
    isLive: true,
  });
  await withTransaction(dataSource, (m) => m.insert(App, app));
  return app;
}

export async function seedCallback(
  dataSource: DataSource,
  input: { appId: string; networkId?: string | null; method?: HttpMethod; urlTemplate?: string; maxAttempts?: number; timeoutMs?: number; signing?: boolean; headers?: HttpHeader[] },
): Promise<Callback> {
  const callback = dataSource.getRepository(Callback).create({
    id: newId(),
    appId: input.appId,
    networkId: input.networkId ?? null,
    name: 'seeded callback',
    enabled: true,
    method: input.method ?? HttpMethod.GET,
    urlTemplate: input.urlTemplate ?? 'https://postback.example/p',
    bodyTemplate: null,
    headers: input.headers ?? [],
    eventNames: [],
    attributedOnly: false,
    maxAttempts: input.maxAttempts ?? 10,
    timeoutMs: input.timeoutMs ?? 10_000,
    signingSecret: input.signing ? generateSigningSecret() : null,
  });
  await withTransaction(dataSource, (m) => m.insert(Callback, callback));
  return callback;
}

export async function seedEvent(dataSource: DataSource, appId: string, name = 'install'): Promise<Event> {
  const now = new Date();
  const event = Object.assign(new Event(), {
    id: newId(),
    appId,
    eventId: null,
    name,
    occurredAt: now,
    receivedAt: now,
    advertisingId: null,
    ipAddress: null,
    userAgent: null,
    country: null,
    platform: Platform.IOS,
    campaignId: null,
    networkId: null,
    networkSlug: null,
    revenue: null,
    currency: null,
    limitAdTracking: false,
    params: null,
  });
  await withTransaction(dataSource, (m) => m.insert(Event, event));
  return event;
}

export interface SeedDeliveriesInput {
  event: Event;
  callback: Callback;
  count?: number;
  /** The rendered URL; by default the callback's template as is. */
  url?: (deliveryId: string, index: number) => string;
  body?: string | null;
  headers?: HttpHeader[];
  now?: Date;
  /** Overrides for the queued shape (a past dueAt, a held lease...). */
  overrides?: Partial<Delivery>;
}

/** PENDING deliveries as EventService queues them. Announce them with announceQueued, or let a dispatcher's scan find them. */
export async function seedDeliveries(dataSource: DataSource, input: SeedDeliveriesInput): Promise<Delivery[]> {
  const now = input.now ?? new Date();
  const rows: Delivery[] = [];
  for (let i = 0; i < (input.count ?? 1); i++) {
    const id = newId();
    rows.push(
      Object.assign(new Delivery(), {
        id,
        eventId: input.event.id,
        callbackId: input.callback.id,
        appId: input.event.appId,
        networkId: input.callback.networkId,
        status: DeliveryStatus.PENDING,
        method: input.callback.method,
        url: input.url ? input.url(id, i) : input.callback.urlTemplate,
        body: input.body ?? null,
        headers: input.headers ?? input.callback.headers,
        renderNotes: [],
        timeoutMs: input.callback.timeoutMs,
        attempts: 0,
        maxAttempts: input.callback.maxAttempts,
        lastStatusCode: null,
        lastError: null,
        nextAttemptAt: now,
        dueAt: now,
        leaseOwner: null,
        deliveredAt: null,
        createdAt: now,
        updatedAt: now,
        ...input.overrides,
      }),
    );
  }
  await withTransaction(dataSource, async (m) => {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) await m.insert(Delivery, rows.slice(i, i + INSERT_CHUNK));
  });
  return rows;
}

/** What EventService does after its commit. */
export function announceQueued(hub: DeliveryHub, deliveries: Delivery[]): void {
  hub.queued(deliveries);
  hub.statusChanged(deliveries);
}
