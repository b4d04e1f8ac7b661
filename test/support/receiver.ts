// A real HTTP receiver for postbacks, on a local port: what the dispatcher's tests send to.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPostback {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  receivedAt: Date;
}

export type ReceiverHandler = (req: ReceivedPostback, res: http.ServerResponse) => void;

export class Receiver {
  readonly received: ReceivedPostback[] = [];
  private handler: ReceiverHandler = (_req, res) => res.end('ok');
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const postback: ReceivedPostback = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: new Date(),
      };
      this.received.push(postback);
      try {
        this.handler(postback, res);
      } catch (error) {
        res.statusCode = 599;
        res.end(String(error));
      }
    });
  });

  constructor(private readonly host = '127.0.0.1') {}

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, () => resolve());
    });
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** A URL on this receiver; IPv6 hosts get their brackets. */
  url(path = '/'): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.port}${path}`;
  }

  respond(handler: ReceiverHandler): void {
    this.handler = handler;
  }

  /** Postbacks of one delivery (the webhook-id header), in arrival order. */
  of(deliveryId: string): ReceivedPostback[] {
    return this.received.filter((r) => r.headers['webhook-id'] === deliveryId);
  }

  reset(): void {
    this.received.length = 0;
    this.handler = (_req, res) => res.end('ok');
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls until `probe` returns a value `done` accepts; fails with the last value after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T> | T, done: (value: T) => boolean, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let last: T;
  for (;;) {
    last = await probe();
    if (done(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'a condition'}; last value: ${JSON.stringify(last, null, 1)?.slice(0, 2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
}
