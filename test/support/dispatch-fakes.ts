// Fakes for the dispatcher's unit tests: a sender answered by hand, a settle() for Jest's fake
// timers, PENDING deliveries of one callback, as the in-memory store takes them, and the
// dispatcher built as those tests build it.
import pino from 'pino';
import { DeliveryStatus, HttpMethod } from '../../src/common/enums';
import { newId } from '../../src/common/ids';
import { Delivery } from '../../src/deliveries/delivery.entity';
import { Dispatcher, type DispatcherDeps, type DispatcherSettings } from '../../src/dispatch/dispatcher';
import type { OutgoingPostback, PostbackSender, SendResult } from '../../src/dispatch/sender';

export const RETRY = { backoffBaseMs: 5_000, backoffMaxMs: 60_000 };
export const START = new Date('2030-01-01T00:00:00.000Z');
export const CALLBACK = '01890000-0000-7000-8000-0000000000cb';

/** A sender whose requests wait until the test answers them. */
export class FakeSender implements PostbackSender {
  readonly requests: { postback: OutgoingPostback; answer(statusCode: number, retryAfter?: string): void }[] = [];
  closed = false;

  send(postback: OutgoingPostback): Promise<SendResult> {
    const startedAt = new Date();
    return new Promise((resolve) => {
      this.requests.push({
        postback,
        answer: (statusCode, retryAfter) =>
          resolve({ statusCode, error: null, errorKind: null, latencyMs: 3, responseSnippet: 'ok', retryAfter: retryAfter ?? null, startedAt }),
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Answers the oldest unanswered requests. */
  answerNext(count: number, statusCode = 200): void {
    for (const request of this.requests.splice(0, count)) request.answer(statusCode);
  }
}

/** Lets promises, immediates and timers due now run until the loop is idle. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    await jest.advanceTimersByTimeAsync(0);
  }
}

export function pending(count: number, dueAt = new Date()): Delivery[] {
  return Array.from({ length: count }, () =>
    Object.assign(new Delivery(), {
      id: newId(),
      eventId: newId(),
      callbackId: CALLBACK,
      appId: newId(),
      networkId: null,
      status: DeliveryStatus.PENDING,
      method: HttpMethod.GET,
      url: 'https://postback.example/p',
      body: null,
      headers: [],
      timeoutMs: 10_000,
      attempts: 0,
      maxAttempts: 3,
      lastStatusCode: null,
      lastError: null,
      nextAttemptAt: dueAt,
      dueAt,
      leaseOwner: null,
      deliveredAt: null,
      createdAt: new Date(),
      updatedAt: new Date(),
    }),
  );
}

/**
 * A dispatcher as the unit tests run it: the (faked) real clock, silent logs, one worker id,
 * random 0.5, RETRY and a 1 s grace at stop; `deps` and `deps.settings` override any of them.
 */
export function testDispatcher(
  deps: Pick<DispatcherDeps, 'store' | 'hub' | 'sender'> & Partial<Omit<DispatcherDeps, 'settings'>> & { settings: Partial<DispatcherSettings> & Pick<DispatcherSettings, 'concurrency'> },
): Dispatcher {
  return new Dispatcher({
    clock: { now: () => new Date() },
    logger: pino({ level: 'silent' }),
    workerId: 'worker-test',
    random: () => 0.5,
    ...deps,
    settings: { retry: RETRY, shutdownGraceMs: 1_000, ...deps.settings },
  });
}
