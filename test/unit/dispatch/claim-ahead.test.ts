import { claimAhead, worthClaiming } from '../../../src/dispatch/dispatcher';

describe('claimAhead', () => {
  it('claims up to half a batch beyond the batch', () => {
    expect(claimAhead(64)).toBe(32);
    expect(claimAhead(3)).toBe(1);
    expect(claimAhead(1)).toBe(0);
  });

  it('with a batch sending, still claims half a batch ahead', () => {
    const batchSize = 64;
    const room = batchSize + claimAhead(batchSize) - 64 - 0;
    expect(worthClaiming(room, 64, batchSize)).toBe(true);
    expect(worthClaiming(batchSize + claimAhead(batchSize) - 64 - 30, 94, batchSize)).toBe(false);
  });
});
