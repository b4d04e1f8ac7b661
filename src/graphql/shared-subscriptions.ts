// Subscribers that ask the same thing share one execution. A status change is resolved once
// per distinct (document, operation, variables, scope), not once per subscriber: with 500
// subscribers of one partner on one selection, each update costs one execution and its
// loaders' queries, and the result is handed to all 500. The scope is what decides what a
// caller may see (role and bound app or network), so callers that share a scope get
// identical answers.
import { Repeater, SlidingBuffer } from '@repeaterjs/repeater';
import { print, subscribe as graphqlSubscribe, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { SUBSCRIBER_BUFFER } from '../pubsub/cluster-pubsub';

type Subscriber = { push: (result: ExecutionResult) => unknown; stop: (error?: unknown) => unknown };

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
      return new Repeater<ExecutionResult>(async (push, stop) => {
        const subscriber: Subscriber = { push, stop };
        group.subscribers.add(subscriber);
        if (!group.pumping) {
          group.pumping = true;
          void pump(key, group, shared);
        }
        await stop;
        group.subscribers.delete(subscriber);
        if (group.subscribers.size === 0) {
          forget(key, shared);
          await group.source.return?.(undefined);
        }
      }, new SlidingBuffer(SUBSCRIBER_BUFFER));
    },
  };
}
