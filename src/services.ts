// The composition root: every service, built once per process. The API process (app.ts) and
// the worker (worker.ts) both start here, so the wiring between the delivery store, the hub,
// the pub/sub and the metrics is written once.
import { DataSource } from 'typeorm';
import type { Config } from './config/config';
import type { Logger } from './common/logger';
import { Clock, systemClock } from './common/clock';
import { postbackUserAgent } from './common/package-info';
import { ApiKeyService } from './auth/api-key.service';
import { AppService } from './apps/app.service';
import { NetworkService } from './networks/network.service';
import { MacroService } from './macros/macro.service';
import { CallbackService } from './callbacks/callback.service';
import { createDeliveryStore } from './deliveries/create-delivery-store';
import { DeliveryHub } from './deliveries/delivery-hub';
import type { DeliveryStore } from './deliveries/delivery-store';
import { DeliveryService } from './deliveries/delivery.service';
import { DeliveryStatsRollup } from './deliveries/delivery-stats-rollup';
import { CallbackTestSender } from './callbacks/callback-test-send';
import { toDeliverySnapshot } from './deliveries/delivery-snapshot';
import { retrySettings } from './deliveries/retry-schedule';
import { Dispatcher } from './dispatch/dispatcher';
import { callbackConcurrency } from './dispatch/adaptive-concurrency';
import { createSender } from './dispatch/http-sender';
import { EventService } from './events/event.service';
import { RoutingCache } from './events/routing-cache';
import { ExchangeRateService } from './revenue/exchange-rate.service';
import { PresetService } from './presets/preset.service';
import { channelPrefix, type ClusterPubSub, type ConfigChange } from './pubsub/cluster-pubsub';
import { ServiceMetrics } from './observability/metrics';
import { type CallbackHealthStore, type HealthChange, SqlCallbackHealthStore } from './callbacks/callback-health';
import { CallbackHealthMonitor } from './dispatch/callback-health-monitor';
import { CallbackState } from './dispatch/circuit-breaker';
import { InMemorySendRateLimiter, RedisSendRateLimiter } from './dispatch/send-rate-limiter';

/** What every process has: the delivery rows' store, their announcements, messages between processes, metrics. */
export interface CoreServices {
  config: Config;
  dataSource: DataSource;
  logger: Logger;
  clock: Clock;
  /** The one owner of delivery and attempt rows. */
  deliveryStore: DeliveryStore;
  /** Committed delivery changes of this process (queued, status changed). */
  deliveryHub: DeliveryHub;
  /** Messages to every process of the deployment (through Redis when configured). */
  pubsub: ClusterPubSub;
  metrics: ServiceMetrics;
  /** The callbacks' health columns (circuit breaker). */
  callbackHealth: CallbackHealthStore;
  /** After a committed health change: tells every process (subscriptions, dispatchers, routing caches). */
  announceHealthChange(change: HealthChange): void;
}

/** The API process's services, shared by resolvers and the inline dispatcher. */
export interface Services extends CoreServices {
  apiKeys: ApiKeyService;
  apps: AppService;
  networks: NetworkService;
  macros: MacroService;
  callbacks: CallbackService;
  /** Per-app callbacks, compiled templates and macros for recording events; invalidated by every configuration change. */
  routing: RoutingCache;
  events: EventService;
  deliveries: DeliveryService;
  /** setExchangeRates / exchangeRates, and the rates in force for recording events (cached per date). */
  exchangeRates: ExchangeRateService;
  /** partnerTemplates and createCallbackFromTemplate. */
  presets: PresetService;
  /** deliveryStats' reads of the hourly rollup. */
  deliveryStats: DeliveryStatsRollup;
  /** testCallback's real sends. */
  callbackTests: CallbackTestSender;
}

interface CoreDeps {
  config: Config;
  dataSource: DataSource;
  logger: Logger;
  pubsub: ClusterPubSub;
  clock?: Clock;
}

/** The services of `npm run worker`: a dispatcher and what it reports to. */
export function createCoreServices(deps: CoreDeps): CoreServices {
  const clock = deps.clock ?? systemClock;
  const { pubsub, logger } = deps;
  const deliveryStore = createDeliveryStore(deps.dataSource, clock, logger, { leaseMs: deps.config.dispatchLeaseMs, retry: retrySettings(deps.config) });
  const deliveryHub = new DeliveryHub();
  const metrics = new ServiceMetrics(deps.dataSource, deliveryStore, clock);
  deliveryHub.onQueued((deliveries) => metrics.deliveriesQueued.inc(deliveries.length));
  deliveryHub.onScheduled((deliveries) => metrics.deliveriesQueued.inc(deliveries.length));
  pubsub.on('config-changed', (change) => {
    if (change.kind === 'networks') void metrics.refreshNetworkNames().catch((error) => logger.warn({ err: error }, 'could not refresh network names for metrics'));
  });
  // Status changes, committed, go to subscribers on every API process.
  deliveryHub.onStatusChanged((deliveries) => {
    // Without Redis and without a subscriber in this process, nobody would read them.
    if (!pubsub.hasAudience('delivery-updated')) return;
    for (const delivery of deliveries) pubsub.publish('delivery-updated', toDeliverySnapshot(delivery));
  });
  // Workers elsewhere wake at once instead of at their next scan; not for deliveries this
  // process inserted claimed (its inline dispatcher sends them, and there is nothing to find).
  if (pubsub.transport === 'redis') {
    deliveryHub.onQueued((deliveries, claimedHere) => {
      if (deliveries.length > claimedHere) pubsub.publish('deliveries-queued', { count: deliveries.length - claimedHere });
    });
  }
  const callbackHealth = new SqlCallbackHealthStore(deps.dataSource);
  const announceHealthChange = (change: HealthChange) => {
    const { callbackId, appId, networkId, health } = change.after;
    metrics.callbackHealthChanges.inc({ state: health.state });
    pubsub.publish('callback-health-changed', { callbackId, appId, networkId, state: health.state });
    // A DISABLED callback queues nothing: every routing cache drops it; resumed, it is back.
    if (health.state === CallbackState.DISABLED || change.before.state === CallbackState.DISABLED) pubsub.publish('config-changed', { kind: 'app', appId });
  };
  return { config: deps.config, dataSource: deps.dataSource, logger, clock, deliveryStore, deliveryHub, pubsub, metrics, callbackHealth, announceHealthChange };
}

/** The API process's services. */
export function createServices(deps: CoreDeps & { adminSecret: string }): Services {
  const core = createCoreServices(deps);
  const { dataSource, clock, pubsub, metrics, deliveryHub, deliveryStore } = core;
  const routing = new RoutingCache(dataSource, clock);
  const exchangeRates = new ExchangeRateService(dataSource, clock, () => pubsub.publish('config-changed', { kind: 'exchange-rates' }));

  // Configuration changes: this process's cache at once, the others' through the pub/sub.
  const configChanged = (change: ConfigChange) => {
    routing.apply(change);
    pubsub.publish('config-changed', change);
  };
  pubsub.on('config-changed', (change) => {
    if (change.kind === 'exchange-rates') exchangeRates.invalidate();
    else routing.apply(change);
  });

  const apiKeys = new ApiKeyService(dataSource, clock, deps.adminSecret, (keyId) => pubsub.publish('api-key-revoked', { keyId }));
  pubsub.on('api-key-revoked', ({ keyId }) => apiKeys.forget(keyId));
  const macros = new MacroService(dataSource, (appId) => configChanged(appId ? { kind: 'app', appId } : { kind: 'global-macros' }));
  const callbacks = new CallbackService(dataSource, macros, (appId) => configChanged({ kind: 'app', appId }));
  const events = new EventService(dataSource, clock, routing, deliveryStore, deliveryHub, deps.logger, {
    recorded: (fresh, duplicates) => {
      if (fresh > 0) metrics.eventsRecorded.inc({ duplicate: 'false' }, fresh);
      if (duplicates > 0) metrics.eventsRecorded.inc({ duplicate: 'true' }, duplicates);
    },
    writesSplit: () => metrics.eventWritesSplit.inc(),
  }, exchangeRates);
  return {
    ...core,
    apiKeys,
    apps: new AppService(dataSource, clock, (appId) => configChanged({ kind: 'app', appId }), (keyIds) => apiKeys.announceRevoked(keyIds)),
    networks: new NetworkService(dataSource, clock, () => configChanged({ kind: 'networks' }), (keyIds) => apiKeys.announceRevoked(keyIds)),
    macros,
    callbacks,
    routing,
    events,
    deliveries: new DeliveryService(deliveryStore, dataSource, deliveryHub, deps.logger, clock, { perSecond: deps.config.redeliverMaxPerSecond }),
    exchangeRates,
    presets: new PresetService(dataSource, macros, callbacks),
    deliveryStats: new DeliveryStatsRollup(dataSource),
    callbackTests: new CallbackTestSender(deps.config, clock, callbacks, events, (result) => metrics.testSends.inc({ result: result.errorKind ?? String(result.statusCode) })),
  };
}

/**
 * The dispatcher as configured, with its own HTTP sender (closed by stop()), reporting to the
 * metrics. `wakeOnRemoteQueues`: look for due deliveries as soon as another process says it
 * queued some (workers), instead of at the next scan.
 */
export function createDispatcher(core: CoreServices, options: { wakeOnRemoteQueues?: boolean } = {}): Dispatcher {
  const { config } = core;
  const sender = createSender(config.dispatchSender, {
    allowPrivate: config.dispatchAllowPrivate,
    userAgent: postbackUserAgent(),
    maxSockets: config.dispatchConcurrency,
    now: () => core.clock.now(),
  });
  const health = new CallbackHealthMonitor({
    store: core.callbackHealth,
    clock: core.clock,
    logger: core.logger,
    settings: { pauseMs: config.dispatchBreakerPauseMs, maxPauseMs: config.dispatchBreakerMaxPauseMs },
    onChange: (change) => core.announceHealthChange(change),
  });
  core.pubsub.on('callback-health-changed', () => health.changedElsewhere());
  // A changed maxRequestsPerSecond reaches the dispatcher at once.
  core.pubsub.on('config-changed', (change) => {
    if (change.kind === 'app') health.changedElsewhere();
  });
  // Through Redis every process shares one count per callback and second; alone, this process's count is exact.
  const rateLimiter = config.redisUrl
    ? new RedisSendRateLimiter(config.redisUrl, channelPrefix(config.database), core.clock)
    : new InMemorySendRateLimiter(core.clock);
  const dispatcher = new Dispatcher({
    health,
    rateLimiter,
    store: core.deliveryStore,
    hub: core.deliveryHub,
    sender,
    clock: core.clock,
    logger: core.logger,
    observer: core.metrics.dispatchObserver(),
    settings: { concurrency: config.dispatchConcurrency, batchSize: config.dispatchBatchSize, callbackConcurrency: callbackConcurrency(config), retry: retrySettings(config) },
  });
  if (options.wakeOnRemoteQueues) core.pubsub.on('deliveries-queued', () => dispatcher.wake());
  return dispatcher;
}
