import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { HttpMethod } from '../common/enums';
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
