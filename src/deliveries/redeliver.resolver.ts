import { Arg, Ctx, Field, ID, InputType, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import { requireAdmin } from '../auth/principal';
import { DeliveryStatus } from '../common/enums';
import { ProblemList } from '../common/errors';
import { isUuid } from '../common/ids';
import type { GraphQLContext } from '../graphql/context';
import { Delivery } from './delivery.entity';

@InputType('RedeliverFilter')
export class RedeliverFilter {
  @Field(() => ID, { nullable: true }) appId?: string | null;
  @Field(() => ID, { nullable: true }) networkId?: string | null;
  @Field(() => ID, { nullable: true }) callbackId?: string | null;
  @Field(() => [DeliveryStatus], { nullable: true, description: 'default [FAILED]; only DELIVERED and FAILED may be named' }) statuses?: DeliveryStatus[] | null;
  @Field(() => Date, { description: 'createdAt window, both required' }) from: Date;
  @Field(() => Date) to: Date;
}

@ObjectType('RedeliverResult', { description: 'skipped: deliveries in the window that match the other filters but are still PENDING, SENDING or RETRYING' })
export class RedeliverResult {
  @Field(() => Int) queued: number;
  @Field(() => Int) skipped: number;
}

/** The longest redeliverMany window: an outage replay, not a re-send of history. */
export const MAX_REDELIVER_WINDOW_DAYS = 31;

@Resolver()
export class RedeliverResolver {
  /** The rules (NOT_FOUND, CONFLICT while in progress, the new maxAttempts) are the store's (DeliveryStore.redeliver). */
  @Mutation(() => Delivery, { description: 'queues a new round of attempts for a DELIVERED or FAILED delivery' })
  redeliver(@Arg('deliveryId', () => ID) deliveryId: string, @Ctx() ctx: GraphQLContext): Promise<Delivery> {
    requireAdmin(ctx.principal);
    return ctx.services.deliveries.redeliver(deliveryId);
  }

  @Mutation(() => RedeliverResult, { description: 'queues a new round for every matching DELIVERED/FAILED delivery in the window' })
  redeliverMany(@Arg('filter', () => RedeliverFilter) filter: RedeliverFilter, @Ctx() ctx: GraphQLContext): Promise<RedeliverResult> {
    requireAdmin(ctx.principal);
    const problems = new ProblemList();
    const statuses = filter.statuses ?? [DeliveryStatus.FAILED];
    if (statuses.length === 0) problems.add('filter.statuses', 'name DELIVERED, FAILED or both (or leave it out for [FAILED])');
    for (const status of statuses) {
      if (status !== DeliveryStatus.DELIVERED && status !== DeliveryStatus.FAILED) problems.add('filter.statuses', `${status} cannot be redelivered: only DELIVERED and FAILED`);
    }
    for (const key of ['appId', 'networkId', 'callbackId'] as const) {
      const id = filter[key];
      if (id != null && !isUuid(id)) problems.add(`filter.${key}`, 'must be an id');
    }
    if (filter.to.getTime() <= filter.from.getTime()) problems.add('filter.to', 'must be after filter.from');
    else if (filter.to.getTime() - filter.from.getTime() > MAX_REDELIVER_WINDOW_DAYS * 86_400_000) problems.add('filter.from', `the window may span at most ${MAX_REDELIVER_WINDOW_DAYS} days`);
    problems.throwIfAny();
    return ctx.services.deliveries.redeliverMany({ ...filter, statuses: [...new Set(statuses)] });
  }
}
