import { buildSchema, parse, type ExecutionResult } from 'graphql';
import { createSharedSubscriptions, SubscriberChannel } from '../../../src/graphql/shared-subscriptions';

describe('SubscriberChannel', () => {
  it('hands pushed values to a waiting reader, queues the rest, drops the oldest past its limit', async () => {
    const channel = new SubscriberChannel<number>(2, () => undefined);
    const first = channel.next();
    channel.push(1);
    expect(await first).toEqual({ value: 1, done: false });
    channel.push(2);
    channel.push(3);
    channel.push(4);
    expect(await channel.next()).toEqual({ value: 3, done: false });
    expect(await channel.next()).toEqual({ value: 4, done: false });
    channel.stop();
    expect(await channel.next()).toEqual({ value: undefined, done: true });
  });

  it('tells its owner once when the reader leaves, and rejects a waiting read on an error', async () => {
    let closed = 0;
    const channel = new SubscriberChannel<number>(10, () => closed++);
    await channel.return();
    await channel.return();
    expect(closed).toBe(1);
    const failing = new SubscriberChannel<number>(10, () => undefined);
    const read = failing.next();
    failing.stop(new Error('source failed'));
    await expect(read).rejects.toThrow('source failed');
  });
});

describe('createSharedSubscriptions', () => {
  const schema = buildSchema('type Query { x: Int } type Subscription { tick: Int }');
  it('runs one source per (scope, document, variables) and ends it when the last subscriber leaves', async () => {
    let sources = 0;
    let ended = 0;
    const push: ((n: number) => void)[] = [];
    const rootValue = {
      tick: () => {
        sources++;
        const queue: number[] = [];
        let wake: (() => void) | null = null;
        push.push((n) => {
          queue.push(n);
          wake?.();
        });
        return {
          [Symbol.asyncIterator]() {
            return this;
          },
          async next() {
            while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
            return { value: { tick: queue.shift() }, done: false };
          },
          async return() {
            ended++;
            return { value: undefined, done: true };
          },
        };
      },
    };
    let executions = 0;
    const shared = createSharedSubscriptions((context) => (context as { scope: string }).scope, () => executions++);
    const args = (scope: string) => ({ schema, document: parse('subscription { tick }'), rootValue, contextValue: { scope } });
    const a = (await shared.subscribe(args('p1'))) as AsyncIterableIterator<ExecutionResult>;
    const b = (await shared.subscribe(args('p1'))) as AsyncIterableIterator<ExecutionResult>;
    const c = (await shared.subscribe(args('p2'))) as AsyncIterableIterator<ExecutionResult>;
    expect(sources).toBe(2);
    expect(shared.groupCount).toBe(2);
    push[0]!(7);
    expect([await a.next(), await b.next()].map((r) => r.value)).toEqual([{ data: { tick: 7 } }, { data: { tick: 7 } }]);
    expect(executions).toBe(1);
    await a.return!();
    expect(ended).toBe(0);
    await b.return!();
    await c.return!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(2);
    expect(shared.groupCount).toBe(0);
  });
});
