import { Field, ID, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { ApiKeyRole } from '../common/enums';
import { ID_COLUMN, TIME_COLUMN } from '../db/columns';

@ObjectType('ApiKey')
@Entity('api_key')
@Index('UQ_api_key_hash', ['secretHash'], { unique: true })
export class ApiKey {
  @Field(() => ID)
  @PrimaryColumn(ID_COLUMN)
  id: string;

  @Field(() => String)
  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Field(() => ApiKeyRole)
  @Column({ type: 'varchar', length: 16 })
  role: ApiKeyRole;

  @Column({ ...ID_COLUMN, nullable: true })
  appId: string | null;

  @Column({ ...ID_COLUMN, nullable: true })
  networkId: string | null;

  /** SHA-256 of the secret: secrets carry 256 random bits, so a fast hash is enough. */
  @Column({ type: 'varchar', length: 64 })
  secretHash: string;

  /** The first characters of the secret, safe to log and show, to tell keys apart. */
  @Column({ type: 'varchar', length: 16 })
  secretPrefix: string;

  @Field(() => Date)
  @CreateDateColumn(TIME_COLUMN)
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  @Column({ ...TIME_COLUMN, nullable: true })
  lastUsedAt: Date | null;

  @Field(() => Date, { nullable: true })
  @Column({ ...TIME_COLUMN, nullable: true })
  revokedAt: Date | null;
}
