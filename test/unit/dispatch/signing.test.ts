import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { generateSigningSecret, signPostback } from '../../../src/dispatch/signing';

describe('generateSigningSecret', () => {
  it('is whsec_ and the base64 of 32 random bytes', () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateSigningSecret()).not.toBe(secret);
  });
});

describe('signPostback', () => {
  const secret = generateSigningSecret();
  const id = 'd1b0c1f2-0000-4000-8000-000000000001';

  function headers(ts: number, signature: string) {
    return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
  }

  it('produces a v1 signature the Standard Webhooks verifier accepts', () => {
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ event: 'install', value: 1.5, name: 'ünïcødé' });
    const signature = signPostback(secret, id, ts, body);
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers(ts, signature))).toEqual(JSON.parse(body));
  });

  it('signs the empty body of a GET', () => {
    const ts = Math.floor(Date.now() / 1000);
    const signature = signPostback(secret, id, ts, '');
    expect(() => new Webhook(secret).verify('', headers(ts, signature), { jsonParse: false })).not.toThrow();
  });

  it('is HMAC-SHA256 over id.timestamp.body keyed with the decoded secret', () => {
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`${id}.1700000000.{"a":1}`).digest('base64');
    expect(signPostback(secret, id, 1700000000, '{"a":1}')).toBe(`v1,${expected}`);
  });

  it('fails verification for a tampered body, id, timestamp or another secret', () => {
    const ts = Math.floor(Date.now() / 1000);
    const body = '{"a":1}';
    const signature = signPostback(secret, id, ts, body);
    const wh = new Webhook(secret);
    expect(() => wh.verify('{"a":2}', headers(ts, signature))).toThrow(/No matching signature/);
    expect(() => wh.verify(body, { ...headers(ts, signature), 'webhook-id': 'other' })).toThrow();
    expect(() => wh.verify(body, headers(ts + 1, signature))).toThrow();
    expect(() => new Webhook(generateSigningSecret()).verify(body, headers(ts, signature))).toThrow();
  });

  it('is deterministic for the same inputs', () => {
    expect(signPostback(secret, id, 1, 'x')).toBe(signPostback(secret, id, 1, 'x'));
  });
});
