import { Arg, Ctx, Field, FieldResolver, ID, InputType, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { ApiKeyRole } from '../common/enums';
import { App } from '../apps/app.entity';
import { Network } from '../networks/network.entity';
import type { GraphQLContext } from '../graphql/context';
import { ApiKey } from './api-key.entity';
import { requireAdmin } from './principal';

@ObjectType('CreatedApiKey', { description: 'the secret is shown here once and stored only as a hash' })
export class CreatedApiKey {
  @Field(() => ApiKey) apiKey: ApiKey;
  @Field(() => String) secret: string;
}

@InputType()
export class CreateApiKeyInput {
  @Field(() => String) name: string;
  @Field(() => ApiKeyRole) role: ApiKeyRole;
  @Field(() => ID, { nullable: true, description: 'required for SDK keys' }) appId?: string | null;
  @Field(() => ID, { nullable: true, description: 'required for PARTNER keys' }) networkId?: string | null;
}

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  @Query(() => [ApiKey])
  apiKeys(@Ctx() ctx: GraphQLContext): Promise<ApiKey[]> {
    requireAdmin(ctx.principal);
    return ctx.services.apiKeys.list();
  }

  @Mutation(() => CreatedApiKey)
  createApiKey(@Arg('input', () => CreateApiKeyInput) input: CreateApiKeyInput, @Ctx() ctx: GraphQLContext): Promise<CreatedApiKey> {
    requireAdmin(ctx.principal);
    return ctx.services.apiKeys.create(input);
  }

  @Mutation(() => Boolean)
  revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    requireAdmin(ctx.principal);
    return ctx.services.apiKeys.revoke(id);
  }

  @FieldResolver(() => App, { nullable: true })
  app(@Root() key: ApiKey, @Ctx() ctx: GraphQLContext): Promise<App | null> | null {
    return key.appId ? ctx.loaders.app.load(key.appId) : null;
  }

  @FieldResolver(() => Network, { nullable: true })
  network(@Root() key: ApiKey, @Ctx() ctx: GraphQLContext): Promise<Network | null> | null {
    return key.networkId ? ctx.loaders.network.load(key.networkId) : null;
  }
}
