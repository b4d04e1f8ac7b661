// The shape of a partner preset: one data file per destination under ./partners/, found by
// preset-catalog.ts. Adding a destination is adding a file; nothing else lists them.

import type { HttpMethod } from '../common/enums';
import type { ValueSharing } from '../common/enums';

export interface PresetCredential {
  /** Becomes an app-level CONSTANT macro of this name: a macro name, no built-in's. */
  name: string;
  description: string;
  /** Shown masked in tools; the value is still stored as a macro, readable by ADMIN keys. */
  secret: boolean;
}

export interface PresetEventMapping {
  eventName: string;
  partnerEventName: string | null;
  share: ValueSharing;
}

export interface PartnerPreset {
  name: string;
  description: string;
  /** The partner's public documentation of this request format. */
  documentationUrl: string;
  method: HttpMethod;
  urlTemplate: string;
  bodyTemplate: string | null;
  headers: { name: string; value: string }[];
  credentials: PresetCredential[];
  /** Events the callback fires for; empty: every event. */
  eventNames: string[];
  eventMappings: PresetEventMapping[];
  /** Needs the callback's networkId (the partner is an ad network that gets only its own users). */
  attributedOnly: boolean;
  /** Standard Webhooks signing on by default (createCallbackFromTemplate's `signing` overrides). */
  signing: boolean;
  example: {
    /** A RecordEventInput without appId, rendered for the app EXAMPLE_APP describes. */
    event: Record<string, unknown>;
    credentials: { name: string; value: string }[];
    /** Exactly what previewCallback renders (delivery_id and event_uuid are all zeros there). */
    rendered: { method: HttpMethod; url: string; headers: { name: string; value: string }[]; body: string | null };
  };
}

/** The app every preset example renders for (bundle_id, app_name, platform). */
export const EXAMPLE_APP = { name: 'Example Game', bundleId: 'com.example.game', platform: 'IOS' } as const;
