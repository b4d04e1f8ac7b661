import { HttpMethod } from '../../common/enums';
import type { PartnerPreset } from '../partner-preset';

// Mixpanel Ingestion API, /track: the project token travels inside each event's properties;
// $insert_id (at most 36 characters: a UUID fits) deduplicates redeliveries.
const preset: PartnerPreset = {
  name: 'Mixpanel (Ingestion API, track)',
  description: 'Sends each event to a Mixpanel project through /track, with attribution and USD revenue as properties.',
  documentationUrl: 'https://developer.mixpanel.com/reference/track-event',
  method: HttpMethod.POST,
  urlTemplate: 'https://api.mixpanel.com/track',
  bodyTemplate: JSON.stringify([
    {
      event: '{{event_name}}',
      properties: {
        token: '{{mixpanel_project_token}}',
        distinct_id: '{{advertising_id || event_uuid}}',
        $insert_id: '{{event_uuid}}',
        utm_source: '{{network}}',
        utm_campaign: '{{campaign_id}}',
        revenue_usd: '{{revenue_usd}}',
      },
    },
  ]),
  headers: [{ name: 'Accept', value: 'text/plain' }],
  credentials: [{ name: 'mixpanel_project_token', description: 'The Mixpanel project token (Project Settings > Access Keys)', secret: false }],
  eventNames: [],
  eventMappings: [],
  attributedOnly: false,
  signing: false,
  example: {
    event: { name: 'purchase', occurredAt: '2026-11-28T12:34:56.789Z', advertisingId: '6D92078A-8246-4BA4-AE5B-76104861E7DC', revenue: 19.99, currency: 'USD' },
    credentials: [{ name: 'mixpanel_project_token', value: 'f0e1d2c3b4a5968778695a4b3c2d1e0f' }],
    rendered: {
      method: HttpMethod.POST,
      url: "https://api.mixpanel.com/track",
      headers: [{ name: 'Accept', value: 'text/plain' }, { name: 'Content-Type', value: 'application/json' }],
      body: JSON.stringify([
        {
          "event": "purchase",
          "properties": {
            "token": "f0e1d2c3b4a5968778695a4b3c2d1e0f",
            "distinct_id": "6D92078A-8246-4BA4-AE5B-76104861E7DC",
            "$insert_id": "00000000-0000-0000-0000-000000000000",
            "utm_source": "",
            "utm_campaign": "",
            "revenue_usd": "19.99"
          }
        }
      ]),
    },
  },
};

export default preset;
