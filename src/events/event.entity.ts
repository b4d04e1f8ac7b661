import { Field, Float, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { AttributionSource, AttributionType, Platform } from '../common/enums';
import { ID_COLUMN, TIME_COLUMN, jsonTransformer } from '../db/columns';
import { JSONObjectScalar } from '../graphql/scalars';

/**
 * A recorded event. Device identifiers are exposed through EventResolver, which nulls them
 * for partners when the event has limitAdTracking; so are its attribution fields (network,
 * networkSlug, campaignId, attribution, attributedAt), which a partner reads only when the
 * event is attributed to its own network.
 */
@ObjectType('Event')
@Entity('event')
@Index('UQ_event_app_event_id', ['appId', 'eventId'], { unique: true })
export class Event {
  @Field(() => ID)
  @PrimaryColumn(ID_COLUMN)
  id: string;

  @Column(ID_COLUMN)
  appId: string;

  @Field(() => String, { nullable: true, description: "the sender's idempotency key" })
  @Column({ type: 'varchar', length: 128, nullable: true })
  eventId: string | null;

  @Field(() => String)
  @Column({ type: 'varchar', length: 128 })
  name: string;

  @Field(() => Date)
  @Column(TIME_COLUMN)
  occurredAt: Date;

  @Field(() => Date)
  @Column(TIME_COLUMN)
  receivedAt: Date;

  @Column({ type: 'varchar', length: 128, nullable: true })
  advertisingId: string | null;

  @Column({ type: 'varchar', length: 45, nullable: true })
  ipAddress: string | null;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  userAgent: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'varchar', length: 2, nullable: true })
  country: string | null;

  @Field(() => Platform, { nullable: true })
  @Column({ type: 'varchar', length: 16, nullable: true })
  platform: Platform | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  campaignId: string | null;

  @Column({ ...ID_COLUMN, nullable: true })
  networkId: string | null;

  /** The attribution slug as the sender gave it (or as the inherited touchpoint's sender gave it), configured or not. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  networkSlug: string | null;

  @Field(() => Float, { nullable: true })
  @Column({ type: 'double', nullable: true })
  revenue: number | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'varchar', length: 3, nullable: true })
  currency: string | null;

  @Field(() => Boolean)
  @Column({ type: 'boolean', default: false })
  limitAdTracking: boolean;

  @Field(() => JSONObjectScalar, { nullable: true })
  @Column({ type: 'text', nullable: true, transformer: jsonTransformer })
  params: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: "the advertiser's own user id" })
  @Column({ type: 'varchar', length: 128, nullable: true })
  customerUserId: string | null;

  @Field(() => String, { nullable: true, description: 'IDFV, app-set id or another developer device id' })
  @Column({ type: 'varchar', length: 128, nullable: true })
  deviceId: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'varchar', length: 64, nullable: true })
  osVersion: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'varchar', length: 64, nullable: true })
  appVersion: string | null;

  /**
   * The attribution type the event carries: its own when it is a touchpoint (an `install` with
   * a network and no type is INSTALL), else that of the touchpoint it is attributed through.
   */
  @Column({ type: 'varchar', length: 16, nullable: true })
  attribution: AttributionType | null;

  @Field(() => AttributionSource)
  @Column({ type: 'varchar', length: 16, default: AttributionSource.NONE })
  attributionSource: AttributionSource;

  /** The touchpoint's time this event is attributed through (its own when it is one). */
  @Column({ ...TIME_COLUMN, nullable: true })
  attributedAt: Date | null;
}
