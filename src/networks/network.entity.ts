import { Field, ID, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, DeleteDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { ID_COLUMN, LIVE_MARKER_COLUMN, TIME_COLUMN } from '../db/columns';

@ObjectType('Network')
@Entity('network')
@Index('UQ_network_slug', ['slug', 'isLive'], { unique: true })
export class Network {
  @Field(() => ID)
  @PrimaryColumn(ID_COLUMN)
  id: string;

  @Field(() => String)
  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Field(() => String, { description: 'lowercase [a-z0-9_-], unique; events name their attributed network by slug' })
  @Column({ type: 'varchar', length: 64 })
  slug: string;

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
}
