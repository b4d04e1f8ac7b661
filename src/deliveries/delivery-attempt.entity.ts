import { Field, Int, ObjectType } from 'type-graphql';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { ID_COLUMN, TIME_COLUMN } from '../db/columns';

/** Every attempt is a row. (deliveryId, number) is unique: two workers can never record the same attempt. */
@ObjectType('DeliveryAttempt')
@Entity('delivery_attempt')
@Index('UQ_delivery_attempt_number', ['deliveryId', 'number'], { unique: true })
export class DeliveryAttempt {
  @PrimaryColumn(ID_COLUMN)
  id: string;

  @Column(ID_COLUMN)
  deliveryId: string;

  @Field(() => Int)
  @Column({ type: 'int' })
  number: number;

  @Field(() => Date)
  @Column(TIME_COLUMN)
  startedAt: Date;

  @Field(() => Int, { nullable: true })
  @Column({ type: 'int', nullable: true })
  statusCode: number | null;

  @Field(() => Int)
  @Column({ type: 'int' })
  latencyMs: number;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  responseSnippet: string | null;
}
