import { DeadlineExceeded, RequestDeadline } from '../../../src/dispatch/request-deadline';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RequestDeadline (the abort signal of one HTTP attempt)', () => {
  it('aborts once, when the time is up, with a reason named as AbortSignal.timeout names it', async () => {
    const deadline = new RequestDeadline(20);
    const calls: unknown[] = [];
    deadline.once('abort', () => calls.push(deadline.reason));
    expect(deadline.aborted).toBe(false);
    await wait(60);
    expect(deadline.aborted).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(DeadlineExceeded);
    expect(deadline.reason).toMatchObject({ name: 'TimeoutError', message: 'timed out after 20 ms', timeoutMs: 20 });
  });

  it('calls no listener that was removed, and nothing once cleared', async () => {
    const removed = new RequestDeadline(10);
    const listener = jest.fn();
    removed.on('abort', listener);
    removed.removeListener('abort', listener);
    const cleared = new RequestDeadline(10);
    const other = jest.fn();
    cleared.on('abort', other);
    cleared.clear();
    await wait(40);
    expect(listener).not.toHaveBeenCalled();
    expect(removed.aborted).toBe(true);
    expect(other).not.toHaveBeenCalled();
    expect(cleared.aborted).toBe(false);
  });

  it('keeps the listener when asked to remove another one', async () => {
    const deadline = new RequestDeadline(10);
    const listener = jest.fn();
    deadline.on('abort', listener);
    deadline.removeListener('abort', () => undefined);
    await wait(40);
    expect(listener).toHaveBeenCalledTimes(1);
  });
});
