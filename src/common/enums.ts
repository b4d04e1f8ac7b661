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
