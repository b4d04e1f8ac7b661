import { Ctx, Field, FieldResolver, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { ApiKeyRole } from '../common/enums';
import { App } from '../apps/app.entity';
import { Network } from '../networks/network.entity';
import type { GraphQLContext } from '../graphql/context';
import { ApiKey } from './api-key.entity';
import { Principal, requirePrincipal } from './principal';

/**
 * Who the calling key is. A client (the console) learns its role and binding here, so it
 * can show and fetch only what that key may read instead of probing and catching FORBIDDEN.
 */
@ObjectType('Viewer', { description: 'the API key making this request' })
export class Viewer {
  @Field(() => ApiKeyRole) role: ApiKeyRole;
  principal: Principal;
}

@Resolver(() => Viewer)
export class ViewerResolver {
  @Query(() => Viewer, { description: 'the calling key: its role and what it is bound to; UNAUTHENTICATED without a valid key' })
  viewer(@Ctx() ctx: GraphQLContext): Viewer {
    const principal = requirePrincipal(ctx.principal);
    return { role: principal.role, principal };
  }

  @FieldResolver(() => ApiKey, { nullable: true, description: 'the key itself; null for the bootstrap ADMIN_API_KEY, which is not stored' })
  apiKey(@Root() viewer: Viewer, @Ctx() ctx: GraphQLContext): Promise<ApiKey | null> | null {
    return viewer.principal.keyId ? ctx.services.apiKeys.findById(viewer.principal.keyId) : null;
  }

  @FieldResolver(() => App, { nullable: true, description: 'the app an SDK key records for' })
  app(@Root() viewer: Viewer, @Ctx() ctx: GraphQLContext): Promise<App | null> | null {
    return viewer.principal.role === ApiKeyRole.SDK ? ctx.loaders.app.load(viewer.principal.appId) : null;
  }

  @FieldResolver(() => Network, { nullable: true, description: 'the network whose deliveries a PARTNER key reads' })
  network(@Root() viewer: Viewer, @Ctx() ctx: GraphQLContext): Promise<Network | null> | null {
    return viewer.principal.role === ApiKeyRole.PARTNER ? ctx.loaders.network.load(viewer.principal.networkId) : null;
  }
}
