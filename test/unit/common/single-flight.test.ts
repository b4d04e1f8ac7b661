import { SingleFlight } from '../../../src/common/single-flight';

describe('SingleFlight', () => {
  it('shares a load with callers of its generation until it settles, and not with later generations', async () => {
    const flights = new SingleFlight<string, number>();
    let finish!: (n: number) => void;
    const load = flights.track('k', 1, new Promise<number>((resolve) => (finish = resolve)));
    expect(flights.joinable('k', 1)).toBe(load);
    expect(flights.joinable('k', 2)).toBeUndefined();
    expect(flights.joinable('other', 1)).toBeUndefined();
    finish(7);
    await expect(load).resolves.toBe(7);
    expect(flights.joinable('k', 1)).toBeUndefined();
  });

  it('forgets a failed load, and a newer load of the key is not dropped when an older one settles', async () => {
    const flights = new SingleFlight<string, number>();
    const failed = flights.track('k', 1, Promise.reject(new Error('down')));
    await expect(failed).rejects.toThrow('down');
    expect(flights.joinable('k', 1)).toBeUndefined();
    let finishOld!: (n: number) => void;
    const old = flights.track('k', 1, new Promise<number>((resolve) => (finishOld = resolve)));
    const newer = flights.track('k', 2, new Promise<number>(() => undefined));
    finishOld(1);
    await old;
    expect(flights.joinable('k', 2)).toBe(newer);
  });
});
