import { HttpMethod } from '../../common/enums';
import type { PartnerPreset } from '../partner-preset';

// A Slack incoming webhook, for alerts in a channel: purchases by default (override eventNames).
// The webhook URL Slack gives is https://hooks.slack.com/services/T…/B…/secret: its three parts
// are the credentials.
const preset: PartnerPreset = {
  name: 'Slack (incoming webhook)',
  description: 'Posts a one-line message to a Slack channel for each purchase (or the events you choose): app, network and USD revenue.',
  documentationUrl: 'https://api.slack.com/messaging/webhooks',
  method: HttpMethod.POST,
  urlTemplate: 'https://hooks.slack.com/services/{{slack_team_id}}/{{slack_hook_id}}/{{slack_hook_secret}}',
  bodyTemplate: JSON.stringify({
    text: "{{event_name}} in {{app_name}} ({{platform}}), {{country | default:'unknown country'}}, from {{network | default:'organic'}}: {{revenue_usd | default:'0'}} USD",
  }),
  headers: [],
  credentials: [
    { name: 'slack_team_id', description: 'The first part of the webhook URL after /services/ (T…)', secret: false },
    { name: 'slack_hook_id', description: 'The second part (B…)', secret: false },
    { name: 'slack_hook_secret', description: 'The last part of the webhook URL', secret: true },
  ],
  eventNames: ['purchase'],
  eventMappings: [],
  attributedOnly: false,
  signing: false,
  example: {
    event: { name: 'purchase', occurredAt: '2026-11-28T12:34:56.789Z', country: 'DE', revenue: 4.99, currency: 'USD' },
    credentials: [
      { name: 'slack_team_id', value: 'T00000000' },
      { name: 'slack_hook_id', value: 'B00000000' },
      { name: 'slack_hook_secret', value: 'XXXXXXXXXXXXXXXXXXXXXXXX' },
    ],
    rendered: {
      method: HttpMethod.POST,
      url: "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
      headers: [{ name: 'Content-Type', value: 'application/json' }],
      body: JSON.stringify({
        "text": "purchase in Example Game (ios), DE, from organic: 4.99 USD"
      }),
    },
  },
};

export default preset;
