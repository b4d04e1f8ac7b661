import type { Principal } from '../auth/principal';
import type { Services } from '../services';
import type { Loaders } from './loaders';

// A type alias, not an interface: graphql-ws's useServer needs it to be assignable to Record<string, unknown>.
export type GraphQLContext = {
  principal: Principal | null;
  services: Services;
  loaders: Loaders;
};
