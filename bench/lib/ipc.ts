// Request/response over a child process's IPC channel, and the monotonic clock every process
// of the benchmark shares.
import type { ChildProcess } from 'node:child_process';

/**
 * Milliseconds on CLOCK_MONOTONIC (process.hrtime), which is one clock for every process on
 * the machine: a send time taken here and an arrival time taken in the receiver compare.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export type IpcMessage = { type: string; id?: number; [key: string]: unknown };

let nextId = 1;

/** Sends `message` and resolves with the child's reply carrying the same id. */
export function ask<T extends IpcMessage>(child: ChildProcess, message: IpcMessage, timeoutMs = 600_000): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no answer to ${message.type} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (reply: IpcMessage) => {
      if (reply?.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      if (reply.type === 'error') reject(new Error(String(reply.message)));
      else resolve(reply as T);
    };
    child.on('message', onMessage);
    child.send({ ...message, id });
  });
}

/** Resolves with the first message of this type the child sends. */
export function waitFor<T extends IpcMessage>(child: ChildProcess, type: string, timeoutMs = 60_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`the child sent no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: IpcMessage) => {
      if (m?.type !== type) return;
      cleanup();
      resolve(m as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`the child exited (code ${code}) before sending "${type}"`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** In a child: answers the parent's requests with `handler`'s result (or an error message). */
export function serveParent(handler: (message: IpcMessage) => Promise<Record<string, unknown>> | Record<string, unknown>): void {
  process.on('message', (message: IpcMessage) => {
    Promise.resolve()
      .then(() => handler(message))
      .then(
        (reply) => process.send?.({ ...reply, type: reply.type ?? 'reply', id: message.id }),
        (error: unknown) => process.send?.({ type: 'error', id: message.id, message: error instanceof Error ? error.stack ?? error.message : String(error) }),
      );
  });
  // The parent gone (it crashed or was killed): do not linger.
  process.on('disconnect', () => process.exit(0));
}
