// The rows of one benchmark postback, built as the service builds them (an install of the
// benchmark's event input, its touchpoint, its delivery), and the app, network and callback they
// belong to: for the programs that write the service's tables without the service
// (redo-per-row.ts, the bare outbox server, the bare durable sender).
import type { DataSource } from 'typeorm';
import { App } from '../../src/apps/app.entity';
import { Touchpoint } from '../../src/attribution/touchpoint.entity';
import { Callback } from '../../src/callbacks/callback.entity';
import { AttributionSource, AttributionType, HttpMethod, Platform } from '../../src/common/enums';
import { newId } from '../../src/common/ids';
import { parseDatabaseUrl } from '../../src/config/config';
import { createDataSource } from '../../src/db/data-source';
import { applyChanges, claimChanges } from '../../src/deliveries/delivery-state';
import { Delivery } from '../../src/deliveries/delivery.entity';
import { Event } from '../../src/events/event.entity';
import { queuedDelivery } from '../../src/events/event.service';
import { Network } from '../../src/networks/network.entity';

export const LEASE_OWNER = 'api-7f3c2a9e-bench-host';
export const LEASE_MS = 60_000;

export interface Postback {
  event: Event;
  touchpoint: Touchpoint;
  delivery: Delivery;
}

export interface Owners {
  app: App;
  network: Network;
  callback: Callback;
}

/**
 * The service's schema on an empty database, migrated as the service migrates it, with the
 * benchmark's owners written: a DataSource of one connection for metadata and set-up.
 */
export async function openBenchSchema(url: string): Promise<{ dataSource: DataSource; owners: Owners }> {
  const dataSource = createDataSource(parseDatabaseUrl(url), { poolSize: 1 });
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    return { dataSource, owners: await seedOwners(dataSource) };
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    throw error;
  }
}

/** The benchmark's app, network and callback (bench/lib/service.ts), written as rows. */
async function seedOwners(dataSource: DataSource): Promise<Owners> {
  const app = dataSource.getRepository(App).create({ id: newId(), name: 'Bench app', bundleId: 'com.example.bench', platform: Platform.IOS, isLive: true });
  await dataSource.getRepository(App).insert(app);
  const network = dataSource.getRepository(Network).create({ id: newId(), name: 'Bench network', slug: 'benchnet', isLive: true });
  await dataSource.getRepository(Network).insert(network);
  const callback = dataSource.getRepository(Callback).create({
    id: newId(),
    appId: app.id,
    networkId: network.id,
    name: 'bench',
    enabled: true,
    method: HttpMethod.GET,
    urlTemplate: 'http://127.0.0.1:40000/pb?e={{event_id}}&d={{delivery_id}}&ifa={{advertising_id}}&cid={{campaign_id}}&rev={{revenue}}',
    bodyTemplate: null,
    headers: [],
    eventNames: [],
    attributedOnly: false,
    maxAttempts: 10,
    timeoutMs: 10_000,
    signingSecret: null,
  });
  await dataSource.getRepository(Callback).insert(callback);
  return { app, network, callback };
}

/**
 * One install of the benchmark's event input (bench/lib/bodies.ts eventInput), with its
 * touchpoint and its delivery: inserted claimed, or `waiting` (PENDING and due now, as queued
 * with the dispatcher off or without a free slot).
 */
export function postback({ app, network, callback }: Owners, { waiting = false }: { waiting?: boolean } = {}): Postback {
  const now = new Date();
  const event = new Event();
  event.id = newId();
  event.appId = app.id;
  event.eventId = `redo-${event.id}`;
  event.name = 'install';
  event.occurredAt = now;
  event.receivedAt = now;
  event.advertisingId = '6d92078a-8246-4ba4-ae5b-76104861e7dc';
  event.ipAddress = '203.0.113.7';
  event.userAgent = 'BenchApp/1.0 (iPhone; iOS 17.4)';
  event.country = 'US';
  event.platform = Platform.IOS;
  event.campaignId = 'cmp-42';
  event.networkId = network.id;
  event.networkSlug = network.slug;
  event.revenue = 0.99;
  event.currency = 'USD';
  event.limitAdTracking = false;
  event.params = null;
  event.customerUserId = null;
  event.deviceId = null;
  event.osVersion = null;
  event.appVersion = null;
  event.attribution = AttributionType.INSTALL;
  event.attributionSource = AttributionSource.SENT;
  event.attributedAt = now;

  const touchpoint = new Touchpoint();
  touchpoint.id = newId();
  touchpoint.appId = app.id;
  touchpoint.identifierKind = 'a';
  touchpoint.identifierValue = event.advertisingId;
  touchpoint.occurredAt = now;
  touchpoint.expiresAt = new Date(now.getTime() + 30 * 86_400_000);
  touchpoint.eventUuid = event.id;
  touchpoint.networkId = network.id;
  touchpoint.networkSlug = network.slug;
  touchpoint.campaignId = event.campaignId;
  touchpoint.attribution = AttributionType.INSTALL;

  const id = newId();
  const url = `http://127.0.0.1:40000/pb?e=${event.eventId}&d=${id}&ifa=${event.advertisingId}&cid=cmp-42&rev=0.99`;
  const pending = queuedDelivery(id, event, callback, { method: HttpMethod.GET, url, headers: [], body: null, renderNotes: [] }, now);
  const delivery = waiting ? pending : applyChanges(pending, claimChanges(LEASE_OWNER, new Date(now.getTime() + LEASE_MS), now));
  return { event, touchpoint, delivery };
}

