import { Delivery } from './delivery.entity';

/**
 * A delivery as it was at one status change, in a form that survives JSON (Redis carries it
 * between processes). Subscribers are sent the snapshot, not whatever the row holds by the
 * time they read it, so every status change arrives as it was.
 */
export type DeliverySnapshot = Omit<Delivery, 'nextAttemptAt' | 'dueAt' | 'deliveredAt' | 'createdAt' | 'updatedAt'> & {
  nextAttemptAt: string | null;
  dueAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  updatedAt: string;
};

const iso = (date: Date | string | null): string | null => (date === null ? null : new Date(date).toISOString());
const date = (text: string | null): Date | null => (text === null ? null : new Date(text));

export function toDeliverySnapshot(d: Delivery): DeliverySnapshot {
  return {
    id: d.id,
    eventId: d.eventId,
    callbackId: d.callbackId,
    appId: d.appId,
    networkId: d.networkId,
    status: d.status,
    method: d.method,
    url: d.url,
    body: d.body,
    headers: d.headers,
    timeoutMs: d.timeoutMs,
    attempts: d.attempts,
    maxAttempts: d.maxAttempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    nextAttemptAt: iso(d.nextAttemptAt),
    dueAt: iso(d.dueAt),
    leaseOwner: d.leaseOwner,
    deliveredAt: iso(d.deliveredAt),
    createdAt: iso(d.createdAt) as string,
    updatedAt: iso(d.updatedAt) as string,
    renderNotes: d.renderNotes ?? [],
  };
}

export function fromDeliverySnapshot(s: DeliverySnapshot): Delivery {
  return Object.assign(new Delivery(), {
    ...s,
    nextAttemptAt: date(s.nextAttemptAt),
    dueAt: date(s.dueAt),
    deliveredAt: date(s.deliveredAt),
    createdAt: new Date(s.createdAt),
    updatedAt: new Date(s.updatedAt),
  });
}
