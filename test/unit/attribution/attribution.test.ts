import { AttributionSource, AttributionType } from '../../../src/common/enums';
import {
  attributeEvent,
  chooseTouchpoint,
  DAY_MS,
  identifiersOf,
  needsRememberedTouchpoint,
  type RememberedTouchpoint,
  type SentAttribution,
  touchpointExpiresAt,
  touchpointType,
} from '../../../src/attribution/attribution';

const at = (iso: string) => new Date(iso);
const tp = (fields: Partial<RememberedTouchpoint> & { occurredAt: Date }): RememberedTouchpoint => ({
  eventUuid: '0190-a',
  networkId: 'net-a',
  networkSlug: 'neta',
  campaignId: 'cmp-a',
  attribution: AttributionType.INSTALL,
  ...fields,
});
const sent = (fields: Partial<SentAttribution> = {}): SentAttribution => ({
  name: 'purchase',
  occurredAt: at('2026-03-10T00:00:00Z'),
  networkSlug: null,
  networkId: null,
  campaignId: null,
  attribution: null,
  ...fields,
});
const noIds = { deviceId: null, advertisingId: null, customerUserId: null };

describe('touchpointType', () => {
  it.each<[string, Partial<SentAttribution>, AttributionType | null]>([
    ['an install with a configured network is an INSTALL', { name: 'install', networkId: 'n' }, AttributionType.INSTALL],
    ['an install without a network is none', { name: 'install' }, null],
    ['a typed event of a configured network', { name: 'open', networkId: 'n', attribution: AttributionType.REENGAGEMENT }, AttributionType.REENGAGEMENT],
    ['the sent type wins over the implied one', { name: 'install', networkId: 'n', attribution: AttributionType.REINSTALL }, AttributionType.REINSTALL],
    ['a typed event of no configured network is none', { name: 'open', networkSlug: 'unknown', attribution: AttributionType.REENGAGEMENT }, null],
    ['a purchase with a network and no type is none', { networkId: 'n' }, null],
  ])('%s', (_label, fields, expected) => {
    expect(touchpointType(sent(fields))).toBe(expected);
  });
});

describe('identifiersOf', () => {
  it('lists each identifier the event carries', () => {
    expect(identifiersOf({ deviceId: 'd1', advertisingId: null, customerUserId: 'u1' })).toEqual([{ kind: 'd', value: 'd1' }, { kind: 'c', value: 'u1' }]);
    expect(identifiersOf(noIds)).toEqual([]);
    expect(identifiersOf({ ...noIds, advertisingId: '6D92078A-8246-4BA4-AE5B-76104861E7DC' })).toEqual([{ kind: 'a', value: '6d92078a-8246-4ba4-ae5b-76104861e7dc' }]);
  });
});

describe('needsRememberedTouchpoint', () => {
  it.each<[string, Partial<SentAttribution>, boolean]>([
    ['an event naming no network', {}, true],
    ['an event of a configured network (for attributedAt)', { networkSlug: 'a', networkId: 'n' }, true],
    ['an event of an unconfigured slug', { networkSlug: 'nowhere' }, false],
    ['a touchpoint itself', { name: 'install', networkSlug: 'a', networkId: 'n' }, false],
  ])('%s', (_label, fields, expected) => {
    expect(needsRememberedTouchpoint(sent(fields), { ...noIds, deviceId: 'd1' })).toBe(expected);
  });

  it('never without an identifier', () => {
    expect(needsRememberedTouchpoint(sent(), noIds)).toBe(false);
  });
});

describe('chooseTouchpoint', () => {
  const event = at('2026-03-10T00:00:00Z');

  it('takes the newest touchpoint at or before the event', () => {
    const old = tp({ occurredAt: at('2026-03-01T00:00:00Z'), networkId: 'a' });
    const newer = tp({ occurredAt: at('2026-03-05T00:00:00Z'), networkId: 'b' });
    const later = tp({ occurredAt: at('2026-03-11T00:00:00Z'), networkId: 'c' });
    expect(chooseTouchpoint([old, later, newer], event, 90)).toBe(newer);
    // An event before the re-engagement still belongs to the older touchpoint.
    expect(chooseTouchpoint([old, later, newer], at('2026-03-04T00:00:00Z'), 90)).toBe(old);
  });

  it('counts the memory from the touchpoint to the event, inclusive', () => {
    const install = tp({ occurredAt: at('2026-01-01T00:00:00Z') });
    expect(chooseTouchpoint([install], new Date(install.occurredAt.getTime() + 30 * DAY_MS), 30)).toBe(install);
    expect(chooseTouchpoint([install], new Date(install.occurredAt.getTime() + 30 * DAY_MS + 1), 30)).toBeNull();
  });

  it('counts a touchpoint at the same instant as the event, and breaks ties by the later record', () => {
    const first = tp({ occurredAt: event, eventUuid: '0190-1' });
    const second = tp({ occurredAt: event, eventUuid: '0190-2' });
    expect(chooseTouchpoint([second, first], event, 1)).toBe(second);
  });

  it('finds nothing in nothing', () => {
    expect(chooseTouchpoint([], event, 90)).toBeNull();
  });
});

describe('attributeEvent', () => {
  const remembered = tp({ occurredAt: at('2026-03-01T00:00:00Z') });

  it('inherits network, slug, campaign, type and time together', () => {
    expect(attributeEvent(sent({ campaignId: 'own' }), remembered)).toEqual({
      networkId: 'net-a', networkSlug: 'neta', campaignId: 'cmp-a', attribution: AttributionType.INSTALL,
      attributionSource: AttributionSource.INHERITED, attributedAt: remembered.occurredAt,
    });
  });

  it('is NONE with nothing remembered, keeping what was sent', () => {
    expect(attributeEvent(sent({ campaignId: 'own' }), null)).toEqual({
      networkId: null, networkSlug: null, campaignId: 'own', attribution: null, attributionSource: AttributionSource.NONE, attributedAt: null,
    });
  });

  it('is SENT at its own time when the event is a touchpoint', () => {
    const install = sent({ name: 'install', networkSlug: 'NetB', networkId: 'net-b', campaignId: 'cmp-b' });
    expect(attributeEvent(install, remembered)).toEqual({
      networkId: 'net-b', networkSlug: 'NetB', campaignId: 'cmp-b', attribution: AttributionType.INSTALL,
      attributionSource: AttributionSource.SENT, attributedAt: install.occurredAt,
    });
  });

  it("is SENT at the remembered touchpoint's time when that is of the same network", () => {
    expect(attributeEvent(sent({ networkSlug: 'neta', networkId: 'net-a' }), remembered)).toMatchObject({
      networkId: 'net-a', attributionSource: AttributionSource.SENT, attributedAt: remembered.occurredAt, attribution: AttributionType.INSTALL,
    });
    expect(attributeEvent(sent({ networkSlug: 'netb', networkId: 'net-b' }), remembered)).toMatchObject({
      networkId: 'net-b', campaignId: null, attributionSource: AttributionSource.SENT, attributedAt: null, attribution: null,
    });
  });

  it('is SENT for an unconfigured slug, attributed to no network', () => {
    expect(attributeEvent(sent({ networkSlug: 'nowhere' }), remembered)).toMatchObject({
      networkId: null, networkSlug: 'nowhere', attributionSource: AttributionSource.SENT, attributedAt: null,
    });
  });
});

describe('touchpointExpiresAt', () => {
  it('is the end of the memory', () => {
    expect(touchpointExpiresAt(at('2026-01-01T00:00:00Z'), 90).toISOString()).toBe('2026-04-01T00:00:00.000Z');
  });
});
