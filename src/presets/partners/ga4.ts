import { HttpMethod } from '../../common/enums';
import type { PartnerPreset } from '../partner-preset';

// GA4 Measurement Protocol for a web data stream: measurement_id and api_secret in the query,
// the client and its events in a JSON body. Revenue goes as USD in `value` (sent as text: this
// service's JSON templates put every value inside a string).
const preset: PartnerPreset = {
  name: 'Google Analytics 4 (Measurement Protocol)',
  description: 'Sends each event to a GA4 web data stream with the Measurement Protocol, with the revenue in USD as value.',
  documentationUrl: 'https://developers.google.com/analytics/devguides/collection/protocol/ga4/sending-events',
  method: HttpMethod.POST,
  urlTemplate: 'https://www.google-analytics.com/mp/collect?measurement_id={{ga4_measurement_id}}&api_secret={{ga4_api_secret}}',
  bodyTemplate: JSON.stringify({
    client_id: '{{advertising_id || event_uuid}}',
    events: [
      {
        name: '{{event_name}}',
        params: {
          currency: 'USD',
          value: "{{revenue_usd | default:'0'}}",
          campaign_id: '{{campaign_id}}',
          source: '{{network}}',
          transaction_id: '{{event_id || event_uuid}}',
        },
      },
    ],
  }),
  headers: [],
  credentials: [
    { name: 'ga4_measurement_id', description: 'The data stream\'s Measurement ID (G-XXXXXXXXXX): Admin > Data Streams > your stream', secret: false },
    { name: 'ga4_api_secret', description: 'A Measurement Protocol API secret of that stream: Admin > Data Streams > your stream > Measurement Protocol API secrets', secret: true },
  ],
  eventNames: [],
  eventMappings: [],
  attributedOnly: false,
  signing: false,
  example: {
    event: { eventId: 'order-1234', name: 'purchase', occurredAt: '2026-11-28T12:34:56.789Z', network: 'exampleads', campaignId: 'summer-sale', advertisingId: '6D92078A-8246-4BA4-AE5B-76104861E7DC', revenue: 4.99, currency: 'USD' },
    credentials: [
      { name: 'ga4_measurement_id', value: 'G-EXAMPLE123' },
      { name: 'ga4_api_secret', value: 'aBcDeFgHiJkLmNoPqRsTu' },
    ],
    rendered: {
      method: HttpMethod.POST,
      url: "https://www.google-analytics.com/mp/collect?measurement_id=G-EXAMPLE123&api_secret=aBcDeFgHiJkLmNoPqRsTu",
      headers: [{ name: 'Content-Type', value: 'application/json' }],
      body: JSON.stringify({
        "client_id": "6D92078A-8246-4BA4-AE5B-76104861E7DC",
        "events": [
          {
            "name": "purchase",
            "params": {
              "currency": "USD",
              "value": "4.99",
              "campaign_id": "summer-sale",
              "source": "exampleads",
              "transaction_id": "order-1234"
            }
          }
        ]
      }),
    },
  },
};

export default preset;
