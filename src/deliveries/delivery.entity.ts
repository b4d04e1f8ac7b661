import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { DeliveryStatus, HttpMethod } from '../common/enums';
import { ID_COLUMN, TIME_COLUMN, jsonTransformer } from '../db/columns';
import { HttpHeader } from '../callbacks/callback.entity';
import { renderNotesTransformer } from '../revenue/render-notes';

/**
 * One postback to send: rendered once when queued (method, url, headers, body), so what a
 * delivery shows is what is sent on every attempt. url, body and headers are exposed
 * through DeliveryResolver, which hides them from SDK keys.
 */
@ObjectType('Delivery')
@Entity('delivery')
@Index('IDX_delivery_due', ['status', 'dueAt'])
@Index('IDX_delivery_due_at', ['dueAt'])
@Index('IDX_delivery_event', ['eventId'])
@Index('IDX_delivery_app', ['appId', 'id'])
@Index('IDX_delivery_network', ['networkId', 'id'])
@Index('IDX_delivery_callback', ['callbackId', 'id'])
export class Delivery {
  @Field(() => ID)
  @PrimaryColumn(ID_COLUMN)
  id: string;

  /** Event.id (the event's UUID), not the sender's key. */
  @Column(ID_COLUMN)
  eventId: string;

  @Column(ID_COLUMN)
  callbackId: string;

  @Column(ID_COLUMN)
  appId: string;

  @Column({ ...ID_COLUMN, nullable: true })
  networkId: string | null;

  @Field(() => DeliveryStatus)
  @Column({ type: 'varchar', length: 16 })
  status: DeliveryStatus;

  @Field(() => HttpMethod)
  @Column({ type: 'varchar', length: 8 })
  method: HttpMethod;

  @Column({ type: 'text' })
  url: string;

  @Column({ type: 'text', nullable: true })
  body: string | null;

  @Column({ type: 'text', transformer: jsonTransformer })
  headers: HttpHeader[];

  /** Copied from the callback when queued, so a later edit cannot stretch a running attempt past its lease. */
  @Column({ type: 'int' })
  timeoutMs: number;

  @Field(() => Int)
  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Field(() => Int)
  @Column({ type: 'int' })
  maxAttempts: number;

  @Field(() => Int, { nullable: true })
  @Column({ type: 'int', nullable: true })
  lastStatusCode: number | null;

  /** Exposed through DeliveryResolver, which hides it from SDK keys. */
  @Column({ type: 'text', nullable: true })
  lastError: string | null;

  @Field(() => Date, { nullable: true })
  @Column({ ...TIME_COLUMN, nullable: true })
  nextAttemptAt: Date | null;

  /**
   * When the dispatcher should next look at this row: the attempt time for PENDING and
   * RETRYING, the lease end for SENDING (a dead holder's row is taken again then), NULL once
   * DELIVERED or FAILED. The claim query scans IDX_delivery_due_at (dueAt alone) in due order.
   */
  @Column({ ...TIME_COLUMN, nullable: true })
  dueAt: Date | null;

  /** The worker holding the SENDING lease, so only the holder may record the attempt. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  leaseOwner: string | null;

  /**
   * Room for the lease owner, kept in the record of a delivery that waits for a claim (queued
   * and not inserted claimed, RETRYING, released, redelivered): LEASE_ROOM, as long as the
   * longest lease owner, which the claim sets to NULL as it writes leaseOwner. InnoDB updates
   * a record within its page only while it does not grow, and UUIDv7 ids fill the delivery
   * pages in order, so a claim that grew the record (NULL to a lease owner) reorganised or
   * split its page: about 4 KB of redo per claim instead of 0.8 KB (BENCHMARKS.md, "What
   * MariaDB writes per postback"). A storage detail of the SQL stores: never read
   * (select: false), never set on the entities the rest of the service sees.
   */
  @Column({ type: 'varchar', length: 64, nullable: true, select: false })
  leaseRoom?: string | null;

  @Field(() => Date, { nullable: true })
  @Column({ ...TIME_COLUMN, nullable: true })
  deliveredAt: Date | null;

  @Field(() => Date)
  @Column(TIME_COLUMN)
  createdAt: Date;

  @Field(() => Date)
  @Column(TIME_COLUMN)
  updatedAt: Date;

  /** Stored as JSON, NULL when empty (most deliveries): nothing extra on the hot path. */
  @Field(() => [String], { description: "why a macro rendered empty or was cut, e.g. 'revenue_usd: no USD rate for XYZ on 2026-11-28'" })
  @Column({ type: 'text', nullable: true, transformer: renderNotesTransformer })
  renderNotes: string[];
}
