// Claimed deliveries waiting for a dispatcher slot, queued per callback.
//
// A callback at its own limit (adaptive-concurrency.ts) keeps its claims waiting while other
// callbacks' claims start. In one list, every answer and every recordEvent walked all of them
// (a backlog of one slow callback made each a walk of thousands); here a pass asks each
// callback at its limit once, and what waits is counted per callback.
//
// Order: first in, first out within a callback, with claims launched `first` (inserted already
// claimed by this process) ahead of the rest; callbacks take turns, in the order their claims
// arrived.

interface Claim {
  delivery: { callbackId: string };
}

/** A first-in, first-out list that takes from its head without moving the rest. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(values: readonly T[]): void {
    for (const value of values) this.items.push(value);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const value = this.items[this.head] as T;
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return value;
  }

  drain(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }
}

/** One callback's waiting claims, and how far they are known to have waited for its limit. */
class CallbackQueue<T extends Claim> {
  private readonly first = new Fifo<{ claim: T; seq: number }>();
  private readonly rest = new Fifo<{ claim: T; seq: number }>();
  private pushed = 0;
  /** Claims numbered up to here were queued when their callback was found at its limit. */
  private waitedThrough = 0;

  constructor(readonly callbackId: string) {}

  get length(): number {
    return this.first.length + this.rest.length;
  }

  push(claims: readonly T[], first: boolean): void {
    (first ? this.first : this.rest).push(claims.map((claim) => ({ claim, seq: ++this.pushed })));
  }

  /** The next claim, and whether it waited for the callback's limit. */
  shift(): { claim: T; waited: boolean } | undefined {
    const next = this.first.shift() ?? this.rest.shift();
    return next && { claim: next.claim, waited: next.seq <= this.waitedThrough };
  }

  /** Every claim queued now has waited for its callback's limit. */
  markWaiting(): void {
    this.waitedThrough = this.pushed;
  }

  drain(): T[] {
    return [...this.first.drain(), ...this.rest.drain()].map((entry) => entry.claim);
  }
}

export class ReadyQueue<T extends Claim> {
  private readonly byCallback = new Map<string, CallbackQueue<T>>();
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(claims: readonly T[], first = false): void {
    // Kept in arrival order per callback: a batch usually holds one callback's claims.
    let i = 0;
    while (i < claims.length) {
      const callbackId = (claims[i] as T).delivery.callbackId;
      let j = i + 1;
      while (j < claims.length && (claims[j] as T).delivery.callbackId === callbackId) j++;
      let queue = this.byCallback.get(callbackId);
      if (!queue) {
        queue = new CallbackQueue<T>(callbackId);
        this.byCallback.set(callbackId, queue);
      }
      queue.push(i === 0 && j === claims.length ? claims : claims.slice(i, j), first);
      this.count += j - i;
      i = j;
    }
  }

  /**
   * One pass of taking claims: callbacks take turns, one claim each per round, so one
   * callback's backlog does not hold back another's claims. A callback for which `hasRoom`
   * says no is left for the rest of the pass (nothing is answered during a pass), and its
   * claims are marked as having waited for its limit. `next()` is undefined when no callback
   * with room has a claim.
   */
  pass(hasRoom: (callbackId: string) => boolean): { next(): { claim: T; waited: boolean } | undefined } {
    const atLimit = new Set<string>();
    let round: CallbackQueue<T>[] = [];
    let i = 0;
    return {
      next: () => {
        for (;;) {
          if (i >= round.length) {
            round = [];
            for (const queue of this.byCallback.values()) if (!atLimit.has(queue.callbackId)) round.push(queue);
            i = 0;
            if (round.length === 0) return undefined;
          }
          const queue = round[i++] as CallbackQueue<T>;
          if (queue.length === 0) continue;
          if (!hasRoom(queue.callbackId)) {
            atLimit.add(queue.callbackId);
            queue.markWaiting();
            continue;
          }
          return this.shift(queue);
        }
      },
    };
  }

  /** Takes the next claim of `queue`; a callback left with none is dropped. */
  private shift(queue: CallbackQueue<T>): { claim: T; waited: boolean } | undefined {
    const next = queue.shift();
    if (next) this.count--;
    if (queue.length === 0) this.byCallback.delete(queue.callbackId);
    return next;
  }

  /** Whether any claim of this callback is waiting. */
  has(callbackId: string): boolean {
    return this.byCallback.has(callbackId);
  }

  /** Claims waiting for callbacks for which `atLimit` holds: one question per callback. */
  waitingFor(atLimit: (callbackId: string) => boolean): number {
    let waiting = 0;
    for (const queue of this.byCallback.values()) if (atLimit(queue.callbackId)) waiting += queue.length;
    return waiting;
  }

  /** Every waiting claim, taken out (on stop). */
  drain(): T[] {
    const all: T[] = [];
    for (const queue of this.byCallback.values()) for (const claim of queue.drain()) all.push(claim);
    this.byCallback.clear();
    this.count = 0;
    return all;
  }
}
