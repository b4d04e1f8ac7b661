import 'reflect-metadata';
import './register-enums';
import { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { AppResolver } from '../apps/app.resolver';
import { NetworkResolver } from '../networks/network.resolver';
import { CallbackResolver } from '../callbacks/callback.resolver';
import { CallbackOperationsResolver } from '../callbacks/callback-operations.resolver';
import { MacroResolver } from '../macros/macro.resolver';
import { ApiKeyResolver } from '../auth/api-key.resolver';
import { ViewerResolver } from '../auth/viewer.resolver';
import { EventResolver, type RecordEventInput } from '../events/event.resolver';
import type { GraphQLContext } from './context';
import { DeliveryResolver } from '../deliveries/delivery.resolver';
import { RedeliverResolver } from '../deliveries/redeliver.resolver';
import { DeliveryStatsResolver } from '../deliveries/delivery-stats.resolver';
import { ExchangeRateResolver } from '../revenue/exchange-rate.resolver';
import { PresetResolver } from '../presets/preset.resolver';
import { DateTimeScalar } from './scalars';

export const RESOLVERS = [
  AppResolver,
  NetworkResolver,
  CallbackResolver,
  CallbackOperationsResolver,
  MacroResolver,
  ApiKeyResolver,
  EventResolver,
  DeliveryResolver,
  RedeliverResolver,
  DeliveryStatsResolver,
  ExchangeRateResolver,
  PresetResolver,
  ViewerResolver,
] as const;

export async function buildGraphQLSchema(options: { emitSchemaFile?: string } = {}): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [...RESOLVERS],
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    // type-graphql insists on a PubSub once a schema has a subscription. Ours subscribe through
    // the process's ClusterPubSub (services.pubsub, reached through the context), so one schema
    // serves every process; this one is never used.
    pubSub: {
      publish: () => {
        throw new Error('publish through services.pubsub');
      },
      subscribe: () => {
        throw new Error('subscribe through services.pubsub');
      },
    },
    emitSchemaFile: options.emitSchemaFile ? { path: options.emitSchemaFile, sortedSchema: false } : false,
  });
  resolveRecordingDirectly(schema);
  return schema;
}

/**
 * recordEvent and recordEvents, the calls SDK backends make thousands of times a second, are
 * resolved by EventResolver's own methods called with graphql-js's coerced arguments. Through
 * type-graphql each call also made a RecordEventInput instance of every input (getParams,
 * convertArgsToInstance): a second walk over values graphql-js has already coerced, with
 * validation off and no middleware to run. The methods read the inputs' fields only, so a
 * coerced plain object serves as well. Other fields keep type-graphql's resolvers.
 */
function resolveRecordingDirectly(schema: GraphQLSchema): void {
  const fields = schema.getMutationType()?.getFields();
  const resolver = new EventResolver();
  const recordEvent = fields?.recordEvent;
  const recordEvents = fields?.recordEvents;
  if (!recordEvent || !recordEvents) throw new Error('the schema has no recordEvent/recordEvents mutation to resolve');
  recordEvent.resolve = (_root, args: { input: RecordEventInput }, ctx: GraphQLContext) => resolver.recordEvent(args.input, ctx);
  recordEvents.resolve = (_root, args: { inputs: RecordEventInput[] }, ctx: GraphQLContext) => resolver.recordEvents(args.inputs, ctx);
}
