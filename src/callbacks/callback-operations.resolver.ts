// Delivery operations on callbacks: Callback.health, resumeCallback and the
// callbackHealthChanged subscription (published by any process through the cluster pub/sub).
import { filter, pipe } from '@graphql-yoga/subscription';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root, Subscription } from 'type-graphql';
import { requireAdmin, requirePrincipal } from '../auth/principal';
import { canWatchCallback, scopeCallbackHealthFilter } from '../auth/scope';
import { NotFoundError } from '../common/errors';
import { isUuid } from '../common/ids';
import type { GraphQLContext } from '../graphql/context';
import type { CallbackHealthChanged } from '../pubsub/cluster-pubsub';
import { healthView } from './callback-health';
import { DeliveryAttempt } from '../deliveries/delivery-attempt.entity';
import { RecordEventInput } from '../events/event.resolver';
import { Callback, CallbackHealthView } from './callback.entity';
import { previousSecretInForce } from './secret-rotation';

@Resolver(() => Callback)
export class CallbackOperationsResolver {
  @FieldResolver(() => CallbackHealthView)
  health(@Root() callback: Callback): CallbackHealthView {
    return healthView(callback);
  }

  @FieldResolver(() => Date, { nullable: true, description: 'while a rotated-out secret is still honoured, postbacks carry both signatures' })
  previousSecretExpiresAt(@Root() callback: Callback, @Ctx() ctx: GraphQLContext): Date | null {
    return previousSecretInForce(callback, ctx.services.clock.now())?.expiresAt ?? null;
  }

  @Mutation(() => Callback, { description: 'back to HEALTHY (and enabled) at once' })
  async resumeCallback(@Arg('callbackId', () => ID) callbackId: string, @Ctx() ctx: GraphQLContext): Promise<Callback> {
    requireAdmin(ctx.principal);
    if (!isUuid(callbackId)) throw new NotFoundError('callback', callbackId);
    const change = await ctx.services.callbackHealth.resume(callbackId, ctx.services.clock.now());
    if (!change) throw new NotFoundError('callback', callbackId);
    if (change.stateChanged) ctx.services.announceHealthChange(change);
    return ctx.services.callbacks.getById(callbackId);
  }

  @Mutation(() => Callback, { description: 'a new secret; the old one keeps signing too for overlapHours (0..168, default 24)' })
  rotateSigningSecret(
    @Arg('callbackId', () => ID) callbackId: string,
    @Arg('overlapHours', () => Int, { nullable: true }) overlapHours: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Callback> {
    requireAdmin(ctx.principal);
    if (!isUuid(callbackId)) throw new NotFoundError('callback', callbackId);
    return ctx.services.callbacks.rotateSigningSecret(callbackId, overlapHours, ctx.services.clock.now());
  }

  @Mutation(() => DeliveryAttempt, { description: 'sends one real postback for this sample event now, stores no delivery, and returns the attempt' })
  testCallback(
    @Arg('callbackId', () => ID) callbackId: string,
    @Arg('event', () => RecordEventInput) event: RecordEventInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeliveryAttempt> {
    requireAdmin(ctx.principal);
    if (!isUuid(callbackId)) throw new NotFoundError('callback', callbackId);
    return ctx.services.callbackTests.send(callbackId, event);
  }

  @Subscription(() => Callback, {
    description: "every change of a callback's health state (ADMIN: any; PARTNER: callbacks of its network)",
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      const principal = requirePrincipal(ctx.principal);
      const scoped = scopeCallbackHealthFilter(principal, { appId: (args.appId as string | null) ?? null, networkId: (args.networkId as string | null) ?? null });
      return pipe(
        ctx.services.pubsub.subscribe('callback-health-changed'),
        filter(
          (change: CallbackHealthChanged) =>
            (scoped.appId == null || change.appId === scoped.appId) &&
            (scoped.networkId == null || change.networkId === scoped.networkId) &&
            canWatchCallback(principal, change),
        ),
      );
    },
  })
  async callbackHealthChanged(
    @Root() change: CallbackHealthChanged,
    @Arg('appId', () => ID, { nullable: true }) _appId: string | null,
    @Arg('networkId', () => ID, { nullable: true }) _networkId: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Callback> {
    const callback = await ctx.services.callbacks.findByIdWithDeleted(change.callbackId);
    if (!callback) throw new NotFoundError('callback', change.callbackId);
    return callback;
  }
}
