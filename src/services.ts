import { DataSource } from 'typeorm';
import type { Config } from './config/config';
import type { Logger } from './common/logger';
import { Clock, systemClock } from './common/clock';
import { ApiKeyService } from './auth/api-key.service';
import { AppService } from './apps/app.service';
import { NetworkService } from './networks/network.service';
import { MacroService } from './macros/macro.service';
import { CallbackService } from './callbacks/callback.service';
import { DeliveryHub } from './deliveries/delivery-hub';
import { DeliveryService } from './deliveries/delivery.service';
import { EventService } from './events/event.service';
import { RoutingCache } from './events/routing-cache';
import type { ClusterPubSub, ConfigChange } from './pubsub/cluster-pubsub';
import { toDeliverySnapshot } from './deliveries/delivery-snapshot';
import { ServiceMetrics } from './observability/metrics';
import { DeliveryQueue, deliveryQueueOptions } from './dispatch/delivery-queue';
import { ExchangeRateService } from './revenue/exchange-rate.service';
import { PresetService } from './presets/preset.service';

/** The composition root: every service, built once per process and shared by resolvers and workers. */
export interface Services {
  config: Config;
  dataSource: DataSource;
  logger: Logger;
  clock: Clock;
  apiKeys: ApiKeyService;
  apps: AppService;
  networks: NetworkService;
  macros: MacroService;
  callbacks: CallbackService;
  deliveryHub: DeliveryHub;
  /** Per-app callbacks, compiled templates and macros for recording events; invalidated by every configuration change. */
  routing: RoutingCache;
  events: EventService;
  deliveries: DeliveryService;
  /** Messages to every process of the deployment (through Redis when configured). */
  pubsub: ClusterPubSub;
  /** The delivery state machine's SQL: claims, attempts, redeliver (used by the dispatcher and the redeliver mutation). */
  deliveryQueue: DeliveryQueue;
  metrics: ServiceMetrics;
  /** setExchangeRates / exchangeRates, and the rates in force for recording events (cached per date). */
  exchangeRates: ExchangeRateService;
  /** partnerTemplates and createCallbackFromTemplate. */
  presets: PresetService;
}

export function createServices(deps: {
  config: Config;
  dataSource: DataSource;
  logger: Logger;
  adminSecret: string;
  pubsub: ClusterPubSub;
  clock?: Clock;
}): Services {
  const clock = deps.clock ?? systemClock;
  const { pubsub } = deps;
  const routing = new RoutingCache(deps.dataSource, clock);
  const deliveryHub = new DeliveryHub();
  const exchangeRates = new ExchangeRateService(deps.dataSource, clock, () => pubsub.publish('config-changed', { kind: 'exchange-rates' }));
  const metrics = new ServiceMetrics(deps.dataSource, clock);
  deliveryHub.onQueued((deliveries) => metrics.deliveriesQueued.inc(deliveries.length));

  // Configuration changes: this process's cache at once, the others' through the pub/sub.
  const configChanged = (change: ConfigChange) => {
    routing.apply(change);
    pubsub.publish('config-changed', change);
  };
  pubsub.on('config-changed', (change) => {
    if (change.kind === 'exchange-rates') return exchangeRates.invalidate();
    routing.apply(change);
    if (change.kind === 'networks') void metrics.refreshNetworkNames().catch((error) => deps.logger.warn({ err: error }, 'could not refresh network names for metrics'));
  });
  // Status changes, committed, go to subscribers on every API process.
  deliveryHub.onStatusChanged((deliveries) => {
    // Without Redis and without a subscriber in this process, nobody would read them.
    if (!pubsub.hasAudience('delivery-updated')) return;
    for (const delivery of deliveries) pubsub.publish('delivery-updated', toDeliverySnapshot(delivery));
  });
  // Workers elsewhere wake at once instead of at their next scan.
  if (pubsub.transport === 'redis') deliveryHub.onQueued((deliveries) => pubsub.publish('deliveries-queued', { count: deliveries.length }));

  const apiKeys = new ApiKeyService(deps.dataSource, clock, deps.adminSecret, (keyId) => pubsub.publish('api-key-revoked', { keyId }));
  pubsub.on('api-key-revoked', ({ keyId }) => apiKeys.forget(keyId));
  const macros = new MacroService(deps.dataSource, (appId) => configChanged(appId ? { kind: 'app', appId } : { kind: 'global-macros' }));
  const callbacks = new CallbackService(deps.dataSource, macros, (appId) => configChanged({ kind: 'app', appId }));
  return {
    config: deps.config,
    dataSource: deps.dataSource,
    logger: deps.logger,
    clock,
    apiKeys,
    apps: new AppService(deps.dataSource, clock, (appId) => configChanged({ kind: 'app', appId }), (keyIds) => apiKeys.announceRevoked(keyIds)),
    networks: new NetworkService(deps.dataSource, clock, () => configChanged({ kind: 'networks' }), (keyIds) => apiKeys.announceRevoked(keyIds)),
    macros,
    callbacks,
    deliveryHub,
    routing,
    events: new EventService(deps.dataSource, clock, routing, deliveryHub, deps.logger, {
      recorded: (fresh, duplicates) => {
        if (fresh > 0) metrics.eventsRecorded.inc({ duplicate: 'false' }, fresh);
        if (duplicates > 0) metrics.eventsRecorded.inc({ duplicate: 'true' }, duplicates);
      },
      writesSplit: () => metrics.eventWritesSplit.inc(),
    }, exchangeRates),
    deliveries: new DeliveryService(deps.dataSource),
    pubsub,
    metrics,
    exchangeRates,
    presets: new PresetService(deps.dataSource, macros, callbacks),
    deliveryQueue: new DeliveryQueue(deps.dataSource, clock, deliveryHub, deps.logger, deliveryQueueOptions(deps.config)),
  };
}
