import { Arg, Ctx, Field, FieldResolver, ID, InputType, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { MacroSource, MacroTransform } from '../common/enums';
import { requireAdmin, requirePrincipal } from '../auth/principal';
import { App } from '../apps/app.entity';
import type { GraphQLContext } from '../graphql/context';
import { BUILT_IN_MACROS } from './built-in-macros';
import { Macro } from './macro.entity';

@ObjectType('BuiltInMacro')
export class BuiltInMacro {
  @Field(() => String) name: string;
  @Field(() => String) description: string;
  @Field(() => String, { nullable: true }) example: string | null;
}

@InputType()
export class CreateMacroInput {
  @Field(() => ID, { nullable: true, description: 'null: a global macro' }) appId?: string | null;
  @Field(() => String) name: string;
  @Field(() => MacroSource) source: MacroSource;
  @Field(() => String, { nullable: true }) path?: string | null;
  @Field(() => String, { nullable: true }) value?: string | null;
  @Field(() => String, { nullable: true }) defaultValue?: string | null;
  @Field(() => MacroTransform, { nullable: true }) transform?: MacroTransform | null;
}

@InputType()
export class UpdateMacroInput {
  @Field(() => MacroSource, { nullable: true }) source?: MacroSource | null;
  @Field(() => String, { nullable: true }) path?: string | null;
  @Field(() => String, { nullable: true }) value?: string | null;
  @Field(() => String, { nullable: true }) defaultValue?: string | null;
  @Field(() => MacroTransform, { nullable: true }) transform?: MacroTransform | null;
}

@Resolver(() => Macro)
export class MacroResolver {
  @Query(() => [Macro], { description: "global macros and, with appId, that app's" })
  macros(@Arg('appId', () => ID, { nullable: true }) appId: string | null, @Ctx() ctx: GraphQLContext): Promise<Macro[]> {
    requireAdmin(ctx.principal);
    return ctx.services.macros.list(appId ?? null);
  }

  @Query(() => [BuiltInMacro])
  builtInMacros(@Ctx() ctx: GraphQLContext): BuiltInMacro[] {
    requirePrincipal(ctx.principal);
    return BUILT_IN_MACROS.map((m) => ({ ...m }));
  }

  @Mutation(() => Macro)
  createMacro(@Arg('input', () => CreateMacroInput) input: CreateMacroInput, @Ctx() ctx: GraphQLContext): Promise<Macro> {
    requireAdmin(ctx.principal);
    return ctx.services.macros.create(input);
  }

  @Mutation(() => Macro)
  updateMacro(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateMacroInput) input: UpdateMacroInput, @Ctx() ctx: GraphQLContext): Promise<Macro> {
    requireAdmin(ctx.principal);
    return ctx.services.macros.update(id, {
      source: input.source ?? undefined,
      transform: input.transform ?? undefined,
      ...(input.path !== undefined ? { path: input.path } : {}),
      ...(input.value !== undefined ? { value: input.value } : {}),
      ...(input.defaultValue !== undefined ? { defaultValue: input.defaultValue } : {}),
    });
  }

  @Mutation(() => Boolean)
  deleteMacro(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    requireAdmin(ctx.principal);
    return ctx.services.macros.delete(id);
  }

  @FieldResolver(() => App, { nullable: true, description: 'null: global, usable by every app' })
  app(@Root() macro: Macro, @Ctx() ctx: GraphQLContext): Promise<App | null> | null {
    return macro.appId ? ctx.loaders.app.load(macro.appId) : null;
  }
}
