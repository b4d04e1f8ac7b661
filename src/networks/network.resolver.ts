import { Arg, Ctx, Field, ID, InputType, Mutation, Query, Resolver } from 'type-graphql';
import { requireAdmin } from '../auth/principal';
import type { GraphQLContext } from '../graphql/context';
import { Network } from './network.entity';

@InputType()
export class CreateNetworkInput {
  @Field(() => String) name: string;
  @Field(() => String) slug: string;
}

@InputType()
export class UpdateNetworkInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) slug?: string | null;
}

@Resolver(() => Network)
export class NetworkResolver {
  @Query(() => [Network])
  networks(@Ctx() ctx: GraphQLContext): Promise<Network[]> {
    requireAdmin(ctx.principal);
    return ctx.services.networks.list();
  }

  @Query(() => Network, { nullable: true })
  network(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Network | null> {
    requireAdmin(ctx.principal);
    return ctx.services.networks.findById(id);
  }

  @Mutation(() => Network)
  createNetwork(@Arg('input', () => CreateNetworkInput) input: CreateNetworkInput, @Ctx() ctx: GraphQLContext): Promise<Network> {
    requireAdmin(ctx.principal);
    return ctx.services.networks.create(input);
  }

  @Mutation(() => Network)
  updateNetwork(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateNetworkInput) input: UpdateNetworkInput, @Ctx() ctx: GraphQLContext): Promise<Network> {
    requireAdmin(ctx.principal);
    return ctx.services.networks.update(id, input);
  }

  @Mutation(() => Boolean)
  deleteNetwork(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    requireAdmin(ctx.principal);
    return ctx.services.networks.delete(id);
  }
}
