import { ApiKeyRole } from '../../../src/common/enums';
import { ForbiddenError } from '../../../src/common/errors';
import type { Principal } from '../../../src/auth/principal';
import {
  type AccessFacts,
  assertAdminField,
  assertCanReadDeliveryCallback,
  assertCanReadEvent,
  assertDeliveryFieldVisible,
  authorizeDeliveryFilter,
  canReadDelivery,
  hidesDeviceIdentifiers,
  scopeDeliveryFilter,
} from '../../../src/auth/scope';

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

  describe('with facts from the database', () => {
    const APP = '01890000-0000-7000-8000-0000000000a1';
    const OTHER_APP = '01890000-0000-7000-8000-0000000000a2';
    const CALLBACK = '01890000-0000-7000-8000-0000000000c1';
    const EVENT = '01890000-0000-7000-8000-0000000000e1';
    const facts: AccessFacts = {
      networkHasDeliveriesOfApp: async (networkId, appId) => networkId === 'net-1' && appId === APP,
      eventHasDeliveryToNetwork: async (eventId, networkId) => eventId === EVENT && networkId === 'net-1',
      callbackOwner: async (id) => (id === CALLBACK ? { appId: 'app-1', networkId: 'net-1' } : null),
    };

    it('lets a partner filter by the apps and callbacks it has deliveries of, and nothing else', async () => {
      await expect(authorizeDeliveryFilter(partner, { appId: APP }, facts)).resolves.toEqual({ appId: APP, networkId: 'net-1' });
      await expect(authorizeDeliveryFilter(partner, { appId: OTHER_APP }, facts)).rejects.toThrow(ForbiddenError);
      await expect(authorizeDeliveryFilter(partner, { appId: 'not-an-id' }, facts)).rejects.toThrow(ForbiddenError);
      await expect(authorizeDeliveryFilter(partner, { callbackId: CALLBACK }, facts)).resolves.toMatchObject({ callbackId: CALLBACK });
      await expect(authorizeDeliveryFilter(partner, { callbackId: '01890000-0000-7000-8000-0000000000c2' }, facts)).rejects.toThrow(ForbiddenError);
      await expect(authorizeDeliveryFilter(sdk, { callbackId: CALLBACK }, facts)).resolves.toMatchObject({ appId: 'app-1' });
      await expect(authorizeDeliveryFilter(admin, { appId: OTHER_APP, callbackId: 'anything' }, facts)).resolves.toEqual({ appId: OTHER_APP, callbackId: 'anything' });
    });

    it('lets a partner read the events that sent it a postback, an SDK key its app\'s', async () => {
      await expect(assertCanReadEvent(partner, { id: EVENT, appId: OTHER_APP }, facts)).resolves.toBeUndefined();
      await expect(assertCanReadEvent(partner, { id: '01890000-0000-7000-8000-0000000000e2', appId: 'app-1' }, facts)).rejects.toThrow(ForbiddenError);
      await expect(assertCanReadEvent(sdk, { id: EVENT, appId: 'app-1' }, facts)).resolves.toBeUndefined();
      await expect(assertCanReadEvent(sdk, { id: EVENT, appId: 'app-2' }, facts)).rejects.toThrow(ForbiddenError);
      await expect(assertCanReadEvent(admin, { id: 'x', appId: 'y' }, facts)).resolves.toBeUndefined();
    });

    it('hides a delivery\'s callback once it moved to another network, and from SDK keys', () => {
      expect(() => assertCanReadDeliveryCallback(partner, { id: CALLBACK, networkId: 'net-1' })).not.toThrow();
      expect(() => assertCanReadDeliveryCallback(partner, { id: CALLBACK, networkId: 'net-2' })).toThrow(ForbiddenError);
      expect(() => assertCanReadDeliveryCallback(sdk, { id: CALLBACK, networkId: null })).toThrow(ForbiddenError);
      expect(() => assertCanReadDeliveryCallback(admin, { id: CALLBACK, networkId: 'net-2' })).not.toThrow();
    });

    it('keeps ADMIN-only fields to ADMIN keys', () => {
      expect(() => assertAdminField(admin, 'signingSecret')).not.toThrow();
      for (const p of [sdk, partner, null]) expect(() => assertAdminField(p, 'signingSecret')).toThrow(ForbiddenError);
    });
  });
});
