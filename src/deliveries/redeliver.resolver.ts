import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { requireAdmin } from '../auth/principal';
import type { GraphQLContext } from '../graphql/context';
import { Delivery } from './delivery.entity';

@Resolver()
export class RedeliverResolver {
  /** The rules (NOT_FOUND, CONFLICT while in progress, the new maxAttempts) are the store's (DeliveryStore.redeliver). */
  @Mutation(() => Delivery, { description: 'queues a new round of attempts for a DELIVERED or FAILED delivery' })
  redeliver(@Arg('deliveryId', () => ID) deliveryId: string, @Ctx() ctx: GraphQLContext): Promise<Delivery> {
    requireAdmin(ctx.principal);
    return ctx.services.deliveries.redeliver(deliveryId);
  }
}
