import { earliest, MAX_SCAN_INTERVAL_MS, MIN_SCAN_INTERVAL_MS, msUntilNextScan } from '../../../src/dispatch/scan-schedule';
import { worthClaiming } from '../../../src/dispatch/dispatcher';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);

describe('msUntilNextScan', () => {
  it('sleeps until the next due time when it is near', () => {
    expect(msUntilNextScan(NOW, at(120))).toBe(120);
  });

  it('never sleeps longer than 250 ms: other processes schedule rows this one has not seen', () => {
    expect(MAX_SCAN_INTERVAL_MS).toBe(250);
    expect(msUntilNextScan(NOW, at(60_000))).toBe(250);
    expect(msUntilNextScan(NOW, null)).toBe(250);
  });

  it('waits a little for rows already due (another worker is claiming them), instead of spinning', () => {
    expect(msUntilNextScan(NOW, NOW)).toBe(MIN_SCAN_INTERVAL_MS);
    expect(msUntilNextScan(NOW, at(-5_000))).toBe(MIN_SCAN_INTERVAL_MS);
  });

  it('honours other bounds', () => {
    expect(msUntilNextScan(NOW, at(900), 1_000, 0)).toBe(900);
    expect(msUntilNextScan(NOW, at(-1), 1_000, 0)).toBe(0);
  });
});

describe('earliest', () => {
  it('picks the earlier known time', () => {
    expect(earliest(at(5), at(3))).toEqual(at(3));
    expect(earliest(at(3), at(5))).toEqual(at(3));
    expect(earliest(null, at(5))).toEqual(at(5));
    expect(earliest(at(5), null)).toEqual(at(5));
    expect(earliest(null, null)).toBeNull();
  });
});

describe('worthClaiming', () => {
  it('claims for any free slot when idle, so a lone delivery starts at once', () => {
    expect(worthClaiming(64, 0, 64)).toBe(true);
    expect(worthClaiming(1, 0, 1)).toBe(true);
  });

  it('waits for a batch of free slots under load', () => {
    expect(worthClaiming(1, 63, 64)).toBe(false);
    expect(worthClaiming(7, 57, 64)).toBe(false);
    expect(worthClaiming(8, 56, 64)).toBe(true);
  });

  it('never claims without a free slot', () => {
    expect(worthClaiming(0, 64, 64)).toBe(false);
    expect(worthClaiming(0, 0, 0)).toBe(false);
  });

  it('refills single slots at small concurrency', () => {
    expect(worthClaiming(1, 3, 4)).toBe(true);
  });
});
