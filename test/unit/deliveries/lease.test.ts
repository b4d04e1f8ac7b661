import { canStartBeforeLeaseEnds, LEASE_SAFETY_MARGIN_MS, leaseDurationMs, leaseEnd, RECORDING_ALLOWANCE_MS } from '../../../src/deliveries/lease';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);

describe('leaseDurationMs', () => {
  it('is the configured lease when it outlives every timeout with the margin', () => {
    expect(leaseDurationMs(60_000, [10_000, 30_000])).toBe(60_000);
  });

  it('stretches to the longest timeout plus the margin when the configured lease is shorter', () => {
    expect(leaseDurationMs(2_000, [300, 1_000])).toBe(1_000 + LEASE_SAFETY_MARGIN_MS);
    expect(leaseDurationMs(10_000, [30_000])).toBe(30_000 + LEASE_SAFETY_MARGIN_MS);
  });

  it('always exceeds every timeout of the batch', () => {
    for (const configured of [1_000, 5_000, 30_000, 60_000]) {
      for (const timeout of [100, 10_000, 30_000]) {
        expect(leaseDurationMs(configured, [timeout])).toBeGreaterThan(timeout);
      }
    }
  });

  it('is the configured lease for an empty batch, at least the margin', () => {
    expect(leaseDurationMs(60_000, [])).toBe(60_000);
    expect(leaseDurationMs(1_000, [])).toBe(LEASE_SAFETY_MARGIN_MS);
  });
});

describe('leaseEnd', () => {
  it('is now plus the lease duration', () => {
    expect(leaseEnd(NOW, 60_000, [10_000])).toEqual(at(60_000));
  });
});

describe('canStartBeforeLeaseEnds', () => {
  const end = at(60_000);

  it('starts a fresh claim', () => {
    expect(canStartBeforeLeaseEnds(NOW, end, 30_000)).toBe(true);
  });

  it('starts while the timeout and the recording allowance still fit', () => {
    expect(canStartBeforeLeaseEnds(at(60_000 - 30_000 - RECORDING_ALLOWANCE_MS), end, 30_000)).toBe(true);
  });

  it('refuses once they no longer fit (a stall between claim and start)', () => {
    expect(canStartBeforeLeaseEnds(at(60_000 - 30_000 - RECORDING_ALLOWANCE_MS + 1), end, 30_000)).toBe(false);
    expect(canStartBeforeLeaseEnds(at(70_000), end, 100)).toBe(false);
  });

  it('starts a claim made with a stretched lease a little after claiming', () => {
    const stretched = leaseEnd(NOW, 1_000, [1_000]);
    expect(canStartBeforeLeaseEnds(at(1_000), stretched, 1_000)).toBe(true);
  });
});
