// Slow clients and connection floods, with raw sockets: a client that dribbles its headers or
// its body is cut off after seconds, and one address cannot hold more than its share of
// connections.
import net from 'node:net';
import { testDatabases } from '../support/databases';
import { startTestService, type TestService } from '../support/test-service';

/** A raw TCP client: what it received, and a promise for when the server closed it. */
function rawClient(port: number): Promise<{ socket: net.Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = net.connect(port, '127.0.0.1');
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

/** Resolves true when `promise` settles within `ms`, false otherwise (the deadline of the test, not a measurement). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(probe: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !probe() && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe.each(testDatabases())('slow clients on %s', (kind) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService(kind, { HTTP_HEADERS_TIMEOUT_SECONDS: '1', HTTP_REQUEST_TIMEOUT_SECONDS: '2', HTTP_MAX_CONNECTIONS_PER_ADDRESS: '0' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('cuts off a client that never finishes its headers (Node keeps it for 60 s by default)', async () => {
    const client = await rawClient(t.service.port);
    client.socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const timer = setInterval(() => client.socket.write('a'), 200); // trickles on, never ends the headers
    try {
      expect(await within(client.closed, 8000)).toBe(true);
      expect(client.received()).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(timer);
      client.socket.destroy();
    }
  });

  it('cuts off a client that never finishes its body (Node keeps it for 300 s by default)', async () => {
    const client = await rawClient(t.service.port);
    client.socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":');
    const timer = setInterval(() => client.socket.write(' '), 200);
    try {
      expect(await within(client.closed, 10_000)).toBe(true);
      expect(client.received()).not.toMatch(/^HTTP\/1\.1 200/);
    } finally {
      clearInterval(timer);
      client.socket.destroy();
    }
  });

  it('still serves a prompt client', async () => {
    expect((await fetch(t.service.url.replace(/\/graphql$/, '/healthz'))).status).toBe(200);
  });
});

describe.each(testDatabases())('connections per client address on %s', (kind) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService(kind, { HTTP_MAX_CONNECTIONS_PER_ADDRESS: '3' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('answers 429 and closes a connection past the cap; a place frees when one closes', async () => {
    const held = await Promise.all([1, 2, 3].map(() => rawClient(t.service.port)));
    const extra = await rawClient(t.service.port);
    expect(await within(extra.closed, 5000)).toBe(true);
    expect(extra.received()).toMatch(/^HTTP\/1\.1 429 Too Many Requests\r\n/);
    expect(extra.received()).toMatch(/Retry-After: 1/);

    // The held connections still work.
    held[0]!.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => held[0]!.received().includes('\r\n\r\n'));
    expect(held[0]!.received()).toMatch(/^HTTP\/1\.1 200/);

    held[2]!.socket.destroy();
    await held[2]!.closed;
    // The server sees the close a moment later; a fetch retried briefly gets through.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = await fetch(t.service.url.replace(/\/graphql$/, '/healthz'), { headers: { connection: 'close' } }).then((r) => r.status, () => 0);
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(200);
    for (const client of held) client.socket.destroy();
    const metrics = await fetch(t.service.url.replace(/\/graphql$/, '/metrics'), { headers: { connection: 'close' } }).then((r) => r.text());
    expect(metrics).toMatch(/postbacks_requests_refused_total\{reason="connections_per_address",role="none"\} [1-9]/);
  });
});
