// The inline dispatcher end to end: events recorded through GraphQL, postbacks sent to real
// HTTP receivers on this machine, the outcome read back through GraphQL.
import dns from 'node:dns/promises';
import net from 'node:net';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { CreateMacroDocument, DeleteCallbackDocument, DispatchedDeliveryDocument, RecordEventDocument, RedeliverDocument } from '../generated/graphql';
import { RENDERED_LIMITS } from '../../src/macros/render-postback';
import { readPackageInfo } from '../../src/common/package-info';
import type { Delivery } from '../../src/deliveries/delivery.entity';
import { testDatabases } from '../support/databases';
import { configurationFixtures } from '../support/fixtures';
import { Receiver, waitFor } from '../support/receiver';
import { startTestService, TestService } from '../support/test-service';

const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 2000;
const FINAL = ['DELIVERED', 'FAILED'];
const USER_AGENT = `${readPackageInfo().name}/${readPackageInfo().version}`;

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A host name other than "localhost" that resolves to loopback here (from /etc/hosts), if there is one. */
async function nameResolvingToLoopback(): Promise<string | null> {
  for (const name of [hostname(), 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']) {
    try {
      const addresses = await dns.lookup(name, { all: true });
      if (addresses.length > 0 && addresses.every((a) => a.address.startsWith('127.') || a.address === '::1')) return name;
    } catch {
      // not resolvable here
    }
  }
  return null;
}

describe.each(testDatabases())('dispatching postbacks on %s', (kind) => {
  let t: TestService;
  let fx: ReturnType<typeof configurationFixtures>;
  let receiver: Receiver;
  const statusHistory = new Map<string, string[]>();

  beforeAll(async () => {
    receiver = await new Receiver().start();
    t = await startTestService(kind, {
      DISPATCHER: 'inline',
      DISPATCH_ALLOW_PRIVATE: 'true',
      DISPATCH_BACKOFF_BASE_MS: String(BACKOFF_BASE_MS),
      DISPATCH_BACKOFF_MAX_MS: String(BACKOFF_MAX_MS),
    });
    fx = configurationFixtures(t.admin);
    t.service.services.deliveryHub.onStatusChanged((deliveries: Delivery[]) => {
      for (const d of deliveries) statusHistory.set(d.id, [...(statusHistory.get(d.id) ?? []), d.status]);
    });
  });
  afterEach(() => receiver.reset());
  afterAll(async () => {
    await t?.stop();
    await receiver?.stop();
  });

  const record = async (appId: string, name = 'install') => (await t.admin.ok(RecordEventDocument, { input: { appId, name } })).recordEvent.deliveries;
  const read = async (id: string) => (await t.admin.ok(DispatchedDeliveryDocument, { id })).delivery!;
  const settled = (id: string, timeoutMs = 20_000) => waitFor(() => read(id), (d) => FINAL.includes(d.status), { timeoutMs, what: `delivery ${id} to finish` });
  const gaps = (log: { startedAt: string }[]) => log.slice(1).map((a, i) => Date.parse(a.startedAt) - Date.parse(log[i].startedAt));

  /** One callback on a fresh app, and the single delivery an event queues for it. */
  const oneDelivery = async (callback: Omit<Parameters<typeof fx.callback>[0], 'appId'>) => {
    const app = await fx.app();
    const created = await fx.callback({ appId: app.id, ...callback });
    const [delivery] = await record(app.id);
    return { callback: created, delivery };
  };

  it('delivers a signed POST at once: method, body, headers, User-Agent, webhook-id, verifiable signature', async () => {
    const { callback, delivery } = await oneDelivery({
      method: 'POST',
      urlTemplate: receiver.url('/hook?e={{event_name}}'),
      bodyTemplate: '{"event":"{{event_name}}","id":"{{delivery_id}}"}',
      headers: [{ name: 'X-Partner-Key', value: 'k-123' }],
      signing: true,
    });
    const done = await settled(delivery.id);
    expect(done).toMatchObject({ status: 'DELIVERED', attempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    expect(done.deliveredAt).not.toBeNull();
    expect(done.attemptLog).toEqual([expect.objectContaining({ number: 1, statusCode: 200, error: null, responseSnippet: 'ok' })]);

    const [got] = receiver.of(delivery.id);
    expect(receiver.of(delivery.id)).toHaveLength(1);
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/hook?e=install');
    expect(JSON.parse(got.body)).toEqual({ event: 'install', id: delivery.id });
    expect(got.headers['user-agent']).toBe(USER_AGENT);
    expect(got.headers['webhook-id']).toBe(delivery.id);
    expect(got.headers['x-partner-key']).toBe('k-123');
    expect(got.headers['content-type']).toBe('application/json');
    expect(new Webhook(callback.signingSecret!).verify(got.body, got.headers as Record<string, string>)).toEqual({ event: 'install', id: delivery.id });
    expect(statusHistory.get(delivery.id)).toEqual(['PENDING', 'SENDING', 'DELIVERED']);
  });

  it('signs a GET over its request target, and sends no signature headers when signing is off', async () => {
    const signed = await oneDelivery({ urlTemplate: receiver.url('/get?d={{delivery_id}}'), signing: true });
    const unsigned = await oneDelivery({ urlTemplate: receiver.url('/get-plain') });
    await settled(signed.delivery.id);
    await settled(unsigned.delivery.id);
    const [get] = receiver.of(signed.delivery.id);
    expect(get).toMatchObject({ method: 'GET', body: '', url: `/get?d=${signed.delivery.id}` });
    expect(() => new Webhook(signed.callback.signingSecret!).verify(get.url, get.headers as Record<string, string>, { jsonParse: false })).not.toThrow();
    expect(() => new Webhook(signed.callback.signingSecret!).verify('', get.headers as Record<string, string>)).toThrow();
    const [plain] = receiver.of(unsigned.delivery.id);
    expect(plain.headers['webhook-id']).toBe(unsigned.delivery.id);
    expect(plain.headers['webhook-signature']).toBeUndefined();
    expect(plain.headers['webhook-timestamp']).toBeUndefined();
  });

  it('retries a 500 with growing gaps, the same webhook-id every time, until a 200', async () => {
    let calls = 0;
    receiver.respond((_req, res) => {
      calls++;
      res.statusCode = calls <= 2 ? 500 : 200;
      res.end(calls <= 2 ? 'try later' : 'ok');
    });
    const { delivery } = await oneDelivery({ urlTemplate: receiver.url('/flaky') });
    const done = await settled(delivery.id);
    expect(done).toMatchObject({ status: 'DELIVERED', attempts: 3, lastStatusCode: 200 });
    expect(done.attemptLog.map((a) => [a.number, a.statusCode, a.responseSnippet])).toEqual([[1, 500, 'try later'], [2, 500, 'try later'], [3, 200, 'ok']]);
    // The schedule's lower bounds: BASE × 4^(n−1), less 20 % jitter. Never sooner.
    const [first, second] = gaps(done.attemptLog);
    expect(first).toBeGreaterThanOrEqual(0.8 * BACKOFF_BASE_MS);
    expect(second).toBeGreaterThanOrEqual(0.8 * BACKOFF_BASE_MS * 4);
    expect(new Set(receiver.of(delivery.id).map((r) => r.headers['webhook-id']))).toEqual(new Set([delivery.id]));
    expect(receiver.of(delivery.id)).toHaveLength(3);
    expect(statusHistory.get(delivery.id)).toEqual(['PENDING', 'SENDING', 'RETRYING', 'SENDING', 'RETRYING', 'SENDING', 'DELIVERED']);
  });

  it('fails at once on a 404', async () => {
    receiver.respond((_req, res) => {
      res.statusCode = 404;
      res.end('no such route');
    });
    const { delivery } = await oneDelivery({ urlTemplate: receiver.url('/missing') });
    const done = await settled(delivery.id);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: 404, nextAttemptAt: null, deliveredAt: null });
    expect(done.attemptLog).toEqual([expect.objectContaining({ number: 1, statusCode: 404, responseSnippet: 'no such route' })]);
    expect(receiver.of(delivery.id)).toHaveLength(1);
  });

  it('honours Retry-After on a 429 instead of the computed backoff', async () => {
    let calls = 0;
    receiver.respond((_req, res) => {
      calls++;
      res.statusCode = calls === 1 ? 429 : 200;
      if (calls === 1) res.setHeader('Retry-After', '1');
      res.end();
    });
    const { delivery } = await oneDelivery({ urlTemplate: receiver.url('/limited') });
    const done = await settled(delivery.id);
    expect(done).toMatchObject({ status: 'DELIVERED', attempts: 2 });
    expect(done.attemptLog[0].statusCode).toBe(429);
    // The computed delay would be ~100 ms; Retry-After asked for 1 s, counted from the answer.
    expect(gaps(done.attemptLog)[0]).toBeGreaterThanOrEqual(1000);
  });

  it('caps a long Retry-After at DISPATCH_BACKOFF_MAX_MS', async () => {
    receiver.respond((_req, res) => {
      res.statusCode = 429;
      res.setHeader('Retry-After', '3600');
      res.end();
    });
    const { delivery } = await oneDelivery({ urlTemplate: receiver.url('/very-limited'), maxAttempts: 2 });
    const retrying = await waitFor(() => read(delivery.id), (d) => d.status === 'RETRYING', { what: 'the 429 to be recorded' });
    // Counted from the answer, which came after the attempt started.
    const waitMs = Date.parse(retrying.nextAttemptAt!) - Date.parse(retrying.attemptLog[0].startedAt);
    expect(waitMs).toBeGreaterThanOrEqual(BACKOFF_MAX_MS);
    expect(waitMs).toBeLessThan(60_000); // nowhere near the hour asked for
    const done = await settled(delivery.id);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 2, lastStatusCode: 429 });
  });

  it('records a timeout and retries it', async () => {
    receiver.respond(() => undefined); // never answers
    const { delivery } = await oneDelivery({ urlTemplate: receiver.url('/slow'), timeoutMs: 300, maxAttempts: 2 });
    const done = await settled(delivery.id);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 2, lastStatusCode: null, lastError: 'timed out after 300 ms' });
    expect(done.attemptLog.map((a) => a.error)).toEqual(['timed out after 300 ms', 'timed out after 300 ms']);
    expect(done.attemptLog[0].latencyMs).toBeGreaterThanOrEqual(290);
    expect(receiver.of(delivery.id)).toHaveLength(2);
  });

  it('records a refused connection and retries it', async () => {
    const port = await closedPort();
    const { delivery } = await oneDelivery({ urlTemplate: `http://127.0.0.1:${port}/gone`, maxAttempts: 2 });
    const done = await settled(delivery.id);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 2, lastStatusCode: null });
    expect(done.attemptLog.every((a) => /ECONNREFUSED/.test(a.error ?? ''))).toBe(true);
  });

  it('does not follow a redirect: a 302 fails the delivery and the target gets nothing', async () => {
    receiver.respond((req, res) => {
      if (req.url === '/moved') {
        res.statusCode = 302;
        res.setHeader('Location', receiver.url('/landing'));
      }
      res.end();
    });
    const { delivery } = await oneDelivery({ urlTemplate: receiver.url('/moved') });
    const done = await settled(delivery.id);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: 302 });
    expect(receiver.received.map((r) => r.url)).toEqual(['/moved']);
  });

  it('fails after maxAttempts, every one on record', async () => {
    receiver.respond((_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    const { delivery } = await oneDelivery({ urlTemplate: receiver.url('/down'), maxAttempts: 3 });
    const done = await settled(delivery.id);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 3, maxAttempts: 3, lastStatusCode: 503 });
    expect(done.attemptLog.map((a) => a.number)).toEqual([1, 2, 3]);
    expect(receiver.of(delivery.id)).toHaveLength(3);
  });

  it('fails a rendered URL over 2048 characters after one recorded attempt, sending nothing', async () => {
    const { delivery } = await oneDelivery({ urlTemplate: receiver.url(`/long?pad=${'x'.repeat(2100)}`) });
    const done = await settled(delivery.id);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: null });
    expect(done.lastError).toMatch(/exceeds 2048 characters/);
    expect(receiver.received).toHaveLength(0);
  });

  it('fails a body that macros expand past 1 MiB after one recorded attempt, sending nothing; the event and its other postbacks stand', async () => {
    const app = await fx.app();
    await t.admin.ok(CreateMacroDocument, { input: { appId: app.id, name: 'note', source: 'PARAM', path: 'note' } });
    const huge = await fx.callback({ appId: app.id, method: 'POST', urlTemplate: receiver.url('/huge'), bodyTemplate: '{{note}}'.repeat(80), headers: [{ name: 'Content-Type', value: 'text/plain' }] });
    await fx.callback({ appId: app.id, urlTemplate: receiver.url('/small?e={{event_name}}') });
    // A 15,000-character param, 80 times: 1.2 M characters, rendered no further than the limit + 1.
    const { recordEvent } = await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'install', params: { note: 'n'.repeat(15_000) } } });
    const big = recordEvent.deliveries.find((d) => d.callback.id === huge.id)!;
    const small = recordEvent.deliveries.find((d) => d.callback.id !== huge.id)!;
    const done = await settled(big.id);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: null, lastError: `the rendered body exceeds ${RENDERED_LIMITS.body} characters` });
    const [stored] = await t.service.services.dataSource.query('SELECT LENGTH(body) AS n FROM delivery WHERE id = ?', [big.id]);
    expect(Number(stored.n)).toBe(RENDERED_LIMITS.body + 1);
    expect(await settled(small.id)).toMatchObject({ status: 'DELIVERED' });
    expect(receiver.received.map((r) => r.url)).toEqual(['/small?e=install']);
  });

  it('still sends the queued deliveries of a deleted callback, signed with its secret', async () => {
    let calls = 0;
    receiver.respond((_req, res) => {
      calls++;
      res.statusCode = calls === 1 ? 503 : 200;
      res.end();
    });
    const { callback, delivery } = await oneDelivery({ urlTemplate: receiver.url('/deleted-later'), signing: true });
    await waitFor(() => read(delivery.id), (d) => d.attempts === 1, { what: 'the first attempt' });
    await t.admin.ok(DeleteCallbackDocument, { id: callback.id });
    const done = await settled(delivery.id);
    expect(done).toMatchObject({ status: 'DELIVERED', attempts: 2 });
    const retry = receiver.of(delivery.id)[1];
    // A GET: signed over its request target.
    expect(() => new Webhook(callback.signingSecret!).verify(retry.url, retry.headers as Record<string, string>, { jsonParse: false })).not.toThrow();
  });

  describe('redeliver', () => {
    it('queues a new round: same webhook-id, history and count kept, maxAttempts more', async () => {
      const { delivery } = await oneDelivery({ urlTemplate: receiver.url('/again'), maxAttempts: 4 });
      await settled(delivery.id);
      const { redeliver } = await t.admin.ok(RedeliverDocument, { deliveryId: delivery.id });
      expect(redeliver).toMatchObject({ id: delivery.id, status: 'PENDING', attempts: 1, maxAttempts: 5, deliveredAt: null });
      const done = await waitFor(() => read(delivery.id), (d) => d.status === 'DELIVERED' && d.attempts === 2, { what: 'the second round' });
      expect(done.attemptLog.map((a) => a.number)).toEqual([1, 2]);
      expect(receiver.of(delivery.id).map((r) => r.headers['webhook-id'])).toEqual([delivery.id, delivery.id]);
      expect(statusHistory.get(delivery.id)).toEqual(['PENDING', 'SENDING', 'DELIVERED', 'PENDING', 'SENDING', 'DELIVERED']);
    });

    it('gives a FAILED delivery more attempts', async () => {
      let failing = true;
      receiver.respond((_req, res) => {
        res.statusCode = failing ? 500 : 200;
        res.end();
      });
      const { delivery } = await oneDelivery({ urlTemplate: receiver.url('/failed-then-fixed'), maxAttempts: 1 });
      expect(await settled(delivery.id)).toMatchObject({ status: 'FAILED', attempts: 1 });
      failing = false;
      await t.admin.ok(RedeliverDocument, { deliveryId: delivery.id });
      const done = await waitFor(() => read(delivery.id), (d) => d.status === 'DELIVERED', { what: 'the redelivery' });
      expect(done).toMatchObject({ attempts: 2, maxAttempts: 2, lastStatusCode: 200 });
    });

    it('is a CONFLICT while the delivery is in progress, NOT_FOUND for an unknown id, FORBIDDEN to an SDK key', async () => {
      receiver.respond((_req, res) => {
        res.statusCode = 503;
        res.setHeader('Retry-After', '3600'); // capped at 2 s: RETRYING long enough to ask
        res.end();
      });
      const app = await fx.app();
      await fx.callback({ appId: app.id, urlTemplate: receiver.url('/busy'), maxAttempts: 2 });
      const [delivery] = await record(app.id);
      await waitFor(() => read(delivery.id), (d) => d.status === 'RETRYING', { what: 'RETRYING' });
      const conflict = await t.admin.error(RedeliverDocument, { deliveryId: delivery.id });
      expect(conflict.extensions?.code).toBe('CONFLICT');
      expect((await t.admin.error(RedeliverDocument, { deliveryId: '01890000-0000-7000-8000-000000000000' })).extensions?.code).toBe('NOT_FOUND');
      expect((await t.admin.error(RedeliverDocument, { deliveryId: 'not-a-uuid' })).extensions?.code).toBe('NOT_FOUND');
      const sdk = t.admin.as(await fx.sdkKey(app.id));
      expect((await sdk.error(RedeliverDocument, { deliveryId: delivery.id })).extensions?.code).toBe('FORBIDDEN');
      await settled(delivery.id);
    });
  });

  describe('with the address guard on (DISPATCH_ALLOW_PRIVATE=false)', () => {
    let guarded: TestService;
    let guardedFx: ReturnType<typeof configurationFixtures>;
    let v6: Receiver;
    let loopbackName: string | null;

    beforeAll(async () => {
      v6 = await new Receiver('::1').start();
      loopbackName = await nameResolvingToLoopback();
      guarded = await startTestService(kind, { DISPATCHER: 'inline', DISPATCH_ALLOW_PRIVATE: 'false' });
      guardedFx = configurationFixtures(guarded.admin);
    });
    afterAll(async () => {
      await guarded?.stop();
      await v6?.stop();
    });

    const destinations: [string, () => string][] = [
      ['127.0.0.1', () => receiver.url('/ssrf')],
      ['localhost', () => `http://localhost:${receiver.port}/ssrf`],
      ['[::1]', () => v6.url('/ssrf')],
      ['10.x', () => 'http://10.0.0.1/ssrf'],
      ['169.254.169.254 (cloud metadata)', () => 'http://169.254.169.254/latest/meta-data/'],
      ['0x7f000001', () => `http://0x7f000001:${receiver.port}/ssrf`],
      ['a name resolving to loopback', () => `http://${loopbackName ?? 'localhost'}:${receiver.port}/ssrf`],
    ];

    it.each(destinations)('refuses %s: FAILED after one attempt, "destination not allowed", nothing received', async (_label, url) => {
      const app = await guardedFx.app();
      await guardedFx.callback({ appId: app.id, urlTemplate: url() });
      const [delivery] = (await guarded.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'install' } })).recordEvent.deliveries;
      const done = await waitFor(
        async () => (await guarded.admin.ok(DispatchedDeliveryDocument, { id: delivery.id })).delivery!,
        (d) => FINAL.includes(d.status),
        { what: 'the refusal' },
      );
      expect(done).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: null });
      expect(done.attemptLog).toHaveLength(1);
      expect(done.attemptLog[0].error).toMatch(/destination not allowed/);
      expect(receiver.received).toHaveLength(0);
      expect(v6.received).toHaveLength(0);
    });
  });
});
