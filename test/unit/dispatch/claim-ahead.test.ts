import { claimAhead, worthClaiming } from '../../../src/dispatch/dispatcher';

describe('claimAhead', () => {
  it('claims up to half the concurrency beyond the free slots', () => {
    expect(claimAhead(64)).toBe(32);
    expect(claimAhead(3)).toBe(1);
    expect(claimAhead(1)).toBe(0);
  });

  it('with all slots busy, still claims a batch ahead', () => {
    const concurrency = 64;
    const room = concurrency + claimAhead(concurrency) - 64 - 0;
    expect(worthClaiming(room, 64, concurrency)).toBe(true);
    expect(worthClaiming(concurrency + claimAhead(concurrency) - 64 - 30, 94, concurrency)).toBe(false);
  });
});
