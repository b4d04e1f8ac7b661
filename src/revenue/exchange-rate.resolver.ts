import { Arg, Ctx, Field, Float, InputType, Mutation, Query, Resolver } from 'type-graphql';
import { requireAdmin } from '../auth/principal';
import type { GraphQLContext } from '../graphql/context';
import { ExchangeRate } from './exchange-rate.entity';

@InputType('ExchangeRateInput')
export class ExchangeRateInput {
  @Field(() => String, { description: 'ISO 4217, any case' }) currency: string;
  @Field(() => Float, { description: 'units of the currency per 1 USD' }) perUsd: number;
}

@Resolver(() => ExchangeRate)
export class ExchangeRateResolver {
  @Query(() => [ExchangeRate], { description: "the rates in force on a date (YYYY-MM-DD): each currency's latest rate on or before it, at most 7 days old" })
  exchangeRates(@Arg('date', () => String) date: string, @Ctx() ctx: GraphQLContext): Promise<ExchangeRate[]> {
    requireAdmin(ctx.principal);
    return ctx.services.exchangeRates.inForce(date);
  }

  @Mutation(() => [ExchangeRate], { description: 'stores the rates of one day (YYYY-MM-DD); a second call for the same day replaces them' })
  setExchangeRates(
    @Arg('date', () => String) date: string,
    @Arg('rates', () => [ExchangeRateInput]) rates: ExchangeRateInput[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<ExchangeRate[]> {
    requireAdmin(ctx.principal);
    return ctx.services.exchangeRates.setDay(date, rates);
  }
}
