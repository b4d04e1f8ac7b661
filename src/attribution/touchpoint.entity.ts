import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { AttributionType } from '../common/enums';
import { ID_COLUMN, TIME_COLUMN } from '../db/columns';
import type { IdentifierKind } from './attribution';

/**
 * An attribution touchpoint remembered under one of its user's identifiers: an event with a
 * configured network and an attribution type gives one row per identifier it carries
 * (deviceId, advertisingId, customerUserId). Written in the event's transaction, read once
 * per later event by IDX_touchpoint_lookup, purged by retention after `expiresAt`.
 * Its statements live in touchpoint.statements.ts.
 */
@Entity('attribution_touchpoint')
@Index('IDX_touchpoint_lookup', ['appId', 'identifierKind', 'identifierValue', 'occurredAt'])
@Index('IDX_touchpoint_expires', ['expiresAt'])
export class Touchpoint {
  @PrimaryColumn(ID_COLUMN)
  id: string;

  @Column(ID_COLUMN)
  appId: string;

  /** d: deviceId, a: advertisingId, c: customerUserId. */
  @Column({ type: 'varchar', length: 1 })
  identifierKind: IdentifierKind;

  @Column({ type: 'varchar', length: 128 })
  identifierValue: string;

  @Column(TIME_COLUMN)
  occurredAt: Date;

  /** occurredAt + the app's attributionMemoryDays when it was recorded: retention deletes rows past it. */
  @Column(TIME_COLUMN)
  expiresAt: Date;

  /** The touchpoint event (Event.id). */
  @Column(ID_COLUMN)
  eventUuid: string;

  @Column(ID_COLUMN)
  networkId: string;

  @Column({ type: 'varchar', length: 64 })
  networkSlug: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  campaignId: string | null;

  @Column({ type: 'varchar', length: 16 })
  attribution: AttributionType;
}
