import { Arg, Ctx, Field, FieldResolver, Float, ID, InputType, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Platform } from '../common/enums';
import { requireAdmin } from '../auth/principal';
import { Callback } from '../callbacks/callback.entity';
import { Macro } from '../macros/macro.entity';
import type { GraphQLContext } from '../graphql/context';
import { App } from './app.entity';

@InputType()
export class CreateAppInput {
  @Field(() => String) name: string;
  @Field(() => String) bundleId: string;
  @Field(() => Platform) platform: Platform;
  @Field(() => Int, { nullable: true, description: 'how long touchpoints are remembered, 1..730 days, default 90' }) attributionMemoryDays?: number | null;
  @Field(() => Float, { nullable: true, description: "the store's cut of gross revenue in percent, 0..100, default 0" }) storeCutPercent?: number | null;
}

@InputType()
export class UpdateAppInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) bundleId?: string | null;
  @Field(() => Platform, { nullable: true }) platform?: Platform | null;
  @Field(() => Int, { nullable: true, description: '1..730 days; applies to later lookups (rows already remembered keep their retention date)' }) attributionMemoryDays?: number | null;
  @Field(() => Float, { nullable: true, description: '0..100' }) storeCutPercent?: number | null;
}

@Resolver(() => App)
export class AppResolver {
  @Query(() => [App])
  apps(@Ctx() ctx: GraphQLContext): Promise<App[]> {
    requireAdmin(ctx.principal);
    return ctx.services.apps.list();
  }

  @Query(() => App, { nullable: true })
  app(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<App | null> {
    requireAdmin(ctx.principal);
    return ctx.services.apps.findById(id);
  }

  @Mutation(() => App)
  createApp(@Arg('input', () => CreateAppInput) input: CreateAppInput, @Ctx() ctx: GraphQLContext): Promise<App> {
    requireAdmin(ctx.principal);
    return ctx.services.apps.create(input);
  }

  @Mutation(() => App)
  updateApp(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateAppInput) input: UpdateAppInput, @Ctx() ctx: GraphQLContext): Promise<App> {
    requireAdmin(ctx.principal);
    return ctx.services.apps.update(id, input);
  }

  @Mutation(() => Boolean)
  deleteApp(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    requireAdmin(ctx.principal);
    return ctx.services.apps.delete(id);
  }

  @FieldResolver(() => [Callback])
  callbacks(@Root() app: App, @Ctx() ctx: GraphQLContext): Promise<Callback[]> {
    requireAdmin(ctx.principal);
    return ctx.services.callbacks.listForApp(app.id);
  }

  @FieldResolver(() => [Macro])
  macros(@Root() app: App, @Ctx() ctx: GraphQLContext): Promise<Macro[]> {
    requireAdmin(ctx.principal);
    return ctx.services.macros.listForApp(app.id);
  }

}
