import dns from 'node:dns';
import {
  checkUrlForDispatch,
  DestinationNotAllowedError,
  findDestinationNotAllowed,
  guardedLookup,
  isPublicAddress,
  type LookupAddress,
} from '../../../src/dispatch/address-guard';

describe('isPublicAddress', () => {
  it.each([
    // IPv4 special-purpose ranges
    '0.0.0.0', '0.1.2.3', '10.0.0.1', '10.255.255.255', '100.64.0.1', '100.127.255.254',
    '127.0.0.1', '127.1.2.3', '169.254.169.254', '169.254.0.1', '172.16.0.1', '172.31.255.255',
    '192.0.0.1', '192.0.0.9', '192.0.2.1', '192.88.99.1', '192.168.1.1', '198.18.0.1',
    '198.19.255.255', '198.51.100.7', '203.0.113.9', '224.0.0.1', '239.255.255.250',
    '240.0.0.1', '255.255.255.255',
    // IPv6
    '::', '::1', 'fe80::1', 'fe80::1%eth0', 'febf::1', 'fc00::1', 'fd00::1', 'fdff:ffff::1',
    'fec0::1', 'ff02::1', 'ff0e::1', '2001:db8::1', '2001:db8:ffff::1', '100::1', '3fff::1',
    '5f00::1', '2001::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2', /* Teredo */ '2001:2::1',
    '64:ff9b:1::a00:1', /* local-use NAT64 */ '::7f00:1', /* IPv4-compatible */ '::8.8.8.8',
    // IPv4 embedded in IPv6
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::ffff:0.0.0.0',
    '64:ff9b::a00:1', '64:ff9b::127.0.0.1', '64:ff9b::a9fe:a9fe', '2002:0a00:0001::',
    '2002:7f00:1::1', '2002:c0a8:101::', '::ffff:0:7f00:1', /* IPv4-translated */
    // not an address in canonical form
    '', 'localhost', '0x7f000001', '2130706433', '127.1', '017700000001', '1.2.3', '1.2.3.4.5',
    '[::1]', ' 8.8.8.8', 'example.com',
  ])('%p is not public', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each([
    '8.8.8.8', '1.1.1.1', '93.184.216.34', '100.63.255.255', '100.128.0.1', '172.15.255.255',
    '172.32.0.1', '192.167.255.255', '198.17.255.255', '198.20.0.1', '223.255.255.254',
    '2606:4700:4700::1111', '2001:4860:4860::8888', '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:0808:0808::1',
  ])('%p is public', (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });
});

describe('checkUrlForDispatch', () => {
  it('accepts public http and https URLs', () => {
    const r = checkUrlForDispatch('https://postbacks.example.net/cb?click=1', false);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.url.hostname).toBe('postbacks.example.net');
    expect(checkUrlForDispatch('http://8.8.8.8:8080/x', false).ok).toBe(true);
    expect(checkUrlForDispatch('http://[2606:4700:4700::1111]/x', false).ok).toBe(true);
  });

  it.each(['ftp://example.com/x', 'file:///etc/passwd', 'javascript:alert(1)', 'gopher://a/', 'ws://example.com/'])(
    'refuses the scheme of %p',
    (url) => {
      const r = checkUrlForDispatch(url, true);
      expect(r).toMatchObject({ ok: false, kind: 'invalid-url' });
      if (!r.ok) expect(r.reason).toMatch(/scheme must be http or https/);
    },
  );

  it.each(['not a url', '', 'http://', '//example.com/x', 'http://exa mple.com/'])('refuses %p as invalid', (url) => {
    expect(checkUrlForDispatch(url, true)).toMatchObject({ ok: false, kind: 'invalid-url' });
  });

  it('refuses a URL longer than 2048 characters, and accepts exactly 2048', () => {
    const prefix = 'https://example.com/?q=';
    const exact = prefix + 'a'.repeat(2048 - prefix.length);
    expect(checkUrlForDispatch(exact, false).ok).toBe(true);
    const r = checkUrlForDispatch(exact + 'a', false);
    expect(r).toMatchObject({ ok: false, kind: 'invalid-url' });
    if (!r.ok) expect(r.reason).toMatch(/rendered URL exceeds 2048 characters/);
  });

  it.each([
    ['http://127.0.0.1/', '127.0.0.1'],
    ['http://127.0.0.1./', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://2130706433/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://0/', '0.0.0.0'],
    ['http://[::1]/', '::1'],
    ['http://[::]/', '::'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', '::ffff:7f00:1'],
    ['http://[64:ff9b::a00:1]/', '64:ff9b::a00:1'],
    ['http://[fe80::1]/', 'fe80::1'],
    ['http://10.0.0.1:8080/', '10.0.0.1'],
    ['https://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://user:pw@192.168.0.1/', '192.168.0.1'],
  ])('blocks the IP literal host of %p', (url, address) => {
    const r = checkUrlForDispatch(url, false);
    expect(r).toEqual({ ok: false, kind: 'blocked', reason: `destination not allowed: ${address}` });
  });

  it('lets IP literals through with allowPrivate, and leaves names to the lookup', () => {
    expect(checkUrlForDispatch('http://127.0.0.1:3000/', true).ok).toBe(true);
    expect(checkUrlForDispatch('http://[::1]:3000/', true).ok).toBe(true);
    expect(checkUrlForDispatch('http://localhost/', false).ok).toBe(true);
  });
});

describe('guardedLookup', () => {
  function lookup(fn: ReturnType<typeof guardedLookup>, host: string, options: object | number) {
    return new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) =>
      fn(host, options, (err, address, family) => resolve({ err, address, family })),
    );
  }

  it('refuses a name resolving to loopback, with all true and false', async () => {
    const fn = guardedLookup(false);
    for (const options of [{ all: true }, { all: false }, {}, 0, { family: 4 }]) {
      const { err } = await lookup(fn, 'localhost', options);
      expect(err).toBeInstanceOf(DestinationNotAllowedError);
      expect(err?.message).toMatch(/^destination not allowed: (127\.0\.0\.1|::1) \(resolved from localhost\)$/);
    }
  });

  it('refuses IP literals passed to it', async () => {
    const { err } = await lookup(guardedLookup(false), '169.254.169.254', {});
    expect(err?.message).toBe('destination not allowed: 169.254.169.254');
  });

  it('supports the two-argument form', async () => {
    const err = await new Promise((resolve) => guardedLookup(false)('127.0.0.1', (e) => resolve(e)));
    expect(err).toBeInstanceOf(DestinationNotAllowedError);
  });

  it('passes private answers through when allowed, in both shapes', async () => {
    const fn = guardedLookup(true);
    const all = await lookup(fn, 'localhost', { all: true });
    expect(all.err).toBeNull();
    expect((all.address as LookupAddress[]).length).toBeGreaterThan(0);
    const one = await lookup(fn, '127.0.0.1', { family: 4 });
    expect(one).toEqual({ err: null, address: '127.0.0.1', family: 4 });
  });

  describe('with a stubbed resolver', () => {
    afterEach(() => jest.restoreAllMocks());

    function stubDns(addresses: LookupAddress[]) {
      jest.spyOn(dns, 'lookup').mockImplementation(((_h: string, _o: unknown, cb: (e: null, a: LookupAddress[]) => void) =>
        process.nextTick(cb, null, addresses)) as never);
    }

    it('accepts a name whose every address is public', async () => {
      stubDns([{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1::1', family: 6 }]);
      const fn = guardedLookup(false);
      expect(await lookup(fn, 'example.com', { all: true })).toEqual({
        err: null,
        address: [{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1::1', family: 6 }],
        family: undefined,
      });
      expect(await lookup(fn, 'example.com', {})).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    });

    it('refuses a name if any one address is not public (mixed answer)', async () => {
      stubDns([{ address: '93.184.216.34', family: 4 }, { address: '10.1.2.3', family: 4 }]);
      const { err } = await lookup(guardedLookup(false), 'rebind.example', { all: true });
      expect(err?.message).toBe('destination not allowed: 10.1.2.3 (resolved from rebind.example)');
    });

    it('passes resolver errors through', async () => {
      const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND nope.invalid'), { code: 'ENOTFOUND' });
      jest.spyOn(dns, 'lookup').mockImplementation(((_h: string, _o: unknown, cb: (e: Error) => void) =>
        process.nextTick(cb, notFound)) as never);
      const { err } = await lookup(guardedLookup(false), 'nope.invalid', {});
      expect(err).toBe(notFound);
    });
  });
});

describe('findDestinationNotAllowed', () => {
  it('finds the refusal through a cause chain', () => {
    const refusal = new DestinationNotAllowedError('127.0.0.1');
    const wrapped = new Error('outer', { cause: new Error('middle', { cause: refusal }) });
    expect(findDestinationNotAllowed(wrapped)).toBe(refusal);
    expect(findDestinationNotAllowed(new Error('x'))).toBeNull();
    expect(findDestinationNotAllowed('x')).toBeNull();
  });
});
