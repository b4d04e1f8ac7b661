import { HttpMethod } from '../../common/enums';
import type { PartnerPreset } from '../partner-preset';

// Segment HTTP Tracking API, track call, with the source's write key in the body. messageId is
// the event's id, which Segment uses to drop duplicates.
const preset: PartnerPreset = {
  name: 'Segment (HTTP Tracking API, track)',
  description: 'Sends each event as a Segment track call to an HTTP API source; Segment forwards it to the destinations of that source.',
  documentationUrl: 'https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/',
  method: HttpMethod.POST,
  urlTemplate: 'https://api.segment.io/v1/track',
  bodyTemplate: JSON.stringify({
    writeKey: '{{segment_write_key}}',
    anonymousId: '{{advertising_id || event_uuid}}',
    event: '{{event_name}}',
    messageId: '{{event_uuid}}',
    timestamp: '{{occurred_at}}',
    properties: { revenue: '{{revenue}}', currency: '{{currency}}', revenue_usd: '{{revenue_usd}}', network: '{{network}}', campaign_id: '{{campaign_id}}' },
    context: { ip: '{{ip_address}}', app: { namespace: '{{bundle_id}}' }, device: { advertisingId: '{{advertising_id}}' } },
  }),
  headers: [],
  credentials: [{ name: 'segment_write_key', description: 'The write key of a Segment HTTP API source', secret: true }],
  eventNames: [],
  eventMappings: [],
  attributedOnly: false,
  signing: false,
  example: {
    event: { name: 'registration', occurredAt: '2026-11-28T12:34:56.789Z', advertisingId: '6D92078A-8246-4BA4-AE5B-76104861E7DC', ipAddress: '203.0.113.7', network: 'exampleads' },
    credentials: [{ name: 'segment_write_key', value: 'wk_EXAMPLE0123456789' }],
    rendered: {
      method: HttpMethod.POST,
      url: "https://api.segment.io/v1/track",
      headers: [{ name: 'Content-Type', value: 'application/json' }],
      body: JSON.stringify({
        "writeKey": "wk_EXAMPLE0123456789",
        "anonymousId": "6D92078A-8246-4BA4-AE5B-76104861E7DC",
        "event": "registration",
        "messageId": "00000000-0000-0000-0000-000000000000",
        "timestamp": "2026-11-28T12:34:56.789Z",
        "properties": {
          "revenue": "",
          "currency": "",
          "revenue_usd": "",
          "network": "exampleads",
          "campaign_id": ""
        },
        "context": {
          "ip": "203.0.113.7",
          "app": {
            "namespace": "com.example.game"
          },
          "device": {
            "advertisingId": "6D92078A-8246-4BA4-AE5B-76104861E7DC"
          }
        }
      }),
    },
  },
};

export default preset;
