import { Arg, Ctx, Field, FieldResolver, Float, ID, InputType, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { HttpMethod, Platform, ValueSharing } from '../common/enums';
import { requireAdmin } from '../auth/principal';
import { assertAdminField } from '../auth/scope';
import { App } from '../apps/app.entity';
import { Network } from '../networks/network.entity';
import type { GraphQLContext } from '../graphql/context';
import { Callback } from './callback.entity';

@InputType()
export class HttpHeaderInput {
  @Field(() => String) name: string;
  @Field(() => String) value: string;
}

@InputType('EventMappingInput')
export class EventMappingInput {
  @Field(() => String) eventName: string;
  @Field(() => String, { nullable: true, description: "the partner's name for it; null: the event's own name" }) partnerEventName?: string | null;
  @Field(() => ValueSharing, { nullable: true, description: 'default VALUES_AND_REVENUE' }) share?: ValueSharing | null;
}

@InputType('ParamConditionInput')
export class ParamConditionInput {
  @Field(() => String) path: string;
  @Field(() => [String]) values: string[];
}

@InputType('CallbackConditionsInput')
export class CallbackConditionsInput {
  @Field(() => [String], { nullable: true, description: 'ISO 3166-1 alpha-2; the event must be from one of them' }) countries?: string[] | null;
  @Field(() => [String], { nullable: true }) excludeCountries?: string[] | null;
  @Field(() => [Platform], { nullable: true }) platforms?: Platform[] | null;
  @Field(() => Float, { nullable: true, description: 'inclusive; an event without revenue fails it' }) minRevenue?: number | null;
  @Field(() => [ParamConditionInput], { nullable: true, description: 'each path\'s value (as text) must be one of its values' }) params?: ParamConditionInput[] | null;
}

@InputType()
export class CreateCallbackInput {
  @Field(() => ID) appId: string;
  @Field(() => ID, { nullable: true }) networkId?: string | null;
  @Field(() => String) name: string;
  @Field(() => Boolean, { nullable: true }) enabled?: boolean | null;
  @Field(() => HttpMethod, { nullable: true, description: 'default: POST when a bodyTemplate is given, else GET' }) method?: HttpMethod | null;
  @Field(() => String) urlTemplate: string;
  @Field(() => String, { nullable: true }) bodyTemplate?: string | null;
  @Field(() => [HttpHeaderInput], { nullable: true }) headers?: HttpHeaderInput[] | null;
  @Field(() => [String], { nullable: true }) eventNames?: string[] | null;
  @Field(() => Boolean, { nullable: true }) attributedOnly?: boolean | null;
  @Field(() => Int, { nullable: true, description: '1 to 20, default 10' }) maxAttempts?: number | null;
  @Field(() => Int, { nullable: true, description: '100 to 30000, default 10000' }) timeoutMs?: number | null;
  @Field(() => Boolean, { nullable: true, description: 'true: generate a signing secret and sign every postback' }) signing?: boolean | null;
  @Field(() => [EventMappingInput], { nullable: true }) eventMappings?: EventMappingInput[] | null;
  @Field(() => CallbackConditionsInput, { nullable: true }) conditions?: CallbackConditionsInput | null;
  @Field(() => Int, { nullable: true, description: '1 to 365 days after the touchpoint; null: no window' }) postbackWindowDays?: number | null;
  @Field(() => Int, { nullable: true, description: '0 to 86400, default 0' }) delaySeconds?: number | null;
  @Field(() => Int, { nullable: true, description: 'most requests per second to this callback across all processes (1..10000); null: no limit' }) maxRequestsPerSecond?: number | null;
  @Field(() => Int, { nullable: true, description: 'disable after this many hours (1..720) with failures only; null: never' }) autoDisableAfterHours?: number | null;
}

@InputType()
export class UpdateCallbackInput {
  @Field(() => ID, { nullable: true, description: 'null detaches the callback from its network' }) networkId?: string | null;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => Boolean, { nullable: true }) enabled?: boolean | null;
  @Field(() => HttpMethod, { nullable: true }) method?: HttpMethod | null;
  @Field(() => String, { nullable: true }) urlTemplate?: string | null;
  @Field(() => String, { nullable: true, description: 'null removes the body' }) bodyTemplate?: string | null;
  @Field(() => [HttpHeaderInput], { nullable: true }) headers?: HttpHeaderInput[] | null;
  @Field(() => [String], { nullable: true }) eventNames?: string[] | null;
  @Field(() => Boolean, { nullable: true }) attributedOnly?: boolean | null;
  @Field(() => Int, { nullable: true }) maxAttempts?: number | null;
  @Field(() => Int, { nullable: true }) timeoutMs?: number | null;
  @Field(() => Boolean, { nullable: true, description: 'true: sign (keeps an existing secret); false: stop signing and drop the secret' }) signing?: boolean | null;
  @Field(() => [EventMappingInput], { nullable: true, description: 'replaces the list' }) eventMappings?: EventMappingInput[] | null;
  @Field(() => CallbackConditionsInput, { nullable: true, description: 'replaces every condition' }) conditions?: CallbackConditionsInput | null;
  @Field(() => Int, { nullable: true, description: '1 to 365 days after the touchpoint; null removes the window' }) postbackWindowDays?: number | null;
  @Field(() => Int, { nullable: true, description: '0 to 86400' }) delaySeconds?: number | null;
  @Field(() => Int, { nullable: true, description: 'most requests per second to this callback across all processes (1..10000); null: no limit' }) maxRequestsPerSecond?: number | null;
  @Field(() => Int, { nullable: true, description: 'disable after this many hours (1..720) with failures only; null: never' }) autoDisableAfterHours?: number | null;
}

@Resolver(() => Callback)
export class CallbackResolver {
  @Query(() => Callback, { nullable: true })
  callback(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Callback | null> {
    requireAdmin(ctx.principal);
    return ctx.services.callbacks.findById(id);
  }

  @Mutation(() => Callback)
  createCallback(@Arg('input', () => CreateCallbackInput) input: CreateCallbackInput, @Ctx() ctx: GraphQLContext): Promise<Callback> {
    requireAdmin(ctx.principal);
    return ctx.services.callbacks.create(input);
  }

  @Mutation(() => Callback)
  updateCallback(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateCallbackInput) input: UpdateCallbackInput, @Ctx() ctx: GraphQLContext): Promise<Callback> {
    requireAdmin(ctx.principal);
    return ctx.services.callbacks.update(id, input);
  }

  @Mutation(() => Boolean)
  deleteCallback(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    requireAdmin(ctx.principal);
    return ctx.services.callbacks.delete(id);
  }

  @FieldResolver(() => App)
  async app(@Root() callback: Callback, @Ctx() ctx: GraphQLContext): Promise<App> {
    const app = await ctx.loaders.app.load(callback.appId);
    if (!app) throw new Error(`callback ${callback.id} points at missing app ${callback.appId}`);
    return app;
  }

  @FieldResolver(() => Network, { nullable: true, description: 'the partner this postback goes to; null: any destination (the advertiser\'s own server, a BI tool)' })
  network(@Root() callback: Callback, @Ctx() ctx: GraphQLContext): Promise<Network | null> | null {
    return callback.networkId ? ctx.loaders.network.load(callback.networkId) : null;
  }

  @FieldResolver(() => String, { nullable: true, description: 'Standard Webhooks secret (whsec_...); null when signing is off; ADMIN keys only' })
  signingSecret(@Root() callback: Callback, @Ctx() ctx: GraphQLContext): string | null {
    assertAdminField(ctx.principal, 'signingSecret');
    return callback.signingSecret;
  }
}
