import { HttpMethod } from '../../common/enums';
import type { PartnerPreset } from '../partner-preset';

// Every event, whole, to the advertiser's own backend as signed JSON. The signature headers
// (webhook-id, webhook-timestamp, webhook-signature) follow Standard Webhooks, so its published
// verifiers check them; the dispatcher adds them on each attempt.
const preset: PartnerPreset = {
  name: "Advertiser's own server (signed JSON)",
  description: 'Every event with its attribution and revenue as one JSON object, POSTed to your own HTTPS endpoint and signed (Standard Webhooks). Verify webhook-signature with the callback\'s signingSecret.',
  documentationUrl: 'https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md',
  method: HttpMethod.POST,
  urlTemplate: 'https://{{advertiser_host}}/postbacks',
  bodyTemplate: JSON.stringify({
    event_uuid: '{{event_uuid}}',
    event_id: '{{event_id}}',
    event_name: '{{event_name}}',
    occurred_at: '{{occurred_at}}',
    bundle_id: '{{bundle_id}}',
    platform: '{{platform}}',
    network: '{{network}}',
    campaign_id: '{{campaign_id}}',
    country: '{{country}}',
    advertising_id: '{{advertising_id}}',
    ip_address: '{{ip_address}}',
    revenue: '{{revenue}}',
    currency: '{{currency}}',
    revenue_usd: '{{revenue_usd}}',
    delivery_id: '{{delivery_id}}',
  }),
  headers: [],
  credentials: [{ name: 'advertiser_host', description: 'The host name of your endpoint, e.g. api.example.com (the path is /postbacks)', secret: false }],
  eventNames: [],
  eventMappings: [],
  attributedOnly: false,
  signing: true,
  example: {
    event: {
      eventId: 'order-1234', name: 'purchase', occurredAt: '2026-11-28T12:34:56.789Z', network: 'exampleads', campaignId: 'summer sale',
      country: 'de', advertisingId: '6D92078A-8246-4BA4-AE5B-76104861E7DC', ipAddress: '203.0.113.7', revenue: 4.99, currency: 'USD',
    },
    credentials: [{ name: 'advertiser_host', value: 'api.example.com' }],
    rendered: {
      method: HttpMethod.POST,
      url: "https://api.example.com/postbacks",
      headers: [{ name: 'Content-Type', value: 'application/json' }],
      body: JSON.stringify({
        "event_uuid": "00000000-0000-0000-0000-000000000000",
        "event_id": "order-1234",
        "event_name": "purchase",
        "occurred_at": "2026-11-28T12:34:56.789Z",
        "bundle_id": "com.example.game",
        "platform": "ios",
        "network": "exampleads",
        "campaign_id": "summer sale",
        "country": "DE",
        "advertising_id": "6D92078A-8246-4BA4-AE5B-76104861E7DC",
        "ip_address": "203.0.113.7",
        "revenue": "4.99",
        "currency": "USD",
        "revenue_usd": "4.99",
        "delivery_id": "00000000-0000-0000-0000-000000000000"
      }),
    },
  },
};

export default preset;
