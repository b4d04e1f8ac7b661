import { matchCallback, matchingCallbacks, MatchableCallback } from '../../../src/events/callback-matching';

const cb = (fields: Partial<MatchableCallback> = {}): MatchableCallback => ({ enabled: true, eventNames: [], attributedOnly: false, networkId: null, ...fields });

describe('matchCallback', () => {
  it.each<[string, MatchableCallback, { name: string; networkId: string | null }, boolean]>([
    ['every event, no network', cb(), { name: 'install', networkId: null }, true],
    ['disabled', cb({ enabled: false }), { name: 'install', networkId: null }, false],
    ['named event matches', cb({ eventNames: ['install', 'purchase'] }), { name: 'purchase', networkId: null }, true],
    ['named event differs', cb({ eventNames: ['install'] }), { name: 'purchase', networkId: null }, false],
    ['names compare exactly (case)', cb({ eventNames: ['Install'] }), { name: 'install', networkId: null }, false],
    ['network callback, not attributed-only, other network', cb({ networkId: 'n1' }), { name: 'x', networkId: 'n2' }, true],
    ['network callback, not attributed-only, unattributed', cb({ networkId: 'n1' }), { name: 'x', networkId: null }, true],
    ['attributed-only, own network', cb({ networkId: 'n1', attributedOnly: true }), { name: 'x', networkId: 'n1' }, true],
    ['attributed-only, other network', cb({ networkId: 'n1', attributedOnly: true }), { name: 'x', networkId: 'n2' }, false],
    ['attributed-only, unattributed', cb({ networkId: 'n1', attributedOnly: true }), { name: 'x', networkId: null }, false],
    ['attributed-only without a network never fires', cb({ attributedOnly: true }), { name: 'x', networkId: null }, false],
    ['attributed-only and named, both match', cb({ networkId: 'n1', attributedOnly: true, eventNames: ['x'] }), { name: 'x', networkId: 'n1' }, true],
    ['attributed-only and named, name differs', cb({ networkId: 'n1', attributedOnly: true, eventNames: ['y'] }), { name: 'x', networkId: 'n1' }, false],
  ])('%s', (_label, callback, event, fires) => {
    const verdict = matchCallback(callback, event);
    expect(verdict.fires).toBe(fires);
    if (!verdict.fires) expect(verdict.reason.length).toBeGreaterThan(10);
  });

  it('keeps the order of the callbacks that fire', () => {
    const a = { ...cb(), id: 'a' };
    const b = { ...cb({ enabled: false }), id: 'b' };
    const c = { ...cb({ eventNames: ['install'] }), id: 'c' };
    expect(matchingCallbacks([c, b, a], { name: 'install', networkId: null }).map((x) => x.id)).toEqual(['c', 'a']);
  });
});
