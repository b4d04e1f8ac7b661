import { Arg, Ctx, Field, FieldResolver, Float, ID, InputType, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { ApiKeyRole, AttributionType, HttpMethod, Platform } from '../common/enums';
import { requireAdmin, requirePrincipal } from '../auth/principal';
import { assertCanReadEvent, hidesDeviceIdentifiers } from '../auth/scope';
import { principalSeesAttribution } from '../auth/attribution-visibility';
import { App } from '../apps/app.entity';
import { HttpHeader } from '../callbacks/callback.entity';
import { UpdateCallbackInput } from '../callbacks/callback.resolver';
import { Delivery } from '../deliveries/delivery.entity';
import { Network } from '../networks/network.entity';
import type { GraphQLContext } from '../graphql/context';
import { JSONObjectScalar } from '../graphql/scalars';
import { Event } from './event.entity';
import type { EventInput } from './event-validation';

@InputType('RecordEventInput')
export class RecordEventInput implements EventInput {
  @Field(() => ID) appId: string;
  @Field(() => String, { nullable: true, description: 'idempotency key: the same (appId, eventId) recorded twice queues nothing new' }) eventId?: string | null;
  @Field(() => String) name: string;
  @Field(() => Date, { nullable: true, description: 'defaults to the time it was received' }) occurredAt?: Date | null;
  @Field(() => String, { nullable: true }) advertisingId?: string | null;
  @Field(() => String, { nullable: true }) ipAddress?: string | null;
  @Field(() => String, { nullable: true }) userAgent?: string | null;
  @Field(() => String, { nullable: true, description: 'ISO 3166-1 alpha-2, any case' }) country?: string | null;
  @Field(() => Platform, { nullable: true, description: "defaults to the app's platform" }) platform?: Platform | null;
  @Field(() => String, { nullable: true }) campaignId?: string | null;
  @Field(() => String, { nullable: true, description: 'slug of the network the user is attributed to; matched to configured slugs ignoring case and surrounding spaces' }) network?: string | null;
  @Field(() => Float, { nullable: true }) revenue?: number | null;
  @Field(() => String, { nullable: true, description: 'ISO 4217, any case' }) currency?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'true: device identifiers are left out of postbacks to partners' }) limitAdTracking?: boolean | null;
  @Field(() => JSONObjectScalar, { nullable: true, description: 'at most 16 KB as JSON, nested at most 32 levels deep' }) params?: Record<string, unknown> | null;
  @Field(() => String, { nullable: true, description: "the advertiser's own user id" }) customerUserId?: string | null;
  @Field(() => String, { nullable: true, description: 'IDFV, app-set id or another developer device id' }) deviceId?: string | null;
  @Field(() => String, { nullable: true }) osVersion?: string | null;
  @Field(() => String, { nullable: true }) appVersion?: string | null;
  @Field(() => AttributionType, { nullable: true, description: 'marks the event as a touchpoint; an `install` event with a network and no type counts as INSTALL' }) attribution?: AttributionType | null;
}

@ObjectType('RecordEventResult')
export class RecordEventResult {
  @Field(() => Event) event: Event;
  @Field(() => Boolean, { description: 'true: this (app, eventId) was recorded before; nothing new was queued' }) duplicate: boolean;
  @Field(() => [Delivery]) deliveries: Delivery[];
}

@ObjectType('RenderedPostback')
export class RenderedPostback {
  @Field(() => HttpMethod) method: HttpMethod;
  @Field(() => String) url: string;
  @Field(() => [HttpHeader], { description: 'the callback\'s rendered headers; the dispatcher adds User-Agent, webhook-id and the signature headers' }) headers: HttpHeader[];
  @Field(() => String, { nullable: true }) body: string | null;
  @Field(() => Boolean, { description: 'whether recording this event would fire the callback (enabled, event name, attribution)' }) wouldFire: boolean;
  @Field(() => String, { nullable: true, description: 'why it would not fire; null when it would' }) notFiredBecause: string | null;
  @Field(() => [String], { description: "why a macro rendered empty, e.g. 'revenue_usd: no USD rate for XYZ on 2026-11-28' (stored on the delivery as renderNotes)" }) renderNotes: string[];
}

@Resolver(() => Event)
export class EventResolver {
  @Mutation(() => RecordEventResult)
  async recordEvent(@Arg('input', () => RecordEventInput) input: RecordEventInput, @Ctx() ctx: GraphQLContext): Promise<RecordEventResult> {
    const [result] = await ctx.services.events.record(ctx.principal, [input], () => 'input');
    return result;
  }

  @Mutation(() => [RecordEventResult], { description: 'all or nothing: one invalid input rejects the batch; at most 500 inputs' })
  recordEvents(@Arg('inputs', () => [RecordEventInput]) inputs: RecordEventInput[], @Ctx() ctx: GraphQLContext): Promise<RecordEventResult[]> {
    return ctx.services.events.record(ctx.principal, inputs, (i) => `inputs.${i}`);
  }

  @Query(() => Event, { nullable: true })
  async event(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Event | null> {
    const principal = requirePrincipal(ctx.principal);
    const event = await ctx.services.events.findById(id);
    if (!event) return null;
    await assertCanReadEvent(principal, event, ctx.services.deliveries);
    return event;
  }

  @Query(() => RenderedPostback, { description: 'renders what this callback would send for the event, without sending or storing anything' })
  async previewCallback(
    @Arg('callbackId', () => ID) callbackId: string,
    @Arg('event', () => RecordEventInput) event: RecordEventInput,
    @Ctx() ctx: GraphQLContext,
    @Arg('draft', () => UpdateCallbackInput, { nullable: true, description: "unsaved changes rendered instead of the stored callback's (an editor's preview), checked as updateCallback checks them; problems are named under `draft`" })
    draft?: UpdateCallbackInput | null,
  ): Promise<RenderedPostback> {
    requireAdmin(ctx.principal);
    const drafted = draft ? await ctx.services.callbacks.draft(callbackId, draft, 'draft') : undefined;
    return ctx.services.events.preview(callbackId, event, drafted);
  }

  @FieldResolver(() => App)
  async app(@Root() event: Event, @Ctx() ctx: GraphQLContext): Promise<App> {
    const app = await ctx.loaders.app.load(event.appId);
    if (!app) throw new Error(`event ${event.id} points at missing app ${event.appId}`);
    return app;
  }

  @FieldResolver(() => Network, {
    nullable: true,
    description: "the configured network the event is attributed to (sent or inherited); null when unattributed or the slug is not configured, and to a PARTNER key when it is another network's",
  })
  network(@Root() event: Event, @Ctx() ctx: GraphQLContext): Promise<Network | null> | null {
    if (!principalSeesAttribution(requirePrincipal(ctx.principal), event)) return null;
    return event.networkId ? ctx.loaders.network.load(event.networkId) : null;
  }

  @FieldResolver(() => String, { nullable: true, description: "the attribution slug as the sender gave it (or the inherited touchpoint's), configured or not; null to a PARTNER key unless attributed to its network" })
  networkSlug(@Root() event: Event, @Ctx() ctx: GraphQLContext): string | null {
    return principalSeesAttribution(requirePrincipal(ctx.principal), event) ? event.networkSlug : null;
  }

  @FieldResolver(() => String, { nullable: true, description: 'null to a PARTNER key unless the event is attributed to its network' })
  campaignId(@Root() event: Event, @Ctx() ctx: GraphQLContext): string | null {
    return principalSeesAttribution(requirePrincipal(ctx.principal), event) ? event.campaignId : null;
  }

  @FieldResolver(() => AttributionType, {
    nullable: true,
    description: "the touchpoint type: the event's own when it is one, else that of the touchpoint it is attributed through; null to a PARTNER key unless attributed to its network",
  })
  attribution(@Root() event: Event, @Ctx() ctx: GraphQLContext): AttributionType | null {
    return principalSeesAttribution(requirePrincipal(ctx.principal), event) ? event.attribution : null;
  }

  @FieldResolver(() => Date, {
    nullable: true,
    description: 'the touchpoint this event is attributed through (its own time when it is one); null when unattributed, and to a PARTNER key unless attributed to its network',
  })
  attributedAt(@Root() event: Event, @Ctx() ctx: GraphQLContext): Date | null {
    return principalSeesAttribution(requirePrincipal(ctx.principal), event) ? event.attributedAt : null;
  }

  @FieldResolver(() => String, { nullable: true, description: 'null to PARTNER keys when the event has limitAdTracking' })
  advertisingId(@Root() event: Event, @Ctx() ctx: GraphQLContext): string | null {
    return hidesDeviceIdentifiers(requirePrincipal(ctx.principal), event) ? null : event.advertisingId;
  }

  @FieldResolver(() => String, { nullable: true, description: 'null to PARTNER keys when the event has limitAdTracking' })
  ipAddress(@Root() event: Event, @Ctx() ctx: GraphQLContext): string | null {
    return hidesDeviceIdentifiers(requirePrincipal(ctx.principal), event) ? null : event.ipAddress;
  }

  @FieldResolver(() => String, { nullable: true, description: 'null to PARTNER keys when the event has limitAdTracking' })
  userAgent(@Root() event: Event, @Ctx() ctx: GraphQLContext): string | null {
    return hidesDeviceIdentifiers(requirePrincipal(ctx.principal), event) ? null : event.userAgent;
  }
}
