// One deadline for a whole HTTP attempt (connect, headers and body alike, as got's
// `timeout.request`), handed to undici as its abort `signal`.
//
// undici takes an EventEmitter-like signal (`on`/`once`/`removeListener`, `aborted`, `reason`)
// as well as an AbortSignal. `AbortSignal.timeout()` would do the same job, but each one is an
// EventTarget with a weakly held timer registered for finalization: in the drain's profile
// its creation, listeners and timer took about a tenth of the sender's samples, and the
// garbage collector paid again for the weak references. This is a plain object with one
// listener slot and an ordinary timer that is cleared when the attempt ends.

/** What undici sees when the deadline passes: named as AbortSignal.timeout's reason is, so errorResult classifies it as a timeout. */
export class DeadlineExceeded extends Error {
  override readonly name = 'TimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

type Listener = () => void;

export class RequestDeadline {
  aborted = false;
  reason: DeadlineExceeded | undefined = undefined;
  private listener: Listener | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(readonly timeoutMs: number) {
    this.timer = setTimeout(this.expire, timeoutMs);
    // As AbortSignal.timeout's: an attempt in flight does not by itself keep the process up.
    this.timer.unref();
  }

  /** One listener slot: undici registers one per request ('abort'); a second would replace the first. */
  on(_event: 'abort', listener: Listener): this {
    this.listener = listener;
    return this;
  }

  once(event: 'abort', listener: Listener): this {
    return this.on(event, listener);
  }

  removeListener(_event: 'abort', listener: Listener): this {
    if (this.listener === listener) this.listener = null;
    return this;
  }

  /** The attempt is over (answered or failed): the timer goes, nothing will be aborted. */
  clear(): void {
    clearTimeout(this.timer);
    this.listener = null;
  }

  private readonly expire = (): void => {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = new DeadlineExceeded(this.timeoutMs);
    const listener = this.listener;
    this.listener = null;
    listener?.();
  };
}
