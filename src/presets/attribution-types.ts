// STAND-INS until issue #14 (attribution) is merged, which defines the same GraphQL types:
// ValueSharing in src/common/enums.ts (registered in src/graphql/register-enums.ts),
// EventMapping in src/callbacks/callback.entity.ts, EventMappingInput in
// src/callbacks/callback.resolver.ts. At merge: delete this file and import those instead
// (the GraphQL names are the same, so two definitions cannot be served together).
import { Field, InputType, ObjectType, registerEnumType } from 'type-graphql';

export enum ValueSharing {
  NONE = 'NONE',
  VALUES = 'VALUES',
  VALUES_AND_REVENUE = 'VALUES_AND_REVENUE',
}

registerEnumType(ValueSharing, {
  name: 'ValueSharing',
  description: 'NONE: no values or revenue reach the partner. VALUES: params but no revenue. VALUES_AND_REVENUE: everything.',
});

@ObjectType('EventMapping')
export class EventMapping {
  @Field(() => String)
  eventName: string;

  @Field(() => String, { nullable: true, description: "the name the partner expects ({{partner_event_name}}); null: the event's own name" })
  partnerEventName: string | null;

  @Field(() => ValueSharing)
  share: ValueSharing;
}

@InputType('EventMappingInput')
export class EventMappingInput {
  @Field(() => String) eventName: string;
  @Field(() => String, { nullable: true, description: "the partner's name for it; null: the event's own name" }) partnerEventName?: string | null;
  @Field(() => ValueSharing, { nullable: true, description: 'default VALUES_AND_REVENUE' }) share?: ValueSharing | null;
}
