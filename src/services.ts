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
import { DeliveryQueue, deliveryQueueOptions } from './dispatch/delivery-queue';

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
  /** The delivery state machine's SQL: claims, attempts, redeliver (used by the dispatcher and the redeliver mutation). */
  deliveryQueue: DeliveryQueue;
}

export function createServices(deps: { config: Config; dataSource: DataSource; logger: Logger; adminSecret: string; clock?: Clock }): Services {
  const clock = deps.clock ?? systemClock;
  const routing = new RoutingCache(deps.dataSource, clock);
  const deliveryHub = new DeliveryHub();
  const macros = new MacroService(deps.dataSource, (appId) => (appId ? routing.appChanged(appId) : routing.globalMacrosChanged()));
  return {
    config: deps.config,
    dataSource: deps.dataSource,
    logger: deps.logger,
    clock,
    apiKeys: new ApiKeyService(deps.dataSource, clock, deps.adminSecret),
    apps: new AppService(deps.dataSource, clock, (appId) => routing.appChanged(appId)),
    networks: new NetworkService(deps.dataSource, clock, () => routing.networksChanged()),
    macros,
    callbacks: new CallbackService(deps.dataSource, macros, (appId) => routing.appChanged(appId)),
    deliveryHub,
    routing,
    events: new EventService(deps.dataSource, clock, routing, deliveryHub, deps.logger),
    deliveries: new DeliveryService(deps.dataSource),
    deliveryQueue: new DeliveryQueue(deps.dataSource, clock, deliveryHub, deps.logger, deliveryQueueOptions(deps.config)),
  };
}
