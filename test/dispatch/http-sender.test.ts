// The senders against real node:http receivers on 127.0.0.1: no stubs of got or undici.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { createSender } from '../../src/dispatch/http-sender';
import type { OutgoingPostback, PostbackSender, SenderKind } from '../../src/dispatch/sender';
import { classifyAttempt } from '../../src/dispatch/attempt-classification';
import { RENDERED_LIMITS } from '../../src/macros/render-postback';
import { generateSigningSecret } from '../../src/dispatch/signing';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

class Receiver {
  readonly received: Received[] = [];
  connections = 0;
  private handler: Handler = (_req, res) => res.end('ok');
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      this.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      this.handler(req, res, body);
    });
  });

  constructor() {
    this.server.on('connection', () => this.connections++);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  respond(handler: Handler): void {
    this.handler = handler;
  }

  reset(): void {
    this.received.length = 0;
    this.connections = 0;
    this.handler = (_req, res) => res.end('ok');
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const USER_AGENT = 'postback-service/0.1.0';

function postback(overrides: Partial<OutgoingPostback>): OutgoingPostback {
  return {
    deliveryId: 'delivery-0001',
    method: 'GET',
    url: 'http://127.0.0.1:1/',
    headers: [],
    body: null,
    timeoutMs: 5000,
    signingSecret: null,
    ...overrides,
  };
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each<SenderKind>(['got', 'undici'])('%s sender', (kind) => {
  let receiver: Receiver;
  let sender: PostbackSender;
  let guarded: PostbackSender;

  beforeAll(async () => {
    receiver = await new Receiver().start();
    sender = createSender(kind, { allowPrivate: true, userAgent: USER_AGENT });
    guarded = createSender(kind, { allowPrivate: false, userAgent: USER_AGENT });
  });

  afterEach(() => receiver.reset());

  afterAll(async () => {
    await sender.close();
    await guarded.close();
    await receiver.stop();
  });

  it('delivers a signed POST with our headers, verified on the receiver side', async () => {
    const secret = generateSigningSecret();
    const body = JSON.stringify({ event: 'purchase', revenue: '9.99', note: 'ünïcødé' });
    const before = Math.floor(Date.now() / 1000);
    const result = await sender.send(
      postback({
        method: 'POST',
        url: receiver.url('/cb?click_id=abc'),
        headers: [{ name: 'X-Api-Key', value: 'k1' }, { name: 'User-Agent', value: 'spoofed' }],
        body,
        signingSecret: secret,
      }),
    );
    expect(result).toMatchObject({ statusCode: 200, error: null, errorKind: null, responseSnippet: 'ok' });
    expect(classifyAttempt(result)).toEqual({ kind: 'delivered' });
    expect(result.startedAt).toBeInstanceOf(Date);
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);

    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/cb?click_id=abc');
    expect(got.body).toBe(body);
    expect(got.headers['user-agent']).toBe(USER_AGENT);
    expect(got.headers['webhook-id']).toBe('delivery-0001');
    expect(got.headers['x-api-key']).toBe('k1');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['accept-encoding']).toBeUndefined();
    const ts = Number(got.headers['webhook-timestamp']);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(got.headers['webhook-signature']).toMatch(/^v1,/);
    expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toEqual(JSON.parse(body));
    expect(() =>
      new Webhook(secret).verify(got.body + ' ', got.headers as Record<string, string>),
    ).toThrow();
  });

  it('sends a signed GET signed over its request target, keeps a configured content-type', async () => {
    const secret = generateSigningSecret();
    const result = await sender.send(
      postback({ url: receiver.url('/g?x=1'), signingSecret: secret, body: 'ignored for GET' }),
    );
    expect(result.statusCode).toBe(200);
    const [got] = receiver.received;
    expect(got).toMatchObject({ method: 'GET', url: '/g?x=1', body: '' });
    expect(() =>
      new Webhook(secret).verify('/g?x=1', got.headers as Record<string, string>, { jsonParse: false }),
    ).not.toThrow();

    await sender.send(
      postback({
        method: 'POST',
        url: receiver.url('/form'),
        headers: [{ name: 'Content-Type', value: 'application/x-www-form-urlencoded' }],
        body: 'a=1&b=2',
      }),
    );
    expect(receiver.received[1].headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(receiver.received[1].headers['webhook-signature']).toBeUndefined();
    expect(receiver.received[1].headers['webhook-timestamp']).toBeUndefined();
  });

  it('reuses keep-alive connections', async () => {
    const fresh = await new Receiver().start();
    try {
      for (let i = 0; i < 5; i++) {
        expect((await sender.send(postback({ url: fresh.url('/ka') }))).statusCode).toBe(200);
      }
      expect(fresh.received).toHaveLength(5);
      // undici may open a second socket when the next request is queued before the previous
      // one is marked complete; what matters is that sockets are reused at all.
      expect(fresh.connections).toBeLessThanOrEqual(2);
    } finally {
      await fresh.stop();
    }
  });

  it('reports a 500 as a retryable answer', async () => {
    receiver.respond((_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    const result = await sender.send(postback({ url: receiver.url() }));
    expect(result).toMatchObject({ statusCode: 500, error: null, errorKind: null, responseSnippet: 'boom' });
    expect(classifyAttempt(result)).toEqual({ kind: 'retryable', retryAfterMs: null });
  });

  it('reports a 404 as a permanent answer', async () => {
    receiver.respond((_req, res) => {
      res.statusCode = 404;
      res.end('no such route');
    });
    const result = await sender.send(postback({ url: receiver.url() }));
    expect(result).toMatchObject({ statusCode: 404, errorKind: null });
    expect(classifyAttempt(result)).toEqual({ kind: 'permanent' });
  });

  it('surfaces Retry-After on a 429', async () => {
    receiver.respond((_req, res) => {
      res.writeHead(429, { 'Retry-After': '7' });
      res.end();
    });
    const result = await sender.send(postback({ url: receiver.url() }));
    expect(result).toMatchObject({ statusCode: 429, retryAfter: '7', errorKind: null, responseSnippet: '' });
    expect(classifyAttempt(result)).toEqual({ kind: 'retryable', retryAfterMs: 7000 });
  });

  it('times out when the receiver never answers', async () => {
    receiver.respond(() => undefined);
    const result = await sender.send(postback({ url: receiver.url('/hang'), timeoutMs: 200 }));
    expect(result).toMatchObject({ statusCode: null, errorKind: 'timeout' });
    expect(result.error).toMatch(/timed out after 200 ms/);
    expect(result.latencyMs).toBeGreaterThanOrEqual(150);
    expect(result.latencyMs).toBeLessThan(3000);
    expect(receiver.received).toHaveLength(1);
    expect(classifyAttempt(result)).toEqual({ kind: 'retryable', retryAfterMs: null });
  });

  it('keeps the status and the body read so far when the body stalls past the deadline', async () => {
    receiver.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      res.on('error', () => undefined);
    });
    const t0 = Date.now();
    const result = await sender.send(postback({ url: receiver.url('/stall'), timeoutMs: 200 }));
    expect(result).toMatchObject({ statusCode: 200, errorKind: null, responseSnippet: 'partial' });
    // One deadline for the whole attempt: not the deadline again for the body.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('reports a refused connection', async () => {
    const port = await closedPort();
    const result = await sender.send(postback({ url: `http://127.0.0.1:${port}/` }));
    expect(result).toMatchObject({ statusCode: null, errorKind: 'connection' });
    expect(result.error).toMatch(/ECONNREFUSED/);
    expect(classifyAttempt(result)).toEqual({ kind: 'retryable', retryAfterMs: null });
  });

  it('does not follow a 302', async () => {
    receiver.respond((req, res) => {
      if (req.url === '/target') {
        res.end('target');
        return;
      }
      res.writeHead(302, { Location: '/target' });
      res.end();
    });
    const result = await sender.send(postback({ url: receiver.url('/start') }));
    expect(result).toMatchObject({ statusCode: 302, errorKind: null });
    expect(classifyAttempt(result)).toEqual({ kind: 'permanent' });
    expect(receiver.received.map((r) => r.url)).toEqual(['/start']);
  });

  it('keeps a ~1 KB snippet, cut on a character boundary', async () => {
    receiver.respond((_req, res) => res.end('é'.repeat(5000))); // 10,000 bytes
    const result = await sender.send(postback({ url: receiver.url() }));
    expect(result.statusCode).toBe(200);
    const snippet = result.responseSnippet ?? '';
    expect(Buffer.byteLength(snippet)).toBe(1024);
    expect(snippet).toBe('é'.repeat(512));
    expect(snippet).not.toContain('\uFFFD');

    receiver.respond((_req, res) => res.end('a' + 'é'.repeat(5000))); // split at byte 1024
    const odd = await sender.send(postback({ url: receiver.url() }));
    expect(odd.responseSnippet).toBe('a' + 'é'.repeat(511));
  });

  it('does not buffer a huge response', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    receiver.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const write = () => {
        while (sent < 256 && res.write(chunk)) sent++; // up to 16 MB
        if (sent < 256 && !res.destroyed) res.once('drain', write);
        else res.end();
      };
      res.on('error', () => undefined);
      write();
    });
    const result = await sender.send(postback({ url: receiver.url() }));
    expect(result.statusCode).toBe(200);
    expect(result.responseSnippet).toHaveLength(1024);
  });

  it('sends header values as UTF-8 bytes, whatever their script', async () => {
    const values = ['Игра 🧩', 'café', 'plain'];
    const result = await sender.send(postback({ url: receiver.url('/h'), headers: values.map((value, i) => ({ name: `X-V${i}`, value })) }));
    expect(result).toMatchObject({ statusCode: 200, errorKind: null });
    const [got] = receiver.received;
    // Node hands received header bytes over as latin1; read back as UTF-8 they are the values sent.
    expect(values.map((_, i) => Buffer.from(String(got.headers[`x-v${i}`]), 'latin1').toString('utf8'))).toEqual(values);
  });

  it('refuses an invalid or too long URL and an unsendable header without sending', async () => {
    const long = await sender.send(postback({ url: receiver.url('/?q=' + 'a'.repeat(2100)) }));
    expect(long).toMatchObject({ statusCode: null, errorKind: 'invalid-url' });
    expect(long.error).toMatch(/exceeds 2048 characters/);
    const ftp = await sender.send(postback({ url: 'ftp://127.0.0.1/' }));
    expect(ftp).toMatchObject({ errorKind: 'invalid-url' });
    const header = await sender.send(
      postback({ url: receiver.url(), headers: [{ name: 'X-Evil', value: 'a\r\nInjected: 1' }] }),
    );
    expect(header).toMatchObject({ statusCode: null, errorKind: 'invalid-request' });
    expect(classifyAttempt(header)).toEqual({ kind: 'permanent' });
    expect(receiver.received).toHaveLength(0);
  });

  it('refuses a rendered body or header value over its limit without sending; at the limit it sends', async () => {
    const body = await sender.send(postback({ method: 'POST', url: receiver.url('/b'), body: 'b'.repeat(RENDERED_LIMITS.body + 1) }));
    expect(body).toMatchObject({ statusCode: null, errorKind: 'invalid-request' });
    expect(body.error).toBe(`the rendered body exceeds ${RENDERED_LIMITS.body} characters`);
    expect(classifyAttempt(body)).toEqual({ kind: 'permanent' });
    const header = await sender.send(postback({ url: receiver.url('/h'), headers: [{ name: 'X-Big', value: 'h'.repeat(RENDERED_LIMITS.headerValue + 1) }] }));
    expect(header.error).toBe(`the rendered value of header "X-Big" exceeds ${RENDERED_LIMITS.headerValue} characters`);
    expect(receiver.received).toHaveLength(0);
    const atLimit = await sender.send(postback({ method: 'POST', url: receiver.url('/b'), body: 'b'.repeat(RENDERED_LIMITS.body) }));
    expect(atLimit).toMatchObject({ statusCode: 200, errorKind: null });
    expect(receiver.received[0]?.body).toHaveLength(RENDERED_LIMITS.body);
  });

  describe('with allowPrivate false', () => {
    // A receiver only the guarded sender knows of: any connection it sees came from it.
    let target: Receiver;
    let connectSpy: jest.SpyInstance;
    beforeAll(async () => {
      target = await new Receiver().start();
    });
    afterAll(async () => {
      await target.stop();
    });
    beforeEach(() => {
      connectSpy = jest.spyOn(net.Socket.prototype, 'connect');
    });
    afterEach(() => {
      connectSpy.mockRestore();
      target.reset();
    });

    function dialled(): { host: string; port: number }[] {
      return connectSpy.mock.calls.map((args: unknown[]) => {
        const first = args[0] as unknown;
        const opts = (Array.isArray(first) ? first[0] : first) as { host?: string; port?: unknown } | undefined;
        return { host: String(opts?.host ?? ''), port: Number(opts?.port) };
      });
    }

    it.each([
      ['127.0.0.1', (port: number) => `http://127.0.0.1:${port}/`],
      ['localhost', (port: number) => `http://localhost:${port}/`],
      ['[::1]', (port: number) => `http://[::1]:${port}/`],
      ['10.0.0.1', (port: number) => `http://10.0.0.1:${port}/`],
      ['169.254.169.254', (_port: number) => 'http://169.254.169.254/latest/meta-data/'],
      ['0x7f000001', (port: number) => `http://0x7f000001:${port}/`],
      ['2130706433', (port: number) => `http://2130706433:${port}/`],
      ['[::ffff:127.0.0.1]', (port: number) => `http://[::ffff:127.0.0.1]:${port}/`],
      ['0.0.0.0', (port: number) => `http://0.0.0.0:${port}/`],
    ])('blocks %s and sends nothing', async (_name, urlFor) => {
      const result = await guarded.send(postback({ url: urlFor(target.port), method: 'POST', body: '{}' }));
      expect(result).toMatchObject({ statusCode: null, errorKind: 'blocked' });
      expect(result.error).toMatch(/^destination not allowed: /);
      expect(classifyAttempt(result)).toEqual({ kind: 'permanent' });
      expect(target.received).toHaveLength(0);
      expect(target.connections).toBe(0);
      // No socket ever connected to a non-public literal; a name is refused in the lookup
      // the socket performs, before any address is dialled.
      // (The other sender may reconnect to its own receiver meanwhile: filter on the port.)
      for (const { host, port } of dialled()) {
        expect(['10.0.0.1', '169.254.169.254']).not.toContain(host);
        if (port === target.port) expect(host).toBe('localhost');
      }
    });

    it('names the resolved address when a name resolves to loopback', async () => {
      const result = await guarded.send(postback({ url: `http://localhost:${target.port}/` }));
      expect(target.connections).toBe(0);
      // The socket did start: the refusal happened in the lookup it performed.
      expect(dialled()).toContainEqual({ host: 'localhost', port: target.port });
      expect(result.error).toMatch(/^destination not allowed: (127\.0\.0\.1|::1) \(resolved from localhost\)$/);
    });
  });
});
