import { registerEnumType } from 'type-graphql';
import { ApiKeyRole, AttributionSource, AttributionType, DeliveryStatus, HttpMethod, MacroSource, MacroTransform, Platform, ValueSharing } from '../common/enums';
import { CallbackState } from '../dispatch/circuit-breaker';
import { StatsBucket } from '../deliveries/delivery-stats';

registerEnumType(Platform, { name: 'Platform' });
registerEnumType(HttpMethod, { name: 'HttpMethod' });
registerEnumType(DeliveryStatus, {
  name: 'DeliveryStatus',
  description:
    'PENDING: queued, not tried yet. SENDING: an attempt is under way.\nRETRYING: an attempt failed and another is scheduled (nextAttemptAt).\nDELIVERED: a 2xx came back. FAILED: no more attempts (permanent error, attempts used up, or blocked).',
});
registerEnumType(MacroSource, {
  name: 'MacroSource',
  description:
    'FIELD: the value of a built-in macro named by `path` (e.g. an alias with a transform).\nPARAM: the value at dot path `path` inside the event\'s params.\nCONSTANT: the fixed `value` (e.g. a partner\'s key for this app).',
});
registerEnumType(MacroTransform, {
  name: 'MacroTransform',
  description: 'Applied to the raw value before encoding. Hashes give lowercase hex; an empty value stays empty.',
});
registerEnumType(ApiKeyRole, {
  name: 'ApiKeyRole',
  description: 'ADMIN: everything. SDK: record events for one app. PARTNER: read and subscribe to one network\'s deliveries.',
});
registerEnumType(AttributionType, {
  name: 'AttributionType',
  description:
    'INSTALL, REINSTALL, REENGAGEMENT: this event is an attribution touchpoint; later events of\nthe same user that name no network inherit its network, campaign and time.',
});
registerEnumType(AttributionSource, {
  name: 'AttributionSource',
  description: 'SENT: the sender named the network. INHERITED: from the user\'s last touchpoint. NONE: unattributed.',
});
registerEnumType(ValueSharing, {
  name: 'ValueSharing',
  description: 'NONE: no values or revenue reach the partner. VALUES: params but no revenue. VALUES_AND_REVENUE: everything.',
});
registerEnumType(CallbackState, {
  name: 'CallbackState',
  description: 'HEALTHY: sending. PAUSED: the circuit is open after repeated failures; deliveries wait (nothing is lost) and one probe is tried at `pausedUntil`. DISABLED: switched off (by an admin, or by autoDisableAfterHours of failures only); matching events queue nothing.',
});
registerEnumType(StatsBucket, { name: 'StatsBucket' });
