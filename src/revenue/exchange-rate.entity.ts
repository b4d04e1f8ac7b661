import { Field, Float, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One currency's rate on one day, as set by setExchangeRates. Statements: exchange-rate.statements.ts. */
@ObjectType('ExchangeRate')
@Entity('exchange_rate')
export class ExchangeRate {
  /** YYYY-MM-DD (UTC): text compares in date order on both databases. */
  @Field(() => String, { description: 'the day this rate was set for (YYYY-MM-DD)' })
  @PrimaryColumn({ type: 'varchar', length: 10 })
  date: string;

  @Field(() => String, { description: 'ISO 4217 code' })
  @PrimaryColumn({ type: 'varchar', length: 3 })
  currency: string;

  @Field(() => Float, { description: 'units of the currency per 1 USD' })
  @Column({ type: 'double' })
  perUsd: number;
}
