import { DeliveryStatus, HttpMethod } from '../../../src/common/enums';
import { ConflictError } from '../../../src/common/errors';
import { Delivery } from '../../../src/deliveries/delivery.entity';
import { parseDbTime } from '../../../src/deliveries/typeorm-delivery-store';
import { attemptFromResult } from '../../../src/dispatch/attempt-classification';
import {
  applyChanges,
  attemptChanges,
  claimChanges,
  expiredLeaseTakeover,
  LEASE_EXPIRED_ERROR,
  MAX_ERROR_LENGTH,
  redeliverChanges,
  releaseChanges,
} from '../../../src/deliveries/delivery-state';
import type { SendResult } from '../../../src/dispatch/sender';
import type { RetrySettings } from '../../../src/deliveries/retry-schedule';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);
const SETTINGS: RetrySettings = { backoffBaseMs: 5_000, backoffMaxMs: 21_600_000 };
const MID = () => 0.5; // no jitter

function delivery(overrides: Partial<Delivery> = {}): Delivery {
  return Object.assign(new Delivery(), {
    id: '0190d4a0-0000-7000-8000-000000000001',
    eventId: '0190d4a0-0000-7000-8000-00000000000e',
    callbackId: '0190d4a0-0000-7000-8000-00000000000c',
    appId: '0190d4a0-0000-7000-8000-00000000000a',
    networkId: null,
    status: DeliveryStatus.PENDING,
    method: HttpMethod.GET,
    url: 'https://postback.example/p',
    body: null,
    headers: [],
    timeoutMs: 10_000,
    attempts: 0,
    maxAttempts: 3,
    lastStatusCode: null,
    lastError: null,
    nextAttemptAt: at(-1_000),
    dueAt: at(-1_000),
    leaseOwner: null,
    deliveredAt: null,
    createdAt: at(-1_000),
    updatedAt: at(-1_000),
    ...overrides,
  });
}

function sent(overrides: Partial<SendResult> = {}): SendResult {
  return { statusCode: 200, error: null, errorKind: null, latencyMs: 12, responseSnippet: 'ok', retryAfter: null, startedAt: NOW, ...overrides };
}

describe('claim and release', () => {
  it('a claim makes the delivery SENDING, held by the worker until the lease end', () => {
    expect(claimChanges('worker-1', at(60_000), NOW)).toEqual({ status: 'SENDING', leaseOwner: 'worker-1', dueAt: at(60_000), updatedAt: NOW });
  });

  it('a release puts it back as it was claimed, due at once, held by nobody', () => {
    expect(releaseChanges({ status: DeliveryStatus.RETRYING, dueAt: at(-50) }, NOW)).toEqual({ status: 'RETRYING', dueAt: at(-50), leaseOwner: null, updatedAt: NOW });
    expect(releaseChanges({ status: DeliveryStatus.PENDING, dueAt: null }, NOW).dueAt).toEqual(NOW);
  });

  it('applyChanges returns a new entity and leaves the old one alone', () => {
    const before = delivery();
    const after = applyChanges(before, claimChanges('w', at(1), NOW));
    expect(after).toBeInstanceOf(Delivery);
    expect(after).toMatchObject({ id: before.id, status: 'SENDING', leaseOwner: 'w', url: before.url });
    expect(before.status).toBe('PENDING');
  });
});

describe('attemptChanges', () => {
  it('DELIVERED: the summary names the attempt, no due time, delivered now', () => {
    const attempt = attemptFromResult(1, sent());
    expect(attemptChanges(attempt, { status: 'DELIVERED' }, NOW)).toEqual({
      status: 'DELIVERED', attempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null, dueAt: null, leaseOwner: null, deliveredAt: NOW, updatedAt: NOW,
    });
  });

  it('RETRYING: due at the next attempt time', () => {
    const attempt = attemptFromResult(2, sent({ statusCode: 503 }));
    const changes = attemptChanges(attempt, { status: 'RETRYING', nextAttemptAt: at(20_000) }, NOW);
    expect(changes).toMatchObject({ status: 'RETRYING', attempts: 2, lastStatusCode: 503, nextAttemptAt: at(20_000), dueAt: at(20_000), deliveredAt: null, leaseOwner: null });
  });

  it('FAILED: final, with the error of the attempt', () => {
    const attempt = attemptFromResult(1, sent({ statusCode: null, error: 'destination not allowed: 10.0.0.1', errorKind: 'blocked', responseSnippet: null }));
    expect(attemptChanges(attempt, { status: 'FAILED' }, NOW)).toMatchObject({ status: 'FAILED', lastStatusCode: null, lastError: 'destination not allowed: 10.0.0.1', dueAt: null, nextAttemptAt: null });
  });
});

describe('attemptFromResult', () => {
  it('copies the result and rounds the latency', () => {
    expect(attemptFromResult(3, sent({ latencyMs: 12.6 }))).toEqual({ number: 3, startedAt: NOW, statusCode: 200, latencyMs: 13, error: null, responseSnippet: 'ok' });
  });

  it('bounds an overlong error text', () => {
    const error = attemptFromResult(1, sent({ statusCode: null, error: 'x'.repeat(10_000), errorKind: 'connection' })).error!;
    expect(error.length).toBe(MAX_ERROR_LENGTH);
    expect(error.endsWith('…')).toBe(true);
  });
});

describe('expiredLeaseTakeover', () => {
  const held = delivery({ status: DeliveryStatus.SENDING, attempts: 1, maxAttempts: 3, leaseOwner: 'dead-worker', dueAt: at(-1), updatedAt: at(-60_000) });

  it('counts the lost attempt, starting when the lease was granted, and schedules a retry', () => {
    const { attempt, next, changes } = expiredLeaseTakeover(held, NOW, SETTINGS, MID);
    expect(attempt).toEqual({ number: 2, startedAt: at(-60_000), statusCode: null, latencyMs: 0, error: LEASE_EXPIRED_ERROR, responseSnippet: null });
    // After failed attempt 2 the schedule waits BASE × 4.
    expect(next).toEqual({ status: 'RETRYING', nextAttemptAt: at(20_000) });
    expect(changes).toMatchObject({ status: 'RETRYING', attempts: 2, lastError: LEASE_EXPIRED_ERROR, lastStatusCode: null, leaseOwner: null, dueAt: at(20_000) });
  });

  it('allows one more attempt when the lost attempt was the last: a dead holder may have sent nothing', () => {
    const last = delivery({ ...held, attempts: 2, maxAttempts: 3, lastError: 'HTTP 500' });
    const { attempt, changes } = expiredLeaseTakeover(last, NOW, SETTINGS, MID);
    expect(attempt.number).toBe(3);
    expect(changes).toMatchObject({ status: 'RETRYING', attempts: 3, maxAttempts: 4 });
  });

  it('fails the delivery when its last two attempts were both lost (a postback that kills its worker cannot loop forever)', () => {
    const last = delivery({ ...held, attempts: 3, maxAttempts: 4, lastError: LEASE_EXPIRED_ERROR });
    const { attempt, changes } = expiredLeaseTakeover(last, NOW, SETTINGS, MID);
    expect(attempt.number).toBe(4);
    expect(changes).toMatchObject({ status: 'FAILED', attempts: 4, dueAt: null, nextAttemptAt: null });
    expect(changes).not.toHaveProperty('maxAttempts');
  });

  it('keeps maxAttempts when attempts remain', () => {
    expect(expiredLeaseTakeover(held, NOW, SETTINGS, MID).changes).not.toHaveProperty('maxAttempts');
  });
});

describe('redeliverChanges', () => {
  it.each([DeliveryStatus.DELIVERED, DeliveryStatus.FAILED])('starts a new round for a %s delivery: history and count kept, maxAttempts more', (status) => {
    const done = delivery({ status, attempts: 4, maxAttempts: 4, deliveredAt: status === 'DELIVERED' ? at(-10) : null, lastStatusCode: 500 });
    expect(redeliverChanges(done, 10, NOW)).toEqual({
      status: 'PENDING', maxAttempts: 14, nextAttemptAt: NOW, dueAt: NOW, leaseOwner: null, deliveredAt: null, updatedAt: NOW,
    });
  });

  it.each([DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.RETRYING])('is a CONFLICT while %s', (status) => {
    expect(() => redeliverChanges(delivery({ status }), 10, NOW)).toThrow(ConflictError);
  });
});

describe('parseDbTime', () => {
  it('reads both drivers\' raw datetimes as UTC', () => {
    expect(parseDbTime('2030-01-01 00:00:01.250')).toEqual(at(1_250));
    expect(parseDbTime(at(5))).toEqual(at(5));
    expect(parseDbTime('2030-01-01T00:00:00.000Z')).toEqual(NOW);
    expect(parseDbTime(null)).toBeNull();
    expect(parseDbTime('garbage')).toBeNull();
  });
});
