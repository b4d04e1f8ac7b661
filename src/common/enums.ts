// Plain string enums shared by entities, pure logic and GraphQL. Registered with
// type-graphql in src/graphql/register-enums.ts so this file stays free of framework imports.

export enum Platform {
  IOS = 'IOS',
  ANDROID = 'ANDROID',
  WEB = 'WEB',
  OTHER = 'OTHER',
}

export enum HttpMethod {
  GET = 'GET',
  POST = 'POST',
}

export enum DeliveryStatus {
  PENDING = 'PENDING',
  SENDING = 'SENDING',
  RETRYING = 'RETRYING',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
}

export enum MacroSource {
  FIELD = 'FIELD',
  PARAM = 'PARAM',
  CONSTANT = 'CONSTANT',
}

export enum MacroTransform {
  NONE = 'NONE',
  LOWERCASE = 'LOWERCASE',
  UPPERCASE = 'UPPERCASE',
  MD5 = 'MD5',
  SHA1 = 'SHA1',
  SHA256 = 'SHA256',
}

export enum ApiKeyRole {
  ADMIN = 'ADMIN',
  SDK = 'SDK',
  PARTNER = 'PARTNER',
}

/** Marks an event as an attribution touchpoint (next.graphql, attribution and partner rules). */
export enum AttributionType {
  INSTALL = 'INSTALL',
  REINSTALL = 'REINSTALL',
  REENGAGEMENT = 'REENGAGEMENT',
}

/** SENT: the sender named the network. INHERITED: from the user's last touchpoint. NONE: unattributed. */
export enum AttributionSource {
  SENT = 'SENT',
  INHERITED = 'INHERITED',
  NONE = 'NONE',
}

/** What of an event's values a callback's partner receives. */
export enum ValueSharing {
  NONE = 'NONE',
  VALUES = 'VALUES',
  VALUES_AND_REVENUE = 'VALUES_AND_REVENUE',
}
