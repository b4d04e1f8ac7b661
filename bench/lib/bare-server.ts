// The HTTP shell of the bare servers (bench/bare-insert-server.ts, bench/bare-outbox-server.ts):
// node:http taking the SDK's recordEvent and recordEvents bodies, answering as the service
// does, and telling the benchmark its port and, when asked, its CPU. What each writes is its own.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveParent } from './ipc';

/** Connections of a bare server's mysql2 pool. */
export const BARE_POOL_SIZE = 16;

type Input = Record<string, unknown>;

/**
 * Serves on 127.0.0.1 (a free port, sent to the parent as `ready`): each POST's events (one for a
 * recordEvent body's `input`, every one of a recordEvents body's `inputs`) go to `write`, which
 * stores them and returns their event ids in order; any failure is answered 500 with its message.
 */
export function serveRecordEvents(write: (inputs: Input[]) => Promise<string[]>): void {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables?: { input?: Input; inputs?: Input[] } };
          const many = Array.isArray(body.variables?.inputs);
          const inputs = many ? (body.variables?.inputs as Input[]) : [body.variables?.input ?? {}];
          const answers = (await write(inputs)).map((id) => ({ duplicate: false, event: { id } }));
          const payload = JSON.stringify({ data: many ? { recordEvents: answers } : { recordEvent: answers[0] } });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
          res.end(payload);
        } catch (error) {
          const payload = JSON.stringify({ errors: [{ message: String(error) }] });
          res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
          res.end(payload);
        }
      })();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port }));
  serveParent(() => ({ type: 'cpu', cpu: process.cpuUsage() }));
}
