// The SDK's request bodies the benchmark sends: recordEvent and recordEvents of the same install,
// for the service and for every bare program that stands beside it (run.ts, floors.ts), so each
// comparison parses and writes the same bytes.

export const RECORD_ONE = 'mutation Record($input: RecordEventInput!) { recordEvent(input: $input) { duplicate event { id } deliveries { id status } } }';
export const RECORD_MANY = 'mutation RecordMany($inputs: [RecordEventInput!]!) { recordEvents(inputs: $inputs) { duplicate event { id } deliveries { id status } } }';

/** Whose events these are: the app and the attributed network. */
export interface EventOwner {
  appId: string;
  networkSlug: string;
}

export function eventInput(owner: EventOwner, eventId: string): Record<string, unknown> {
  return {
    appId: owner.appId,
    eventId,
    name: 'install',
    advertisingId: '6d92078a-8246-4ba4-ae5b-76104861e7dc',
    ipAddress: '203.0.113.7',
    userAgent: 'BenchApp/1.0 (iPhone; iOS 17.4)',
    country: 'US',
    campaignId: 'cmp-42',
    network: owner.networkSlug,
    revenue: 0.99,
    currency: 'USD',
  };
}

/** The i-th recordEvent body, its event id `${prefix}-${i}`. */
export function singleBody(owner: EventOwner, prefix: string): (i: number) => string {
  return (i) => JSON.stringify({ query: RECORD_ONE, variables: { input: eventInput(owner, `${prefix}-${i}`) } });
}

/** The i-th recordEvents body of `size` events, their ids `${prefix}-${i}-${j}`. */
export function batchBody(owner: EventOwner, prefix: string, size: number): (i: number) => string {
  return (i) => {
    const inputs = [];
    for (let j = 0; j < size; j++) inputs.push(eventInput(owner, `${prefix}-${i}-${j}`));
    return JSON.stringify({ query: RECORD_MANY, variables: { inputs } });
  };
}
