import { GroupCommit, takeBatch } from '../../../src/db/group-commit';

/** A flush the test releases by hand, recording what each call got. */
function controlledFlush<T>() {
  const calls: { items: T[]; release: (fail?: unknown) => void }[] = [];
  const flush = (items: T[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({ items, release: (fail?: unknown) => (fail ? reject(fail) : resolve(items.map((i) => `done:${String(i)}`))) });
    });
  return { calls, flush };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('takeBatch', () => {
  const items = (...weights: number[]) => weights.map((weight, i) => ({ i, weight }));

  it('takes from the front while the weights fit', () => {
    const queue = items(1, 2, 3, 4);
    expect(takeBatch(queue, 6).map((w) => w.i)).toEqual([0, 1, 2]);
    expect(queue.map((w) => w.i)).toEqual([3]);
  });

  it('always takes at least one item, even one heavier than the limit', () => {
    const queue = items(10, 1);
    expect(takeBatch(queue, 5).map((w) => w.i)).toEqual([0]);
  });

  it('keeps the order and does not skip ahead to lighter items', () => {
    const queue = items(3, 5, 1);
    expect(takeBatch(queue, 7).map((w) => w.i)).toEqual([0]);
    expect(takeBatch(queue, 7).map((w) => w.i)).toEqual([1, 2]);
  });

  it('takes nothing from an empty queue', () => {
    expect(takeBatch([], 5)).toEqual([]);
  });

  it('leaves an item whose key is already taken in its place for the next batch, and takes the ones after it', () => {
    const queue = [
      { i: 0, weight: 1, keys: ['a', 'b'] },
      { i: 1, weight: 1, keys: ['b'] },
      { i: 2, weight: 1, keys: ['c'] },
      { i: 3, weight: 1, keys: [] },
      { i: 4, weight: 1, keys: ['a'] },
    ];
    expect(takeBatch(queue, 10).map((w) => w.i)).toEqual([0, 2, 3]);
    expect(queue.map((w) => w.i)).toEqual([1, 4]);
    expect(takeBatch(queue, 10).map((w) => w.i)).toEqual([1, 4]);
  });
});

describe('GroupCommit', () => {
  it('flushes a lone item at the end of the turn', async () => {
    const { calls, flush } = controlledFlush<number>();
    const group = new GroupCommit(flush, { maxConcurrent: 1, maxWeight: 100 });
    const result = group.submit(1);
    expect(calls).toHaveLength(0);
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]?.release();
    await expect(result).resolves.toBe('done:1');
  });

  it('never puts two items with a common key in one flush', async () => {
    const { calls, flush } = controlledFlush<string>();
    const group = new GroupCommit(flush, { maxConcurrent: 1, maxWeight: 100, keys: (item) => [item.split(':')[0] as string] });
    const results = ['k1:first', 'k2:x', 'k1:resent', 'k3:y'].map((i) => group.submit(i));
    await tick();
    expect(calls.map((c) => c.items)).toEqual([['k1:first', 'k2:x', 'k3:y']]);
    calls[0]?.release();
    await tick();
    expect(calls.map((c) => c.items)).toEqual([['k1:first', 'k2:x', 'k3:y'], ['k1:resent']]);
    calls[1]?.release();
    await expect(Promise.all(results)).resolves.toEqual(['done:k1:first', 'done:k2:x', 'done:k1:resent', 'done:k3:y']);
  });

  it('flushes what one turn submitted together', async () => {
    const { calls, flush } = controlledFlush<number>();
    const group = new GroupCommit(flush, { maxConcurrent: 1, maxWeight: 100 });
    const results = [1, 2, 3].map((i) => group.submit(i));
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3]]);
    calls[0]?.release();
    await expect(Promise.all(results)).resolves.toEqual(['done:1', 'done:2', 'done:3']);
  });

  it('gathers items that arrive during a flush into the next one', async () => {
    const { calls, flush } = controlledFlush<number>();
    const group = new GroupCommit(flush, { maxConcurrent: 1, maxWeight: 100 });
    const first = group.submit(1);
    await tick();
    const results = [first, ...[2, 3, 4].map((i) => group.submit(i))];
    expect(calls.map((c) => c.items)).toEqual([[1]]);
    expect(group.pending).toBe(3);
    calls[0]?.release();
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3, 4]]);
    calls[1]?.release();
    await expect(Promise.all(results)).resolves.toEqual(['done:1', 'done:2', 'done:3', 'done:4']);
  });

  it('runs up to maxConcurrent flushes at once', async () => {
    const { calls, flush } = controlledFlush<number>();
    const group = new GroupCommit(flush, { maxConcurrent: 2, maxWeight: 1 });
    const results = [1, 2, 3, 4].map((i) => group.submit(i));
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1], [2]]);
    calls[1]?.release();
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1], [2], [3]]);
    calls[0]?.release();
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1], [2], [3], [4]]);
    calls[2]?.release();
    calls[3]?.release();
    await expect(Promise.all(results)).resolves.toHaveLength(4);
  });

  it('splits what has gathered by weight', async () => {
    const { calls, flush } = controlledFlush<number>();
    const group = new GroupCommit(flush, { maxConcurrent: 1, maxWeight: 5, weight: (n) => n });
    const first = group.submit(1);
    await tick();
    const results = [first, ...[2, 3, 4].map((i) => group.submit(i))];
    calls[0]?.release();
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3]]);
    calls[1]?.release();
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3], [4]]);
    calls[2]?.release();
    await Promise.all(results);
  });

  it('when a shared flush fails, flushes each item alone so only the culprit fails', async () => {
    const flushed: number[][] = [];
    const group = new GroupCommit<number, string>(
      async (items) => {
        flushed.push(items);
        if (items.includes(3)) throw new Error('3 is bad');
        return items.map((i) => `ok:${i}`);
      },
      { maxConcurrent: 1, maxWeight: 100 },
    );
    const first = group.submit(1); // flushes alone, at the end of this turn
    await tick();
    const rest = [2, 3, 4].map((i) => group.submit(i).catch((e: Error) => e.message));
    await expect(first).resolves.toBe('ok:1');
    await expect(Promise.all(rest)).resolves.toEqual(['ok:2', '3 is bad', 'ok:4']);
    expect(flushed).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
  });

  it('a failing lone item gets its error without a second try', async () => {
    let calls = 0;
    const group = new GroupCommit<number, string>(
      async () => {
        calls++;
        throw new Error('down');
      },
      { maxConcurrent: 1, maxWeight: 100 },
    );
    await expect(group.submit(1)).rejects.toThrow('down');
    expect(calls).toBe(1);
  });

  it('rejects every item when a flush returns the wrong number of results', async () => {
    const group = new GroupCommit<number, string>(async () => ['only one'], { maxConcurrent: 1, maxWeight: 100 });
    const results = [group.submit(1), group.submit(2)];
    await expect(results[0]).rejects.toThrow(/2 results|1 results/);
    await expect(results[1]).rejects.toThrow();
  });

  it('refuses a concurrency below one', () => {
    expect(() => new GroupCommit(async () => [], { maxConcurrent: 0, maxWeight: 1 })).toThrow();
  });
});
