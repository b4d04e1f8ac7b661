import got from 'got';
test('got loads under jest', () => { expect(typeof got).toBe('function'); });
