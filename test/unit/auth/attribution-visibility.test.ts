import { ApiKeyRole } from '../../../src/common/enums';
import { principalSeesAttribution, sharesAttributionWith } from '../../../src/auth/attribution-visibility';

describe('sharesAttributionWith', () => {
  it.each<[string, string | null, string | null, boolean]>([
    ["the advertiser's own endpoint sees any attribution", null, 'a', true],
    ["the advertiser's own endpoint sees an unattributed event", null, null, true],
    ['a partner sees its own attribution', 'a', 'a', true],
    ["a partner does not see a rival's", 'x', 'a', false],
    ['a partner sees nothing of an unattributed event (or an unconfigured slug)', 'x', null, false],
  ])('%s', (_label, viewer, eventNetwork, expected) => {
    expect(sharesAttributionWith(viewer, { networkId: eventNetwork })).toBe(expected);
  });
});

describe('principalSeesAttribution', () => {
  const event = { networkId: 'a' };
  it('hides a rival attribution from a PARTNER key only', () => {
    expect(principalSeesAttribution({ role: ApiKeyRole.ADMIN, keyId: null }, event)).toBe(true);
    expect(principalSeesAttribution({ role: ApiKeyRole.SDK, keyId: 'k', appId: 'app' }, event)).toBe(true);
    expect(principalSeesAttribution({ role: ApiKeyRole.PARTNER, keyId: 'k', networkId: 'a' }, event)).toBe(true);
    expect(principalSeesAttribution({ role: ApiKeyRole.PARTNER, keyId: 'k', networkId: 'x' }, event)).toBe(false);
  });
});
