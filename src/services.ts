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
}

export function createServices(deps: { config: Config; dataSource: DataSource; logger: Logger; adminSecret: string; clock?: Clock }): Services {
  const clock = deps.clock ?? systemClock;
  const macros = new MacroService(deps.dataSource);
  return {
    config: deps.config,
    dataSource: deps.dataSource,
    logger: deps.logger,
    clock,
    apiKeys: new ApiKeyService(deps.dataSource, clock, deps.adminSecret),
    apps: new AppService(deps.dataSource, clock),
    networks: new NetworkService(deps.dataSource, clock),
    macros,
    callbacks: new CallbackService(deps.dataSource, macros),
    deliveryHub: new DeliveryHub(),
  };
}
