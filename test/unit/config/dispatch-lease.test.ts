import { ConfigError, loadConfig, MIN_DISPATCH_LEASE_MS } from '../../../src/config/config';

describe('DISPATCH_LEASE_MS', () => {
  it('defaults to 60 s, above the longest callback timeout', () => {
    expect(loadConfig({}).dispatchLeaseMs).toBe(60_000);
  });

  it('accepts a short floor: each claim stretches its lease past the claimed timeouts (src/deliveries/lease.ts)', () => {
    expect(loadConfig({ DISPATCH_LEASE_MS: '2000' }).dispatchLeaseMs).toBe(2000);
  });

  it(`rejects values below ${MIN_DISPATCH_LEASE_MS} ms, naming the variable`, () => {
    expect(() => loadConfig({ DISPATCH_LEASE_MS: '999' })).toThrow(ConfigError);
    expect(() => loadConfig({ DISPATCH_LEASE_MS: '999' })).toThrow(/DISPATCH_LEASE_MS/);
  });
});
