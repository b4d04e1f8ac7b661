// Prometheus metrics (prom-client). One registry per process, so several services in one test
// process do not share counters. What operators of a postback pipeline watch: intake, queue
// depth and age, attempt latency, outcomes per network, retries, refusals.
import { healthStatements } from '../callbacks/callback-health';
import { CallbackState } from '../dispatch/circuit-breaker';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DataSource } from 'typeorm';
import { DeliveryStatus } from '../common/enums';
import type { Clock } from '../common/clock';
import type { Delivery } from '../deliveries/delivery.entity';
import type { DeliveryStore } from '../deliveries/delivery-store';
import type { DispatchObserver } from '../dispatch/dispatcher';
import { Network } from '../networks/network.entity';

/** Postbacks are fast or they are late: buckets from 5 ms to the 30 s timeout cap. */
export const ATTEMPT_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Deliveries without a network (the advertiser's own server, a BI tool). */
export const NO_NETWORK_LABEL = 'none';

export class ServiceMetrics {
  readonly registry = new Registry();
  /** Network slugs by id for the `network` label; refreshed when networks change. */
  private networkSlugs = new Map<string, string>();

  readonly eventsRecorded = new Counter({
    name: 'postbacks_events_recorded_total',
    help: 'Events accepted by recordEvent(s); duplicate="true" for repeats of an (app, eventId) already recorded',
    labelNames: ['duplicate'] as const,
    registers: [this.registry],
  });
  readonly eventWritesSplit = new Counter({
    name: 'postbacks_event_writes_split_total',
    help: 'Shared event transactions (group commit) that failed and were written again call by call; steadily rising means a bad input or database trouble',
    registers: [this.registry],
  });
  readonly deliveriesQueued = new Counter({
    name: 'postbacks_deliveries_queued_total',
    help: 'Deliveries queued (one per matching callback of a recorded event, and one per redeliver)',
    registers: [this.registry],
  });
  readonly deliveriesFinished = new Counter({
    name: 'postbacks_deliveries_finished_total',
    help: 'Deliveries that reached a final status, by status (DELIVERED, FAILED) and network slug',
    labelNames: ['status', 'network'] as const,
    registers: [this.registry],
  });
  readonly attempts = new Counter({
    name: 'postbacks_attempts_total',
    help: 'Attempts made, by result: delivered, retryable (will be retried if attempts remain), permanent',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly attemptDuration = new Histogram({
    name: 'postbacks_attempt_duration_seconds',
    help: 'Time from sending a postback to its answer (or error), by result',
    labelNames: ['result'] as const,
    buckets: ATTEMPT_DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly retriesScheduled = new Counter({
    name: 'postbacks_retries_scheduled_total',
    help: 'Failed attempts after which another attempt was scheduled (status RETRYING)',
    registers: [this.registry],
  });
  readonly destinationsRefused = new Counter({
    name: 'postbacks_destinations_refused_total',
    help: 'Postbacks not sent because their destination resolved to a non-public address',
    registers: [this.registry],
  });
  readonly leasesTakenOver = new Counter({
    name: 'postbacks_leases_taken_over_total',
    help: 'Deliveries taken over after the worker holding them stopped before recording its attempt',
    registers: [this.registry],
  });
  readonly dispatchErrors = new Counter({
    name: 'postbacks_dispatch_errors_total',
    help: 'Database errors in the dispatcher, by stage (claim, record); the loop carries on',
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });
  readonly callbackHealthChanges = new Counter({
    name: 'postbacks_callback_health_changes_total',
    help: 'Callback health state changes (circuit opened, probe resumed, auto-disabled, resumed), by the new state',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly testSends = new Counter({
    name: 'postbacks_test_sends_total',
    help: 'testCallback sends, by result (the HTTP status, or the error kind: timeout, connection, blocked, …)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'postbacks_rate_limited_total',
    help: 'Sends held back by a callback\'s maxRequestsPerSecond (they wait for the next second, nothing is lost)',
    registers: [this.registry],
  });
  readonly callbackLimitWaits = new Counter({
    name: 'postbacks_callback_limit_waits_total',
    help: 'Postbacks that waited for their callback\'s concurrency limit (DISPATCH_CALLBACK_CONCURRENCY) before being sent',
    registers: [this.registry],
  });
  readonly requestsRefused = new Counter({
    name: 'postbacks_requests_refused_total',
    help: 'Requests and connections refused by a limit, by reason (rate_limited, query_cost, connections_per_address, sockets_per_key, subscriptions_per_socket) and key role (none: no key)',
    labelNames: ['reason', 'role'] as const,
    registers: [this.registry],
  });
  readonly subscriptionExecutions = new Counter({
    name: 'postbacks_subscription_executions_total',
    help: 'Executions of a subscription selection for one update; subscribers asking the same thing in the same scope share one',
    registers: [this.registry],
  });
  readonly subscriptionMessages = new Counter({
    name: 'postbacks_subscription_messages_total',
    help: 'Subscription results handed to subscribers (one execution reaches every subscriber that shares it)',
    registers: [this.registry],
  });
  readonly graphqlErrors = new Counter({
    name: 'postbacks_graphql_errors_total',
    help: 'Errors returned by GraphQL operations, by extensions.code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor(
    private readonly dataSource: DataSource,
    private readonly deliveryStore: DeliveryStore,
    private readonly clock: Clock,
    options: { processMetrics?: boolean } = {},
  ) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'postbacks_' });
    const self = this;
    // Read from the database at scrape time: the queue is shared by every process, so each
    // process reports the same figure, and no process needs to keep count.
    new Gauge({
      name: 'postbacks_queue_depth',
      help: 'Deliveries not yet final, by status (PENDING, SENDING, RETRYING), across the deployment',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const depth = await self.deliveryStore.queueDepth();
        this.reset();
        for (const status of [DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.RETRYING] as const) this.set({ status }, depth[status]);
      },
    });
    new Gauge({
      name: 'postbacks_callbacks_paused',
      help: 'Callbacks by health state (PAUSED: circuit open, DISABLED: switched off), across the deployment',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const rows: Array<{ state: string; n: number | string }> = await self.dataSource.query(healthStatements(self.dataSource).COUNT_NOT_HEALTHY, [CallbackState.HEALTHY]);
        this.reset();
        this.set({ state: 'PAUSED' }, 0);
        this.set({ state: 'DISABLED' }, 0);
        for (const row of rows) this.set({ state: row.state }, Number(row.n));
      },
    });
    new Gauge({
      name: 'postbacks_oldest_due_delivery_age_seconds',
      help: 'How long the longest-waiting due delivery (PENDING or RETRYING, due now) has waited; 0 when none is due',
      registers: [this.registry],
      async collect() {
        const now = self.clock.now();
        const at = await self.deliveryStore.oldestDueAt(now);
        this.set(at === null ? 0 : Math.max(0, (now.getTime() - at.getTime()) / 1000));
      },
    });
  }

  async refreshNetworkNames(): Promise<void> {
    const rows = await this.dataSource.getRepository(Network).find({ select: { id: true, slug: true }, withDeleted: true });
    this.networkSlugs = new Map(rows.map((n) => [n.id, n.slug]));
  }

  networkLabel(networkId: string | null): string {
    if (networkId === null) return NO_NETWORK_LABEL;
    return this.networkSlugs.get(networkId) ?? networkId;
  }

  /** Feeds the dispatcher's outcomes into the metrics. */
  dispatchObserver(): Partial<DispatchObserver> {
    return {
      attemptFinished: ({ delivery, attempt, outcome }) => {
        this.attempts.inc({ result: outcome.kind });
        this.attemptDuration.observe({ result: outcome.kind }, attempt.latencyMs / 1000);
        if (delivery.status === DeliveryStatus.RETRYING) this.retriesScheduled.inc();
      },
      deliveryFinished: (delivery: Delivery) => this.deliveriesFinished.inc({ status: delivery.status, network: this.networkLabel(delivery.networkId) }),
      refused: () => this.destinationsRefused.inc(),
      takenOver: (deliveries) => this.leasesTakenOver.inc(deliveries.length),
      failed: (stage) => this.dispatchErrors.inc({ stage }),
      rateLimited: (_callbackId, count) => this.rateLimited.inc(count),
      waitedForCallbackLimit: () => this.callbackLimitWaits.inc(),
    };
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
