import { filter, pipe } from '@graphql-yoga/subscription';
import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, ObjectType, Query, Resolver, Root, Subscription } from 'type-graphql';
import { DeliveryStatus } from '../common/enums';
import { requirePrincipal } from '../auth/principal';
import { assertCanReadDelivery, assertCanReadDeliveryCallback, assertDeliveryFieldVisible, authorizeDeliveryFilter, canReadDelivery } from '../auth/scope';
import { Callback, HttpHeader } from '../callbacks/callback.entity';
import { Event } from '../events/event.entity';
import { Network } from '../networks/network.entity';
import type { GraphQLContext } from '../graphql/context';
import { DeliveryAttempt } from './delivery-attempt.entity';
import { Delivery } from './delivery.entity';
import { DeliveryListFilter, encodeCursor } from './delivery.service';
import { fromDeliverySnapshot } from './delivery-snapshot';
import type { DeliverySnapshot } from './delivery-snapshot';

interface DeliveryUpdatedArgs {
  appId?: string | null;
  networkId?: string | null;
  callbackId?: string | null;
}

function matchesFilter(delivery: DeliverySnapshot, filter: DeliveryListFilter): boolean {
  return (
    (filter.appId == null || delivery.appId === filter.appId) &&
    (filter.networkId == null || delivery.networkId === filter.networkId) &&
    (filter.callbackId == null || delivery.callbackId === filter.callbackId)
  );
}

@InputType('DeliveryFilter')
export class DeliveryFilter {
  @Field(() => ID, { nullable: true }) appId?: string | null;
  @Field(() => ID, { nullable: true }) networkId?: string | null;
  @Field(() => ID, { nullable: true }) callbackId?: string | null;
  @Field(() => ID, { nullable: true, description: 'an Event.id (the {{event_uuid}} macro), not the sender\'s eventId' }) eventUuid?: string | null;
  @Field(() => [DeliveryStatus], { nullable: true }) statuses?: DeliveryStatus[] | null;
}

@ObjectType('DeliveryEdge')
export class DeliveryEdge {
  @Field(() => String) cursor: string;
  @Field(() => Delivery) node: Delivery;
}

@ObjectType('PageInfo')
export class PageInfo {
  @Field(() => Boolean) hasNextPage: boolean;
  @Field(() => String, { nullable: true }) endCursor: string | null;
}

@ObjectType('DeliveryConnection')
export class DeliveryConnection {
  @Field(() => [DeliveryEdge]) edges: DeliveryEdge[];
  @Field(() => PageInfo) pageInfo: PageInfo;
}

@Resolver(() => Delivery)
export class DeliveryResolver {
  @Query(() => Delivery, { nullable: true })
  async delivery(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Delivery | null> {
    const principal = requirePrincipal(ctx.principal);
    const delivery = await ctx.services.deliveries.findById(id);
    if (!delivery) return null;
    assertCanReadDelivery(principal, delivery);
    return delivery;
  }

  @Query(() => DeliveryConnection, { description: 'newest first' })
  async deliveries(
    @Arg('filter', () => DeliveryFilter, { nullable: true }) filter: DeliveryFilter | null,
    @Arg('first', () => Int, { nullable: true, description: 'default 20, at most 100' }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'pageInfo.endCursor of the previous page' }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeliveryConnection> {
    const principal = requirePrincipal(ctx.principal);
    const scoped = await authorizeDeliveryFilter(principal, filter ?? {}, ctx.services.deliveries);
    const page = await ctx.services.deliveries.list(scoped, first, after);
    const edges = page.deliveries.map((node) => ({ cursor: encodeCursor(node.id), node }));
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  @Subscription(() => Delivery, {
    description: 'every status change of a matching delivery, from any API node or worker; published after the change is committed',
    subscribe: async ({ args, context }) => {
      const ctx = context as GraphQLContext;
      const principal = requirePrincipal(ctx.principal);
      const scoped = await authorizeDeliveryFilter(principal, args as DeliveryUpdatedArgs, ctx.services.deliveries);
      return pipe(
        ctx.services.pubsub.subscribe('delivery-updated'),
        filter((delivery: DeliverySnapshot) => matchesFilter(delivery, scoped) && canReadDelivery(principal, delivery)),
      );
    },
  })
  deliveryUpdated(
    @Root() snapshot: DeliverySnapshot,
    @Arg('appId', () => ID, { nullable: true }) _appId: string | null,
    @Arg('networkId', () => ID, { nullable: true }) _networkId: string | null,
    @Arg('callbackId', () => ID, { nullable: true }) _callbackId: string | null,
  ): Delivery {
    return fromDeliverySnapshot(snapshot);
  }

  @FieldResolver(() => Event)
  async event(@Root() delivery: Delivery, @Ctx() ctx: GraphQLContext): Promise<Event> {
    const event = await ctx.loaders.event.load(delivery.eventId);
    if (!event) throw new Error(`delivery ${delivery.id} points at missing event ${delivery.eventId}`);
    return event;
  }

  @FieldResolver(() => Callback)
  async callback(@Root() delivery: Delivery, @Ctx() ctx: GraphQLContext): Promise<Callback> {
    const principal = requirePrincipal(ctx.principal);
    assertDeliveryFieldVisible(principal, 'callback');
    const callback = await ctx.loaders.callback.load(delivery.callbackId);
    if (!callback) throw new Error(`delivery ${delivery.id} points at missing callback ${delivery.callbackId}`);
    assertCanReadDeliveryCallback(principal, callback);
    return callback;
  }

  @FieldResolver(() => Network, { nullable: true })
  network(@Root() delivery: Delivery, @Ctx() ctx: GraphQLContext): Promise<Network | null> | null {
    return delivery.networkId ? ctx.loaders.network.load(delivery.networkId) : null;
  }

  @FieldResolver(() => String, { description: 'the rendered URL, as sent on every attempt; not readable with SDK keys' })
  url(@Root() delivery: Delivery, @Ctx() ctx: GraphQLContext): string {
    assertDeliveryFieldVisible(requirePrincipal(ctx.principal), 'url');
    return delivery.url;
  }

  @FieldResolver(() => String, { nullable: true, description: 'the rendered body, as sent on every attempt; not readable with SDK keys' })
  body(@Root() delivery: Delivery, @Ctx() ctx: GraphQLContext): string | null {
    assertDeliveryFieldVisible(requirePrincipal(ctx.principal), 'body');
    return delivery.body;
  }

  @FieldResolver(() => [HttpHeader], {
    description: 'the rendered headers of the callback; the dispatcher adds User-Agent, webhook-id and, when signing, webhook-timestamp and webhook-signature; not readable with SDK keys',
  })
  headers(@Root() delivery: Delivery, @Ctx() ctx: GraphQLContext): HttpHeader[] {
    assertDeliveryFieldVisible(requirePrincipal(ctx.principal), 'headers');
    return delivery.headers;
  }

  @FieldResolver(() => String, { nullable: true, description: 'why the last attempt failed; not readable with SDK keys' })
  lastError(@Root() delivery: Delivery, @Ctx() ctx: GraphQLContext): string | null {
    assertDeliveryFieldVisible(requirePrincipal(ctx.principal), 'lastError');
    return delivery.lastError;
  }

  @FieldResolver(() => [DeliveryAttempt], { description: 'every attempt, oldest first; not readable with SDK keys' })
  async attemptLog(@Root() delivery: Delivery, @Ctx() ctx: GraphQLContext): Promise<DeliveryAttempt[]> {
    assertDeliveryFieldVisible(requirePrincipal(ctx.principal), 'attemptLog');
    // The attempts this state of the delivery knows of: a subscriber reading an older status
    // change does not see attempts made after it.
    const attempts = await ctx.loaders.attemptsByDelivery.load(delivery.id);
    return attempts.filter((attempt) => attempt.number <= delivery.attempts);
  }
}
