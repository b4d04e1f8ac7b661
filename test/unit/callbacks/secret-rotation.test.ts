import { previousSecretInForce } from '../../../src/callbacks/secret-rotation';

const NOW = new Date('2030-01-01T12:00:00.000Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);
const rotated = { signingSecret: 'whsec_new', previousSigningSecret: 'whsec_old', previousSecretExpiresAt: at(3_600_000) };

describe('previousSecretInForce', () => {
  it('is the old secret and its end while the overlap lasts', () => {
    expect(previousSecretInForce(rotated, NOW)).toEqual({ secret: 'whsec_old', expiresAt: at(3_600_000) });
    expect(previousSecretInForce(rotated, at(3_599_999))).toEqual({ secret: 'whsec_old', expiresAt: at(3_600_000) });
  });

  it('is null from the end of the overlap on, though the columns still hold it', () => {
    expect(previousSecretInForce(rotated, at(3_600_000))).toBeNull();
    expect(previousSecretInForce(rotated, at(86_400_000))).toBeNull();
  });

  it('is null without a rotation, or with signing off', () => {
    expect(previousSecretInForce({ ...rotated, previousSigningSecret: null, previousSecretExpiresAt: null }, NOW)).toBeNull();
    expect(previousSecretInForce({ ...rotated, previousSecretExpiresAt: null }, NOW)).toBeNull();
    expect(previousSecretInForce({ ...rotated, signingSecret: null }, NOW)).toBeNull();
  });
});
