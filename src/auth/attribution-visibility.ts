// Who may see an event's attribution (contract: Next / Attribution memory and partner rules).
// Partners never learn another partner's attribution: neither in a postback nor through the
// API. Pure.
import { ApiKeyRole } from '../common/enums';
import type { Principal } from './principal';

export interface AttributedEvent {
  /** The configured network the event is attributed to (sent or inherited); null when none. */
  networkId: string | null;
}

/**
 * Whether a viewer sees the event's attribution (network, slug, campaign, type, time): a
 * partner (`viewerNetworkId`) only when the event is attributed to it; the advertiser's side
 * (null: a callback without a network, an ADMIN or SDK key) always. An unconfigured slug
 * counts as attributed to none.
 */
export function sharesAttributionWith(viewerNetworkId: string | null, event: AttributedEvent): boolean {
  return viewerNetworkId === null || event.networkId === viewerNetworkId;
}

/**
 * For what a key reads of an Event: a PARTNER key reads the attribution fields of events
 * attributed to its own network only; they read as null otherwise. This narrows "a partner
 * sees its own deliveries whole".
 */
export function principalSeesAttribution(principal: Principal, event: AttributedEvent): boolean {
  return sharesAttributionWith(principal.role === ApiKeyRole.PARTNER ? principal.networkId : null, event);
}

/** Event fields that principalSeesAttribution guards. */
export const ATTRIBUTION_EVENT_FIELDS: readonly string[] = ['network', 'networkSlug', 'campaignId', 'attribution', 'attributedAt'];
