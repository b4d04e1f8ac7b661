import { HttpMethod } from '../../common/enums';
import type { PartnerPreset } from '../partner-preset';

// Amplitude HTTP V2 API: the project's API key and the events in one JSON body. insert_id lets
// Amplitude drop a redelivered event; device_id falls back to the event's id when the device
// sent no advertising id (Amplitude needs a user_id or a device_id of 5 characters or more).
const preset: PartnerPreset = {
  name: 'Amplitude (HTTP V2 API)',
  description: 'Sends each event to an Amplitude project through the HTTP V2 API, with attribution and USD revenue as event properties.',
  documentationUrl: 'https://amplitude.com/docs/apis/analytics/http-v2',
  method: HttpMethod.POST,
  urlTemplate: 'https://api2.amplitude.com/2/httpapi',
  bodyTemplate: JSON.stringify({
    api_key: '{{amplitude_api_key}}',
    events: [
      {
        device_id: '{{advertising_id || event_uuid}}',
        event_type: '{{event_name}}',
        insert_id: '{{event_uuid}}',
        platform: '{{platform}}',
        event_properties: { network: '{{network}}', campaign_id: '{{campaign_id}}', revenue_usd: '{{revenue_usd}}', country: '{{country}}' },
      },
    ],
  }),
  headers: [],
  credentials: [{ name: 'amplitude_api_key', description: 'The Amplitude project\'s API key (Settings > Projects > your project)', secret: true }],
  eventNames: [],
  eventMappings: [],
  attributedOnly: false,
  signing: false,
  example: {
    event: { name: 'install', occurredAt: '2026-11-28T12:34:56.789Z', network: 'exampleads', campaignId: 'summer-sale', country: 'FR' },
    credentials: [{ name: 'amplitude_api_key', value: '0123456789abcdef0123456789abcdef' }],
    rendered: {
      method: HttpMethod.POST,
      url: "https://api2.amplitude.com/2/httpapi",
      headers: [{ name: 'Content-Type', value: 'application/json' }],
      body: JSON.stringify({
        "api_key": "0123456789abcdef0123456789abcdef",
        "events": [
          {
            "device_id": "00000000-0000-0000-0000-000000000000",
            "event_type": "install",
            "insert_id": "00000000-0000-0000-0000-000000000000",
            "platform": "ios",
            "event_properties": {
              "network": "exampleads",
              "campaign_id": "summer-sale",
              "revenue_usd": "",
              "country": "FR"
            }
          }
        ]
      }),
    },
  },
};

export default preset;
