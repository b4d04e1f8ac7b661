import { Arg, Ctx, Field, ID, InputType, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { HttpMethod } from '../common/enums';
import { requireAdmin } from '../auth/principal';
import { Callback, HttpHeader } from '../callbacks/callback.entity';
import { RenderedPostback } from '../events/event.resolver';
import type { GraphQLContext } from '../graphql/context';
import { JSONObjectScalar } from '../graphql/scalars';
import { EventMapping } from '../callbacks/callback.entity';
import { EventMappingInput } from '../callbacks/callback.resolver';
import type { CatalogPreset } from './preset-catalog';

@ObjectType('CredentialField')
export class CredentialField {
  @Field(() => String, { description: 'the app-level CONSTANT macro it becomes' }) name: string;
  @Field(() => String) description: string;
  @Field(() => Boolean) secret: boolean;
}

@ObjectType('CredentialValue')
export class CredentialValue {
  @Field(() => String) name: string;
  @Field(() => String) value: string;
}

@ObjectType('PartnerTemplateExample', { description: 'A sample event and sample credentials, and exactly what the preset renders for them' })
export class PartnerTemplateExample {
  @Field(() => JSONObjectScalar, { description: 'a RecordEventInput without appId' }) event: Record<string, unknown>;
  @Field(() => [CredentialValue]) credentials: CredentialValue[];
  @Field(() => RenderedPostback) rendered: RenderedPostback;
}

@ObjectType('PartnerTemplate')
export class PartnerTemplate {
  @Field(() => ID) id: string;
  @Field(() => String) name: string;
  @Field(() => String) description: string;
  @Field(() => String, { description: 'where the partner documents this postback format' }) documentationUrl: string;
  @Field(() => HttpMethod) method: HttpMethod;
  @Field(() => String) urlTemplate: string;
  @Field(() => String, { nullable: true }) bodyTemplate: string | null;
  @Field(() => [HttpHeader]) headers: HttpHeader[];
  @Field(() => [CredentialField]) credentials: CredentialField[];
  @Field(() => [String]) eventNames: string[];
  @Field(() => [EventMapping]) eventMappings: EventMapping[];
  @Field(() => Boolean) attributedOnly: boolean;
  @Field(() => Boolean, { description: 'whether callbacks made from it sign their postbacks unless told otherwise' }) signing: boolean;
  @Field(() => PartnerTemplateExample) example: PartnerTemplateExample;
}

@InputType('CredentialInput')
export class CredentialInput {
  @Field(() => String) name: string;
  @Field(() => String) value: string;
}

@InputType('CreateCallbackFromTemplateInput')
export class CreateCallbackFromTemplateInput {
  @Field(() => ID) templateId: string;
  @Field(() => ID) appId: string;
  @Field(() => ID, { nullable: true }) networkId?: string | null;
  @Field(() => String, { nullable: true, description: "default: the template's name" }) name?: string | null;
  @Field(() => [CredentialInput]) credentials: CredentialInput[];
  @Field(() => [String], { nullable: true, description: "overrides the template's list" }) eventNames?: string[] | null;
  @Field(() => [EventMappingInput], { nullable: true }) eventMappings?: EventMappingInput[] | null;
  @Field(() => Boolean, { nullable: true }) signing?: boolean | null;
}

function toGraphQL(preset: CatalogPreset): PartnerTemplate {
  return {
    ...preset,
    eventMappings: preset.eventMappings,
    example: {
      event: preset.example.event,
      credentials: preset.example.credentials,
      rendered: { ...preset.example.rendered, wouldFire: true, notFiredBecause: null, renderNotes: [] },
    },
  };
}

@Resolver(() => PartnerTemplate)
export class PresetResolver {
  @Query(() => [PartnerTemplate], { description: 'ready-made callbacks for known destinations; createCallbackFromTemplate makes one' })
  partnerTemplates(@Ctx() ctx: GraphQLContext): PartnerTemplate[] {
    requireAdmin(ctx.principal);
    return ctx.services.presets.list().map(toGraphQL);
  }

  @Mutation(() => Callback, { description: "a callback from a partner template; its credentials become the app's CONSTANT macros" })
  createCallbackFromTemplate(
    @Arg('input', () => CreateCallbackFromTemplateInput) input: CreateCallbackFromTemplateInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Callback> {
    requireAdmin(ctx.principal);
    return ctx.services.presets.createCallback(input);
  }
}
