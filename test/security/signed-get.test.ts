// A signed GET postback: the signature covers the request target (path and query), which
// carries every macro value. Verified as a receiver would, against a real node:http server.
import http from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { createSender } from '../../src/dispatch/http-sender';
import type { PostbackSender, SenderKind } from '../../src/dispatch/sender';
import { generateSigningSecret, signedContent } from '../../src/dispatch/signing';

interface Received {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What a receiver without a Standard Webhooks library writes: node:crypto only. */
function verifyWithNodeCrypto(secret: string, headers: Record<string, string>, payload: string): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${payload}`).digest();
  return (headers['webhook-signature'] ?? '').split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    if (version !== 'v1' || !signature) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

describe('signedContent', () => {
  it('is the body for a POST and the request target for a GET', () => {
    expect(signedContent('POST', '/p?a=1', '{"a":1}')).toBe('{"a":1}');
    expect(signedContent('POST', '/p?a=1', null)).toBe('');
    expect(signedContent('GET', '/p?a=1', 'ignored')).toBe('/p?a=1');
  });
});

describe.each<SenderKind>(['undici', 'got'])('signed postbacks with the %s sender', (kind) => {
  const received: Received[] = [];
  let server: http.Server;
  let sender: PostbackSender;
  let base: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sender = createSender(kind, { allowPrivate: true, userAgent: 'test' });
  });

  afterEach(() => {
    received.length = 0;
  });

  afterAll(async () => {
    await sender.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('signs a GET over its request target: both verifiers accept it, a tampered query fails both', async () => {
    const secret = generateSigningSecret();
    const path = '/install?ifa=6D92078A&cid=summer%20sale&payout=1.5&name=%D0%98%D0%B3%D1%80%D0%B0';
    const result = await sender.send({ deliveryId: 'd-get-1', method: 'GET', url: base + path, headers: [], body: null, timeoutMs: 5000, signingSecret: secret });
    expect(result.statusCode).toBe(200);
    const [got] = received;
    expect(got.url).toBe(path);

    expect(() => new Webhook(secret).verify(got.url, got.headers, { jsonParse: false })).not.toThrow();
    expect(verifyWithNodeCrypto(secret, got.headers, got.url)).toBe(true);

    const tampered = got.url.replace('payout=1.5', 'payout=150');
    expect(() => new Webhook(secret).verify(tampered, got.headers, { jsonParse: false })).toThrow();
    expect(verifyWithNodeCrypto(secret, got.headers, tampered)).toBe(false);
    // The old scheme (an empty payload) no longer verifies: the query is covered.
    expect(() => new Webhook(secret).verify('', got.headers)).toThrow();
  });

  it('signs a POST over its body, as before: both verifiers accept it, a tampered body fails', async () => {
    const secret = generateSigningSecret();
    const body = '{"event":"install","revenue":1.5}';
    await sender.send({ deliveryId: 'd-post-1', method: 'POST', url: `${base}/p?x=1`, headers: [], body, timeoutMs: 5000, signingSecret: secret });
    const [got] = received;
    expect(new Webhook(secret).verify(got.body, got.headers)).toEqual(JSON.parse(body));
    expect(verifyWithNodeCrypto(secret, got.headers, got.body)).toBe(true);
    expect(verifyWithNodeCrypto(secret, got.headers, got.body.replace('1.5', '15'))).toBe(false);
  });
});
