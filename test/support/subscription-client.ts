import { createClient, Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface SubscriptionMessage<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * One graphql-ws subscription over a real WebSocket, collecting what arrives. `closed`
 * resolves with the close code when the server ends the socket.
 */
export class TestSubscription<T> {
  readonly messages: SubscriptionMessage<T>[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  error: unknown = null;
  private readonly client: Client;
  private waiters: (() => void)[] = [];

  constructor(url: string, secret: string | null, query: string, variables: Record<string, unknown> = {}) {
    let onClosed: (value: { code: number; reason: string }) => void = () => undefined;
    this.closed = new Promise((resolve) => (onClosed = resolve));
    this.client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: secret ? { authorization: `Bearer ${secret}` } : {},
      retryAttempts: 0,
      lazy: false,
      // The close is what these tests look at (via `closed`); the client need not print it.
      onNonLazyError: () => undefined,
      on: { closed: (event) => onClosed({ code: (event as { code: number }).code, reason: String((event as { reason?: string }).reason ?? '') }) },
    });
    this.client.subscribe<T>({ query, variables }, {
      next: (message) => {
        this.messages.push(message as SubscriptionMessage<T>);
        this.notify();
      },
      error: (error) => {
        this.error = error;
        this.notify();
      },
      complete: () => this.notify(),
    });
  }

  /** Waits until `predicate` holds for the messages so far (or fails after `timeoutMs`). */
  async waitFor(predicate: (messages: SubscriptionMessage<T>[]) => boolean, timeoutMs = 15_000, what = 'subscription messages'): Promise<SubscriptionMessage<T>[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.messages)) {
      if (this.error) throw new Error(`subscription failed: ${JSON.stringify(this.error)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages;
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * The errors that end a subscription: an error message (validation), or a result with errors
 * and no data (an error thrown when subscribing, e.g. FORBIDDEN).
 */
export async function subscriptionErrors(sub: TestSubscription<unknown>, timeoutMs = 10_000): Promise<{ message: string; extensions?: { code?: string } }[]> {
  const deadline = Date.now() + timeoutMs;
  const failed = () => sub.error ?? sub.messages.find((m) => m.errors?.length)?.errors;
  while (!failed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const errors = failed();
  if (!errors) throw new Error(`expected the subscription to fail; got ${JSON.stringify(sub.messages)}`);
  return errors as { message: string; extensions?: { code?: string } }[];
}
