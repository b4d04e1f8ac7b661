import { ApiKeyRole } from '../../../src/common/enums';
import { ForbiddenError } from '../../../src/common/errors';
import type { Principal } from '../../../src/auth/principal';
import { assertDeliveryFieldVisible, canReadDelivery, hidesDeviceIdentifiers, scopeDeliveryFilter } from '../../../src/auth/scope';

const admin: Principal = { role: ApiKeyRole.ADMIN, keyId: null };
const sdk: Principal = { role: ApiKeyRole.SDK, keyId: 'k1', appId: 'app-1' };
const partner: Principal = { role: ApiKeyRole.PARTNER, keyId: 'k2', networkId: 'net-1' };

describe('delivery scope', () => {
  it.each<[string, Principal, { appId: string; networkId: string | null }, boolean]>([
    ['admin, any', admin, { appId: 'app-9', networkId: null }, true],
    ['sdk, own app', sdk, { appId: 'app-1', networkId: 'net-9' }, true],
    ['sdk, other app', sdk, { appId: 'app-2', networkId: null }, false],
    ['partner, own network', partner, { appId: 'app-9', networkId: 'net-1' }, true],
    ['partner, other network', partner, { appId: 'app-1', networkId: 'net-2' }, false],
    ['partner, no network', partner, { appId: 'app-1', networkId: null }, false],
  ])('%s', (_label, principal, delivery, allowed) => {
    expect(canReadDelivery(principal, delivery)).toBe(allowed);
  });

  it('hides what was sent from SDK keys only', () => {
    for (const field of ['url', 'body', 'headers', 'lastError', 'attemptLog', 'callback']) {
      expect(() => assertDeliveryFieldVisible(sdk, field)).toThrow(ForbiddenError);
      expect(() => assertDeliveryFieldVisible(partner, field)).not.toThrow();
      expect(() => assertDeliveryFieldVisible(admin, field)).not.toThrow();
    }
    for (const field of ['id', 'status', 'event', 'attempts']) expect(() => assertDeliveryFieldVisible(sdk, field)).not.toThrow();
  });

  it('hides device identifiers from partners under limit ad tracking only', () => {
    expect(hidesDeviceIdentifiers(partner, { limitAdTracking: true })).toBe(true);
    expect(hidesDeviceIdentifiers(partner, { limitAdTracking: false })).toBe(false);
    expect(hidesDeviceIdentifiers(admin, { limitAdTracking: true })).toBe(false);
    expect(hidesDeviceIdentifiers(sdk, { limitAdTracking: true })).toBe(false);
  });

  it('forces each key\'s scope onto filters and refuses foreign ones', () => {
    expect(scopeDeliveryFilter(admin, { appId: 'x' })).toEqual({ appId: 'x' });
    expect(scopeDeliveryFilter(partner, {})).toEqual({ networkId: 'net-1' });
    expect(scopeDeliveryFilter(partner, { appId: 'a', networkId: 'net-1' })).toEqual({ appId: 'a', networkId: 'net-1' });
    expect(() => scopeDeliveryFilter(partner, { networkId: 'net-2' })).toThrow(ForbiddenError);
    expect(scopeDeliveryFilter(sdk, { networkId: 'n' })).toEqual({ networkId: 'n', appId: 'app-1' });
    expect(() => scopeDeliveryFilter(sdk, { appId: 'app-2' })).toThrow(ForbiddenError);
  });
});
