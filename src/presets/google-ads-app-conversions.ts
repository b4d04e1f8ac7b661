import { HttpMethod, ValueSharing } from '../common/enums';
import type { PartnerPreset } from './partner-preset';

// Google Ads App Conversion Tracking and Remarketing API: one POST per app event, everything in
// the query string, authorised by the partner's developer token and the app's link id (Google
// Ads > Tools > Linked accounts > Third-party app analytics). Google attributes the event
// itself, so every install and purchase goes (not only those attributed to a network). The
// device's advertising id is the `rdid`; its kind (`id_type`) differs per platform, hence one
// preset per platform. `sdk_version` names the sender (a server integration has no SDK).
export function googleAdsAppConversionPreset(options: { platform: 'iOS' | 'Android'; idType: 'idfa' | 'advertisingid' }): PartnerPreset {
  const query = (values: { rdid: string; lat: string; appVersion: string; osVersion: string; timestamp: string; eventType: string; value: string; currency: string; devToken: string; linkId: string }) =>
    `dev_token=${values.devToken}&link_id=${values.linkId}&app_event_type=${values.eventType}&rdid=${values.rdid}&id_type=${options.idType}` +
    `&lat=${values.lat}&app_version=${values.appVersion}&os_version=${values.osVersion}&sdk_version=postbacks-1&timestamp=${values.timestamp}` +
    `&value=${values.value}&currency_code=${values.currency}`;
  return {
    name: `Google Ads app conversions (${options.platform})`,
    description: `Sends installs (first_open) and purchases (in_app_purchase) of an ${options.platform} app to Google Ads through the App Conversion Tracking and Remarketing API, with the advertising id as ${options.idType}.`,
    documentationUrl: 'https://developers.google.com/app-conversion-tracking/api/request-response-specs',
    method: HttpMethod.POST,
    urlTemplate:
      'https://www.googleadservices.com/pagead/conversion/app/1.0?' +
      query({
        devToken: '{{google_ads_dev_token}}',
        linkId: '{{google_ads_link_id}}',
        eventType: '{{partner_event_name}}',
        rdid: '{{advertising_id}}',
        lat: '{{limit_ad_tracking}}',
        appVersion: '{{app_version}}',
        osVersion: '{{os_version}}',
        timestamp: '{{occurred_at_unix}}',
        value: '{{revenue}}',
        currency: '{{currency}}',
      }),
    bodyTemplate: null,
    headers: [],
    credentials: [
      { name: 'google_ads_dev_token', description: 'The developer token of the Google Ads manager account that sends app conversions', secret: true },
      { name: 'google_ads_link_id', description: "The app's link id for this sender (Google Ads: Linked accounts, Third-party app analytics)", secret: false },
    ],
    eventNames: ['install', 'purchase'],
    eventMappings: [
      { eventName: 'install', partnerEventName: 'first_open', share: ValueSharing.VALUES_AND_REVENUE },
      { eventName: 'purchase', partnerEventName: 'in_app_purchase', share: ValueSharing.VALUES_AND_REVENUE },
    ],
    attributedOnly: false,
    signing: false,
    example: {
      event: {
        name: 'purchase',
        occurredAt: '2026-11-28T12:34:56.789Z',
        advertisingId: '0F7AB11F-DA50-498E-B225-21AC1977A85D',
        appVersion: '3.2.0',
        osVersion: '17.4',
        revenue: 1.99,
        currency: 'USD',
      },
      credentials: [
        { name: 'google_ads_dev_token', value: 'abcDEF123-dev-token' },
        { name: 'google_ads_link_id', value: '58C1B1E3F41475D332AABD35E9C63E43' },
      ],
      rendered: {
        method: HttpMethod.POST,
        url:
          'https://www.googleadservices.com/pagead/conversion/app/1.0?' +
          query({
            devToken: 'abcDEF123-dev-token',
            linkId: '58C1B1E3F41475D332AABD35E9C63E43',
            eventType: 'in_app_purchase',
            rdid: '0F7AB11F-DA50-498E-B225-21AC1977A85D',
            lat: '0',
            appVersion: '3.2.0',
            osVersion: '17.4',
            timestamp: '1795869296',
            value: '1.99',
            currency: 'USD',
          }),
        headers: [],
        body: null,
      },
    },
  };
}
