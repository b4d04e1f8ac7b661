import { CreateApiKeyDocument, CreateAppDocument, CreateCallbackDocument, CreateCallbackInput, CreateNetworkDocument } from '../generated/graphql';
import type { GraphQLClient } from './graphql-client';

let counter = 0;
/** A name no other test in this process uses. */
export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${++counter}`;
}

/** Configuration through the real API, as an ADMIN would make it. */
export function configurationFixtures(admin: GraphQLClient) {
  return {
    async app(platform: 'IOS' | 'ANDROID' | 'WEB' | 'OTHER' = 'IOS') {
      return (await admin.ok(CreateAppDocument, { input: { name: 'Puzzle', bundleId: unique('com.example.puzzle'), platform } })).createApp;
    },
    async network(slug = unique('net')) {
      return (await admin.ok(CreateNetworkDocument, { input: { name: `Network ${slug}`, slug } })).createNetwork;
    },
    async callback(input: Partial<CreateCallbackInput> & { appId: string }) {
      return (await admin.ok(CreateCallbackDocument, { input: { name: unique('cb'), urlTemplate: 'https://postback.example/p', ...input } })).createCallback;
    },
    async sdkKey(appId: string): Promise<string> {
      return (await admin.ok(CreateApiKeyDocument, { input: { name: 'sdk', role: 'SDK', appId } })).createApiKey.secret;
    },
    async partnerKey(networkId: string): Promise<string> {
      return (await admin.ok(CreateApiKeyDocument, { input: { name: 'partner', role: 'PARTNER', networkId } })).createApiKey.secret;
    },
  };
}
