/**
 * Loads in flight by key, shared by the callers that miss the same cache entry meanwhile (when
 * an entry expires, every request in flight misses it at once). A load is shared only with
 * callers of the same generation: one that started before an invalidation is not handed out.
 */
export class SingleFlight<K, V> {
  private readonly inFlight = new Map<K, { generation: number; value: Promise<V> }>();

  /** The load in flight for `key` that started in `generation`, if there is one. */
  joinable(key: K, generation: number): Promise<V> | undefined {
    const loading = this.inFlight.get(key);
    return loading && loading.generation === generation ? loading.value : undefined;
  }

  /** Shares `value` as the load of `key` until it settles; returns it. */
  track(key: K, generation: number, value: Promise<V>): Promise<V> {
    this.inFlight.set(key, { generation, value });
    const done = () => {
      if (this.inFlight.get(key)?.value === value) this.inFlight.delete(key);
    };
    value.then(done, done);
    return value;
  }
}
