import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, DeleteDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { HttpMethod } from '../common/enums';
import { ID_COLUMN, TIME_COLUMN, jsonTransformer } from '../db/columns';

@ObjectType('HttpHeader')
export class HttpHeader {
  @Field(() => String)
  name: string;

  @Field(() => String)
  value: string;
}

/** A postback configuration. `app` and `network` are resolved by CallbackResolver through loaders. */
@ObjectType('Callback')
@Entity('callback')
@Index('IDX_callback_app', ['appId'])
@Index('IDX_callback_network', ['networkId'])
export class Callback {
  @Field(() => ID)
  @PrimaryColumn(ID_COLUMN)
  id: string;

  @Column(ID_COLUMN)
  appId: string;

  @Column({ ...ID_COLUMN, nullable: true })
  networkId: string | null;

  @Field(() => String)
  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Field(() => Boolean)
  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Field(() => HttpMethod)
  @Column({ type: 'varchar', length: 8 })
  method: HttpMethod;

  @Field(() => String)
  @Column({ type: 'text' })
  urlTemplate: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  bodyTemplate: string | null;

  @Field(() => [HttpHeader])
  @Column({ type: 'text', transformer: jsonTransformer })
  headers: HttpHeader[];

  @Field(() => [String], { description: 'events that fire it; empty: every event' })
  @Column({ type: 'text', transformer: jsonTransformer })
  eventNames: string[];

  @Field(() => Boolean, { description: 'fire only for events attributed to `network`' })
  @Column({ type: 'boolean', default: false })
  attributedOnly: boolean;

  @Field(() => Int)
  @Column({ type: 'int' })
  maxAttempts: number;

  @Field(() => Int)
  @Column({ type: 'int' })
  timeoutMs: number;

  /** Exposed through CallbackResolver.signingSecret, which checks for ADMIN. */
  @Column({ type: 'varchar', length: 100, nullable: true })
  signingSecret: string | null;

  @Field(() => Date)
  @CreateDateColumn(TIME_COLUMN)
  createdAt: Date;

  @Field(() => Date)
  @UpdateDateColumn(TIME_COLUMN)
  updatedAt: Date;

  @DeleteDateColumn({ ...TIME_COLUMN, nullable: true })
  deletedAt: Date | null;
}
