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
import { EventResolver } from '../events/event.resolver';
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
  return buildSchema({
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
}
