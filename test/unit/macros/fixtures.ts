import { AttributionType, MacroSource, MacroTransform, Platform } from '../../../src/common/enums';
import type { PostbackEventContext } from '../../../src/macros/built-in-macros';
import type { MacroDefinition } from '../../../src/macros/macro-resolution';

export function makeContext(overrides: Partial<PostbackEventContext> = {}): PostbackEventContext {
  return {
    eventUuid: '0b8e8f0e-3c1a-4f7e-9d7e-5f6b2a1c9d40',
    eventId: 'order-1234',
    name: 'purchase',
    occurredAt: new Date('2024-05-01T12:34:56.789Z'),
    receivedAt: new Date('2024-05-01T12:35:01.999Z'),
    advertisingId: '6D92078A-8246-4BA4-AE5B-76104861E7DC',
    ipAddress: '203.0.113.7',
    userAgent: 'MyApp/3.2 (iPhone; iOS 17.4)',
    country: 'DE',
    platform: Platform.IOS,
    campaignId: 'summer-sale',
    networkSlug: 'adnet',
    revenue: 4.99,
    currency: 'EUR',
    limitAdTracking: false,
    params: { sku: 'A-1', items: [{ sku: 'X1', qty: 2 }, { sku: 'X2', qty: 1 }], nested: { deep: { v: 'ok' } } },
    app: { id: 'app-1', name: 'Example Game', bundleId: 'com.example.game', platform: Platform.ANDROID },
    deliveryId: '7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    customerUserId: 'user-8812',
    deviceId: 'E3B1C4D2-7F6A-4E2B-9C1D-0A2B3C4D5E6F',
    osVersion: '17.4',
    appVersion: '3.2.0',
    attribution: AttributionType.INSTALL,
    attributedAt: new Date('2024-04-28T09:15:00.000Z'),
    isAttributed: true,
    partnerEventName: 'purchase',
    usdRate: 0.92,
    ...overrides,
  };
}

export function macro(name: string, fields: Partial<MacroDefinition>): MacroDefinition {
  return {
    name,
    source: MacroSource.CONSTANT,
    path: null,
    value: null,
    defaultValue: null,
    transform: MacroTransform.NONE,
    ...fields,
  };
}

/** Values with every character that matters in some encoding context. */
export const TRICKY_VALUES: string[] = [
  'a&b=c',
  'what?x=1#frag',
  'path/to/thing',
  '100% + more',
  'two words',
  'say "hi"',
  'back\\slash',
  'line1\nline2',
  'cr\r\nlf',
  'tab\there',
  'café é',
  '日本',
  'party 🎉',
  '{{advertising_id}}',
  "it's <b>&amp;</b>",
  '',
];
