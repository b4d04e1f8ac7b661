import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, DeleteDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { Platform } from '../common/enums';
import { ID_COLUMN, LIVE_MARKER_COLUMN, TIME_COLUMN } from '../db/columns';

@ObjectType('App')
@Entity('app')
@Index('UQ_app_bundle_platform', ['bundleId', 'platform', 'isLive'], { unique: true })
export class App {
  @Field(() => ID)
  @PrimaryColumn(ID_COLUMN)
  id: string;

  @Field(() => String)
  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Field(() => String)
  @Column({ type: 'varchar', length: 255 })
  bundleId: string;

  @Field(() => Platform)
  @Column({ type: 'varchar', length: 16 })
  platform: Platform;

  @Field(() => Date)
  @CreateDateColumn(TIME_COLUMN)
  createdAt: Date;

  @Field(() => Date)
  @UpdateDateColumn(TIME_COLUMN)
  updatedAt: Date;

  @DeleteDateColumn({ ...TIME_COLUMN, nullable: true })
  deletedAt: Date | null;

  @Column(LIVE_MARKER_COLUMN)
  isLive: boolean | null;

  @Field(() => Int, { description: 'how long a touchpoint is remembered for later events (1..730)' })
  @Column({ type: 'int', default: 90 })
  attributionMemoryDays: number;

  @Field(() => Float, { description: "the store's share taken off gross revenue for the *_net macros, 0..100" })
  @Column({ type: 'double', default: 0 })
  storeCutPercent: number;
}
