import { Field, ID, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { MacroSource, MacroTransform } from '../common/enums';
import { ID_COLUMN, TIME_COLUMN } from '../db/columns';

/** Scope of a global macro in the `scope` column (an app's macros use the app id). */
export const GLOBAL_MACRO_SCOPE = 'global';

@ObjectType('Macro')
@Entity('macro')
@Index('UQ_macro_scope_name', ['scope', 'name'], { unique: true })
export class Macro {
  @Field(() => ID)
  @PrimaryColumn(ID_COLUMN)
  id: string;

  @Column({ ...ID_COLUMN, nullable: true })
  appId: string | null;

  /** appId, or GLOBAL_MACRO_SCOPE: a unique key needs a non-NULL column (NULLs never collide). */
  @Column({ type: 'varchar', length: 36 })
  scope: string;

  @Field(() => String)
  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Field(() => MacroSource)
  @Column({ type: 'varchar', length: 16 })
  source: MacroSource;

  @Field(() => String, { nullable: true })
  @Column({ type: 'varchar', length: 255, nullable: true })
  path: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  value: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  defaultValue: string | null;

  @Field(() => MacroTransform)
  @Column({ type: 'varchar', length: 16 })
  transform: MacroTransform;

  @Field(() => Date)
  @CreateDateColumn(TIME_COLUMN)
  createdAt: Date;

  @Field(() => Date)
  @UpdateDateColumn(TIME_COLUMN)
  updatedAt: Date;
}
