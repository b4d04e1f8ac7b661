// Subscribers that ask the same thing share one execution. A status change is resolved once
// per distinct (document, operation, variables, scope), not once per subscriber: with 500
// subscribers of one partner on one selection, each update costs one execution and its
// loaders' queries, and the result is handed to all 500. The scope is what decides what a
// caller may see (role and bound app or network), so callers that share a scope get
// identical answers.
import { print, subscribe as graphqlSubscribe, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { SUBSCRIBER_BUFFER } from '../pubsub/cluster-pubsub';

/**
 * One subscriber's end of a shared execution: an async iterator over the results pushed to it,
 * keeping at most `limit` unread (the oldest are dropped, as the pub/sub's buffer does). Plain
 * rather than a Repeater: a push here is a queue append or one resolved promise, and a fan-out
 * makes hundreds of them per update (Repeater's push, several promises each, was the largest
 * cost of a 500-subscriber fan-out after the socket writes).
 */
export class SubscriberChannel<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private failWaiting: ((error: unknown) => void) | null = null;
  private finished = false;
  private error: unknown = null;

  constructor(
    private readonly limit: number,
    private readonly onClose: () => void,
  ) {}

  push(value: T): void {
    if (this.finished) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failWaiting = null;
      resolve({ value, done: false });
      return;
    }
    this.queue.push(value);
    if (this.queue.length > this.limit) this.queue.shift();
  }

  /** Ends the iteration after what is queued; with an error, the next read throws it. */
  stop(error?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.error = error ?? null;
    if (this.waiting) {
      const [resolve, reject] = [this.waiting, this.failWaiting];
      this.waiting = this.failWaiting = null;
      if (error !== undefined) reject?.(error);
      else resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift() as T, done: false });
    if (this.finished) {
      const error = this.error;
      this.error = null;
      return error !== null ? Promise.reject(error) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
    });
  }

  /** The subscriber left (graphql-ws calls this on complete or close). */
  return(): Promise<IteratorResult<T>> {
    this.queue.length = 0;
    if (!this.finished) {
      this.stop();
      this.onClose();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

type Subscriber = SubscriberChannel<ExecutionResult>;

interface Group {
  subscribers: Set<Subscriber>;
  source: AsyncGenerator<ExecutionResult> | AsyncIterableIterator<ExecutionResult>;
  /** Started by the first subscriber that begins reading. */
  pumping: boolean;
}

export interface SharedSubscriptions {
  subscribe(args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;
  /** Distinct executions running now (for tests and metrics). */
  readonly groupCount: number;
}

/**
 * `scopeOf` names the visibility of a context (null: never share). `onExecution` is told of
 * each result one shared execution produced, with how many subscribers received it.
 */
export function createSharedSubscriptions(scopeOf: (contextValue: unknown) => string | null, onExecution: (subscribers: number) => void = () => undefined): SharedSubscriptions {
  const groups = new Map<string, Promise<Group | ExecutionResult>>();

  const forget = (key: string, pending: Promise<Group | ExecutionResult>) => {
    if (groups.get(key) === pending) groups.delete(key);
  };

  const pump = async (key: string, group: Group, pending: Promise<Group | ExecutionResult>) => {
    try {
      for await (const result of group.source) {
        onExecution(group.subscribers.size);
        for (const subscriber of group.subscribers) subscriber.push(result);
      }
      for (const subscriber of group.subscribers) subscriber.stop();
    } catch (error) {
      for (const subscriber of group.subscribers) subscriber.stop(error);
    } finally {
      forget(key, pending);
    }
  };

  const start = async (args: ExecutionArgs): Promise<Group | ExecutionResult> => {
    const result = await graphqlSubscribe(args);
    if (!(Symbol.asyncIterator in result)) return result;
    return { subscribers: new Set(), source: result as AsyncGenerator<ExecutionResult>, pumping: false };
  };

  return {
    get groupCount() {
      return groups.size;
    },
    async subscribe(args) {
      const scope = scopeOf(args.contextValue);
      if (scope === null) return graphqlSubscribe(args);
      const key = JSON.stringify([scope, args.operationName ?? null, args.variableValues ?? null, print(args.document)]);
      let pending = groups.get(key);
      if (!pending) {
        pending = start(args);
        groups.set(key, pending);
      }
      const shared = pending;
      const group = await shared.catch((error: unknown) => {
        forget(key, shared);
        throw error;
      });
      // Refused (an error result, e.g. FORBIDDEN): nothing to share, and the next caller tries again.
      if (!('subscribers' in group)) {
        forget(key, shared);
        return group;
      }
      const subscriber: Subscriber = new SubscriberChannel<ExecutionResult>(SUBSCRIBER_BUFFER, () => {
        group.subscribers.delete(subscriber);
        if (group.subscribers.size === 0) {
          forget(key, shared);
          void group.source.return?.(undefined);
        }
      });
      group.subscribers.add(subscriber);
      if (!group.pumping) {
        group.pumping = true;
        void pump(key, group, shared);
      }
      return subscriber;
    },
  };
}
