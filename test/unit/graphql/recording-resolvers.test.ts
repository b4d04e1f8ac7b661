// recordEvent and recordEvents are resolved straight from graphql-js's coerced arguments
// (schema.ts: resolveRecordingDirectly), without type-graphql's per-call input instances.
import { execute, parse } from 'graphql';
import { buildGraphQLSchema } from '../../../src/graphql/schema';
import { RecordEventInput } from '../../../src/events/event.resolver';
import type { GraphQLContext } from '../../../src/graphql/context';

describe('the recording mutations', () => {
  async function run(query: string, variables: Record<string, unknown>) {
    const schema = await buildGraphQLSchema();
    const calls: { inputs: unknown[]; field: string }[] = [];
    const principal = { role: 'SDK', keyId: 'k', appId: 'app-1' };
    const contextValue = {
      principal,
      services: {
        events: {
          record: async (who: unknown, inputs: unknown[], fieldOf: (i: number) => string) => {
            expect(who).toBe(principal);
            calls.push({ inputs, field: fieldOf(inputs.length - 1) });
            return inputs.map((_, i) => ({ event: { id: `e${i}` }, duplicate: false, deliveries: [] }));
          },
        },
      },
    } as unknown as GraphQLContext;
    const result = await execute({ schema, document: parse(query), variableValues: variables, contextValue });
    return { result, calls };
  }

  it('hands recordEvent the coerced input as it is, and answers what the service returned', async () => {
    const { result, calls } = await run('mutation($i: RecordEventInput!) { recordEvent(input: $i) { duplicate event { id } } }', { i: { appId: 'app-1', name: 'install', revenue: 2 } });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ recordEvent: { duplicate: false, event: { id: 'e0' } } });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.field).toBe('input');
    const [input] = calls[0]?.inputs as object[];
    // type-graphql would have made a RecordEventInput of it.
    expect(input).not.toBeInstanceOf(RecordEventInput);
    expect(input).toEqual({ appId: 'app-1', name: 'install', revenue: 2 });
  });

  it('hands recordEvents its inputs in order, each named by its index', async () => {
    const inputs = [{ appId: 'app-1', name: 'a' }, { appId: 'app-1', name: 'b', occurredAt: '2026-11-29T10:00:00Z' }];
    const { result, calls } = await run('mutation($i: [RecordEventInput!]!) { recordEvents(inputs: $i) { event { id } } }', { i: inputs });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ recordEvents: [{ event: { id: 'e0' } }, { event: { id: 'e1' } }] });
    expect(calls[0]?.field).toBe('inputs.1');
    const received = calls[0]?.inputs as Record<string, unknown>[];
    expect(received.map((i) => i.name)).toEqual(['a', 'b']);
    // The DateTime scalar still parses: graphql-js coerced it.
    expect(received[1]?.occurredAt).toEqual(new Date('2026-11-29T10:00:00Z'));
  });
});
