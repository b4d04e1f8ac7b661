// Messages between the processes of one deployment (API nodes and workers): delivery status
// changes for subscriptions, configuration changes for the routing caches, key revocations
// for open WebSockets. With REDIS_URL they travel through Redis pub/sub; without it they
// stay inside this process, which is enough when one process serves everything.
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Repeater, SlidingBuffer } from '@repeaterjs/repeater';
import Redis from 'ioredis';
import { resolve } from 'node:path';
import type { DatabaseConfig } from '../config/config';
import type { Logger } from '../common/logger';
import type { DeliverySnapshot } from '../deliveries/delivery-snapshot';

export type ConfigChange = { kind: 'app'; appId: string } | { kind: 'global-macros' } | { kind: 'networks' } | { kind: 'exchange-rates' };

export interface ClusterTopics {
  'delivery-updated': DeliverySnapshot;
  'config-changed': ConfigChange;
  'api-key-revoked': { keyId: string };
  'deliveries-queued': { count: number };
  /** A callback's health state changed (committed). */
  'callback-health-changed': CallbackHealthChanged;
}

export interface CallbackHealthChanged {
  callbackId: string;
  appId: string;
  networkId: string | null;
  state: string;
}
export type ClusterTopic = keyof ClusterTopics;

export interface ClusterPubSub {
  /** Delivered to every process of the deployment, this one included. Never throws. */
  publish<K extends ClusterTopic>(topic: K, payload: ClusterTopics[K]): void;
  /** For GraphQL subscriptions: buffered per subscriber; a subscriber that falls further behind loses the oldest messages. */
  subscribe<K extends ClusterTopic>(topic: K): AsyncIterableIterator<ClusterTopics[K]>;
  /** For internal listeners (cache invalidation, socket closing). Returns the unsubscribe function. */
  on<K extends ClusterTopic>(topic: K, listener: (payload: ClusterTopics[K]) => void): () => void;
  readonly transport: 'redis' | 'in-process';
  /**
   * Whether a message on this topic can reach anyone: always with Redis (other processes may
   * listen), otherwise only while this process has a subscriber or listener. Lets publishers
   * skip building messages nobody reads.
   */
  hasAudience(topic: ClusterTopic): boolean;
  close(): Promise<void>;
}

/** Updates one subscriber may have queued before the oldest are dropped. */
export const SUBSCRIBER_BUFFER = 10_000;

/**
 * Channels are namespaced by the database, so processes that share a database (one
 * deployment) talk to each other and deployments or test runs sharing a Redis do not. For
 * MySQL the database name alone: nodes may reach one server under different host names (a
 * proxy, an IP address), and would otherwise silently share nothing.
 */
export function channelPrefix(database: DatabaseConfig): string {
  const identity = database.type === 'mysql' ? `mysql:${database.database}` : `sqlite:${resolve(database.path)}`;
  return `postbacks:${identity}:`;
}

type EventTargetLike = {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
  dispatchEvent(event: Event): boolean;
};

export async function createClusterPubSub(options: { redisUrl: string | null; database: DatabaseConfig; logger: Logger }): Promise<ClusterPubSub> {
  const prefix = channelPrefix(options.database);
  const channel = (topic: ClusterTopic) => `${prefix}${topic}`;
  let target: EventTargetLike;
  let closeTransport: () => Promise<void> = async () => undefined;

  if (options.redisUrl) {
    const connect = async (role: string) => {
      const client = new Redis(options.redisUrl as string, { lazyConnect: true, maxRetriesPerRequest: 3, connectionName: `postbacks-${role}` });
      client.on('error', (error) => options.logger.warn({ err: error, role }, 'redis connection error'));
      try {
        await client.connect();
      } catch (error) {
        client.disconnect();
        throw new Error(`REDIS_URL: cannot connect to Redis (${(error as Error).message})`);
      }
      return client;
    };
    // Both clients must be ready before the event target uses them, or the subscriber
    // client may enter subscriber mode mid-handshake (see STACK.md).
    const [publishClient, subscribeClient] = await Promise.all([connect('publish'), connect('subscribe')]);
    target = createRedisEventTarget({ publishClient, subscribeClient }) as unknown as EventTargetLike;
    closeTransport = async () => {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    };
  } else {
    target = new EventTarget();
  }

  const logger = options.logger;
  const listeners = new Map<ClusterTopic, number>();
  const listen = (topic: ClusterTopic, handler: (event: Event) => void): (() => void) => {
    target.addEventListener(channel(topic), handler);
    listeners.set(topic, (listeners.get(topic) ?? 0) + 1);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      target.removeEventListener(channel(topic), handler);
      listeners.set(topic, (listeners.get(topic) ?? 1) - 1);
    };
  };

  const bus: ClusterPubSub = {
    transport: options.redisUrl ? 'redis' : 'in-process',
    hasAudience(topic) {
      return Boolean(options.redisUrl) || (listeners.get(topic) ?? 0) > 0;
    },
    publish(topic, payload) {
      try {
        target.dispatchEvent(new CustomEvent(channel(topic), { detail: payload }));
      } catch (error) {
        logger.error({ err: error, topic }, 'could not publish a cluster message');
      }
    },
    subscribe(topic) {
      // A buffer per subscriber: one shared buffer (as @graphql-yoga/subscription's createPubSub
      // takes) would hand one subscriber's messages to another.
      return new Repeater<ClusterTopics[typeof topic]>((push, stop) => {
        const unlisten = listen(topic, (event: Event) => void push((event as CustomEvent).detail));
        void stop.then(unlisten);
      }, new SlidingBuffer(SUBSCRIBER_BUFFER));
    },
    on(topic, listener) {
      const handler = (event: Event) => {
        try {
          listener((event as CustomEvent).detail);
        } catch (error) {
          logger.error({ err: error, topic }, 'a cluster message listener failed');
        }
      };
      return listen(topic, handler);
    },
    async close() {
      await closeTransport();
    },
  };
  return bus;
}
