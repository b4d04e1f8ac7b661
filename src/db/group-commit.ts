/**
 * Group commit: many callers' writes share one transaction.
 *
 * Each transaction costs a few round trips (BEGIN, the statements, COMMIT) whatever it holds,
 * and on this service's machines a round trip costs far more CPU, on both ends, than the rows
 * themselves. So callers hand their items to a GroupCommit; when fewer than `maxConcurrent`
 * flushes are running, their items flush at the end of the current turn of the event loop
 * (together with whatever else that turn submitted: the answers of many postbacks arrive in
 * one turn), otherwise they wait and the next flush takes everything that has gathered, up to
 * `maxWeight`. An idle service adds no delay beyond that turn.
 *
 * Isolation: when a flush of several callers' items fails, each caller's items are flushed
 * again on their own, so one bad item (a unique-key race, a row too long) fails only its
 * caller and the others still commit. Every caller gets its own result or its own error.
 */
export interface GroupCommitOptions<T> {
  /** Flushes running at once (a second one can fill while the first waits on the database). */
  maxConcurrent: number;
  /** Most weight in one flush; an item heavier than this still flushes, alone. */
  maxWeight: number;
  /** An item's share of maxWeight (default 1). */
  weight?: (item: T) => number;
  /**
   * Keys no two items of one flush may share (an event's idempotency key): a later item with
   * a key already in the flush waits for the next one. Otherwise the shared transaction would
   * fail on the unique key, and every item in it would be flushed again one by one: under
   * load, when clients time out and resend, exactly when that costs most.
   */
  keys?: (item: T) => readonly string[];
  /** A flush of several items failed and they are flushed again one by one (for metrics and logs). */
  onSplit?: (items: number, error: unknown) => void;
}

interface Waiting<T, R> {
  item: T;
  weight: number;
  keys: readonly string[];
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<T, R> {
  private readonly waiting: Waiting<T, R>[] = [];
  private running = 0;
  private scheduled = false;

  /**
   * `flush(items)` writes the items in one transaction and returns one result per item, in
   * order; it rejects (having written nothing) when any item fails.
   */
  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions<T>,
  ) {
    if (options.maxConcurrent < 1) throw new Error('maxConcurrent must be at least 1');
  }

  /** Items waiting for a flush (not those being flushed). */
  get pending(): number {
    return this.waiting.length;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, weight: this.options.weight?.(item) ?? 1, keys: this.options.keys?.(item) ?? [], resolve, reject });
      if (!this.scheduled && this.running < this.options.maxConcurrent) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.drain();
        });
      }
    });
  }

  private drain(): void {
    while (this.running < this.options.maxConcurrent && this.waiting.length > 0) {
      const batch = takeBatch(this.waiting, this.options.maxWeight);
      this.running++;
      void this.run(batch).finally(() => {
        this.running--;
        this.drain();
      });
    }
  }

  private async run(batch: Waiting<T, R>[]): Promise<void> {
    try {
      settle(batch, await this.flush(batch.map((w) => w.item)));
      return;
    } catch (error) {
      if (batch.length === 1) {
        (batch[0] as Waiting<T, R>).reject(error);
        return;
      }
      this.options.onSplit?.(batch.length, error);
    }
    // Together they failed: each on its own, in the order they came, so only the culprits fail.
    for (const waiting of batch) {
      try {
        settle([waiting], await this.flush([waiting.item]));
      } catch (error) {
        waiting.reject(error);
      }
    }
  }
}

/**
 * Takes from the front of `queue`, in order, the items whose weights fit in maxWeight (always
 * at least one). An item sharing a key with one already taken stays in the queue, in its
 * place, for the next batch; the items after it may still be taken.
 */
export function takeBatch<W extends { weight: number; keys?: readonly string[] }>(queue: W[], maxWeight: number): W[] {
  const taken: W[] = [];
  const keys = new Set<string>();
  let weight = 0;
  let kept = 0; // items left behind so far, compacted to the front of the queue
  let i = 0;
  for (; i < queue.length; i++) {
    const item = queue[i] as W;
    if (taken.length > 0 && weight + item.weight > maxWeight) break;
    if (item.keys?.some((k) => keys.has(k))) {
      queue[kept++] = item;
      continue;
    }
    for (const k of item.keys ?? []) keys.add(k);
    weight += item.weight;
    taken.push(item);
  }
  // Nothing more fits: the rest stays, in order, behind what was left behind.
  if (kept < i) {
    for (; i < queue.length; i++) queue[kept++] = queue[i] as W;
    queue.length = kept;
  }
  return taken;
}

function settle<T, R>(batch: Waiting<T, R>[], results: R[]): void {
  if (results.length !== batch.length) {
    const error = new Error(`a group flush returned ${results.length} results for ${batch.length} items`);
    for (const waiting of batch) waiting.reject(error);
    return;
  }
  batch.forEach((waiting, i) => waiting.resolve(results[i] as R));
}
