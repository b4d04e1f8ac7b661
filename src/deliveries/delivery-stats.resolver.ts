// deliveryStats: figures of a window, read from the hourly rollup (delivery-stats-rollup.ts),
// never by scanning deliveries. Scoped like delivery lists (auth/scope.ts).
import { Arg, Ctx, Field, Float, ID, InputType, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { requirePrincipal } from '../auth/principal';
import { authorizeDeliveryFilter } from '../auth/scope';
import { BadUserInputError } from '../common/errors';
import type { GraphQLContext } from '../graphql/context';
import { StatsBucket, statsWindow, summarizeStats, TOP_ERRORS } from './delivery-stats';

@ObjectType('ErrorCount')
export class ErrorCount {
  @Field(() => String) error: string;
  @Field(() => Int) count: number;
}

@ObjectType('DeliveryStatsPoint')
export class DeliveryStatsPoint {
  @Field(() => Date) start: Date;
  @Field(() => Int) queued: number;
  @Field(() => Int) delivered: number;
  @Field(() => Int) failed: number;
  @Field(() => Int) attempts: number;
  @Field(() => Int, { nullable: true }) p50LatencyMs: number | null;
  @Field(() => Int, { nullable: true }) p95LatencyMs: number | null;
}

@ObjectType('DeliveryStats')
export class DeliveryStats {
  @Field(() => Int) queued: number;
  @Field(() => Int) delivered: number;
  @Field(() => Int) failed: number;
  @Field(() => Int) inProgress: number;
  @Field(() => Int) attempts: number;
  @Field(() => Float, { nullable: true, description: 'delivered / (delivered + failed); null when neither' }) successRate: number | null;
  @Field(() => Int, { nullable: true }) p50LatencyMs: number | null;
  @Field(() => Int, { nullable: true }) p95LatencyMs: number | null;
  @Field(() => Int, { nullable: true }) p99LatencyMs: number | null;
  @Field(() => [ErrorCount]) topErrors: ErrorCount[];
  @Field(() => [DeliveryStatsPoint]) series: DeliveryStatsPoint[];
}

@InputType('StatsFilter')
export class StatsFilter {
  @Field(() => ID, { nullable: true }) appId?: string | null;
  @Field(() => ID, { nullable: true }) networkId?: string | null;
  @Field(() => ID, { nullable: true }) callbackId?: string | null;
}

const HOUR_MS = 3_600_000;
/** The longest window per bucket: a series of at most 744 hours or 366 days. */
export const MAX_STATS_WINDOW_MS = { [StatsBucket.HOUR]: 31 * 24 * HOUR_MS, [StatsBucket.DAY]: 366 * 24 * HOUR_MS } as const;
/** Without a bucket: hours for a window up to this long, days beyond. */
export const HOURLY_UP_TO_MS = 7 * 24 * HOUR_MS;

@Resolver()
export class DeliveryStatsResolver {
  @Query(() => DeliveryStats, {
    description:
      'Figures of the deliveries created in [from, to) and of their attempts; `from` is rounded down\nand `to` up to the UTC hour; series buckets start on the UTC hour or day. ADMIN: any;\nPARTNER: its network\'s; SDK: its app\'s (naming another app or network: FORBIDDEN).',
  })
  async deliveryStats(
    @Arg('filter', () => StatsFilter, { nullable: true }) filter: StatsFilter | null,
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
    @Arg('bucket', () => StatsBucket, { nullable: true }) bucket: StatsBucket | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeliveryStats> {
    const principal = requirePrincipal(ctx.principal);
    if (to.getTime() <= from.getTime()) throw BadUserInputError.field('to', 'must be after from');
    const window = statsWindow(from, to);
    const span = window.to.getTime() - window.from.getTime();
    const chosen = bucket ?? (span <= HOURLY_UP_TO_MS ? StatsBucket.HOUR : StatsBucket.DAY);
    if (span > MAX_STATS_WINDOW_MS[chosen]) {
      throw BadUserInputError.field('from', `a ${chosen} series covers at most ${MAX_STATS_WINDOW_MS[chosen] / (24 * HOUR_MS)} days`);
    }
    const scoped = await authorizeDeliveryFilter(principal, { appId: filter?.appId ?? null, networkId: filter?.networkId ?? null, callbackId: filter?.callbackId ?? null }, ctx.services.deliveries);
    const { rows, errors } = await ctx.services.deliveryStats.read(scoped, window, TOP_ERRORS, chosen === StatsBucket.DAY);
    return summarizeStats({ rows, errors, window, bucket: chosen });
  }
}
