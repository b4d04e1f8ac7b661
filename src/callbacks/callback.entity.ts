import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, DeleteDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { HttpMethod, Platform, ValueSharing } from '../common/enums';
import { ID_COLUMN, TIME_COLUMN, jsonTransformer } from '../db/columns';
import { CallbackState } from '../dispatch/circuit-breaker';

@ObjectType('HttpHeader')
export class HttpHeader {
  @Field(() => String)
  name: string;

  @Field(() => String)
  value: string;
}

@ObjectType('EventMapping')
export class EventMapping {
  @Field(() => String)
  eventName: string;

  @Field(() => String, { nullable: true, description: "the name the partner expects ({{partner_event_name}}); null: the event's own name" })
  partnerEventName: string | null;

  @Field(() => ValueSharing)
  share: ValueSharing;
}

@ObjectType('ParamCondition')
export class ParamCondition {
  @Field(() => String, { description: 'a dot path into the event params, as PARAM macros use' })
  path: string;

  @Field(() => [String], { description: 'the value at path, as text, must be one of these' })
  values: string[];
}

@ObjectType('CallbackConditions', { description: 'Every set condition must hold for the callback to fire. Empty lists mean no condition.' })
export class CallbackConditions {
  @Field(() => [String])
  countries: string[];

  @Field(() => [String])
  excludeCountries: string[];

  @Field(() => [Platform])
  platforms: Platform[];

  @Field(() => Float, { nullable: true, description: 'inclusive, compared with revenue as sent; an event without revenue fails it' })
  minRevenue: number | null;

  @Field(() => [ParamCondition])
  params: ParamCondition[];
}

export function noConditions(): CallbackConditions {
  return { countries: [], excludeCountries: [], platforms: [], minRevenue: null, params: [] };
}

/** JSON in a nullable text column (rows written before these columns existed read as the empty value). */
function jsonOr<T>(empty: () => T) {
  return {
    to: (value: T | null | undefined) => (value === null || value === undefined ? null : JSON.stringify(value)),
    from: (value: string | null | undefined): T => (value === null || value === undefined ? empty() : (JSON.parse(value) as T)),
  };
}


@ObjectType('CallbackHealth')
export class CallbackHealthView {
  @Field(() => CallbackState) state: CallbackState;
  @Field(() => Int) consecutiveFailures: number;
  @Field(() => Date, { nullable: true }) lastSuccessAt: Date | null;
  @Field(() => Date, { nullable: true }) lastFailureAt: Date | null;
  @Field(() => Date, { nullable: true }) pausedUntil: Date | null;
  @Field(() => String, { nullable: true }) disabledReason: string | null;
  @Field(() => Date) changedAt: Date;
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

  @Field(() => [EventMapping])
  @Column({ type: 'text', nullable: true, transformer: jsonOr<EventMapping[]>(() => []) })
  eventMappings: EventMapping[];

  @Field(() => CallbackConditions)
  @Column({ type: 'text', nullable: true, transformer: jsonOr<CallbackConditions>(noConditions) })
  conditions: CallbackConditions;

  @Field(() => Int, { nullable: true, description: 'events later than this many days (1..365) after their touchpoint are not sent; null: no window' })
  @Column({ type: 'int', nullable: true })
  postbackWindowDays: number | null;

  @Field(() => Int, { description: 'the first attempt waits this long after the event is recorded (0..86400)' })
  @Column({ type: 'int', default: 0 })
  delaySeconds: number;

  // Health (the circuit breaker, dispatch/circuit-breaker.ts): read through Callback.health;
  // written only by callback-health.ts.
  @Column({ type: 'varchar', length: 16, default: 'HEALTHY' })
  healthState: CallbackState;

  @Column({ type: 'int', default: 0 })
  consecutiveFailures: number;

  @Column({ type: 'int', default: 0 })
  consecutiveRefusals: number;

  @Column({ ...TIME_COLUMN, nullable: true })
  failingSince: Date | null;

  @Column({ ...TIME_COLUMN, nullable: true })
  lastSuccessAt: Date | null;

  @Column({ ...TIME_COLUMN, nullable: true })
  lastFailureAt: Date | null;

  @Column({ ...TIME_COLUMN, nullable: true })
  pausedUntil: Date | null;

  @Column({ type: 'int', nullable: true })
  pauseMs: number | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  disabledReason: string | null;

  /** When the state last changed; null: never since it was created. */
  @Column({ ...TIME_COLUMN, nullable: true })
  healthChangedAt: Date | null;

  /** A PAUSED callback's probe is held by one process until this time (an atomic UPDATE takes it). */
  @Column({ ...TIME_COLUMN, nullable: true })
  probeLeaseUntil: Date | null;

  @Field(() => Int, { nullable: true, description: 'most requests per second sent to this callback, across all processes; null: no limit' })
  @Column({ type: 'int', nullable: true })
  maxRequestsPerSecond: number | null;

  @Field(() => Int, { nullable: true, description: 'disable after this many hours with failures only; null: never' })
  @Column({ type: 'int', nullable: true })
  autoDisableAfterHours: number | null;

  /** The rotated-out secret, still signing until previousSecretExpiresAt. */
  @Column({ type: 'varchar', length: 100, nullable: true })
  previousSigningSecret: string | null;

  /** Exposed through CallbackOperationsResolver.previousSecretExpiresAt: null once the overlap is over. */
  @Column({ ...TIME_COLUMN, nullable: true })
  previousSecretExpiresAt: Date | null;

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
