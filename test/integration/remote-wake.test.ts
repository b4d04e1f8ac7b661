// With Redis, an API process tells the workers when it queues deliveries ('deliveries-queued'),
// so they claim them at once instead of at their next scan. Deliveries it inserted already
// claimed (its inline dispatcher had a free slot) are its own to send: telling the workers
// would only send each of them to look for rows that are not there, once per recordEvent.
import { RecordEventDocument } from '../generated/graphql';
import { DeliveryStatus } from '../../src/common/enums';
import { testDatabases } from '../support/databases';
import { configurationFixtures } from '../support/fixtures';
import { Receiver, waitFor } from '../support/receiver';
import { redisAvailable, TEST_REDIS_URL } from '../support/redis';
import { startTestService, TestService } from '../support/test-service';

const databases = redisAvailable() ? testDatabases() : [];

(databases.length > 0 ? describe.each(databases) : describe.skip.each(['sqlite' as const]))('waking the workers on %s with Redis', (kind) => {
  let t: TestService;
  let receiver: Receiver;
  const wakes: number[] = [];

  beforeAll(async () => {
    receiver = await new Receiver().start();
    t = await startTestService(kind, { DISPATCHER: 'inline', REDIS_URL: TEST_REDIS_URL });
    // Redis delivers a process's own messages back to it, as to every other process.
    t.service.services.pubsub.on('deliveries-queued', ({ count }) => wakes.push(count));
  });
  afterAll(async () => {
    await t?.stop();
    await receiver?.stop();
  });

  it('wakes them for deliveries left for any process, not for those this process inserted claimed', async () => {
    const fx = configurationFixtures(t.admin);
    const app = await fx.app();
    await fx.callback({ appId: app.id, urlTemplate: receiver.url('/now?d={{delivery_id}}') });
    await fx.callback({ appId: app.id, urlTemplate: receiver.url('/later?d={{delivery_id}}'), delaySeconds: 3600 });

    const recorded = await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'install' } });
    expect(recorded.recordEvent.deliveries).toHaveLength(2);
    const now = recorded.recordEvent.deliveries.find((d) => d.url.includes('/now'));
    await waitFor(
      () => t.admin.ok(`query($id: ID!) { delivery(id: $id) { status } }`, { id: now?.id }) as Promise<{ delivery: { status: string } }>,
      (r) => r.delivery.status === DeliveryStatus.DELIVERED,
      { what: 'the immediate postback to be delivered by the inline dispatcher' },
    );
    // Messages from one publisher arrive in order: this one follows any the first call sent.
    t.service.services.pubsub.publish('deliveries-queued', { count: -1 });
    await waitFor(() => wakes, (w) => w.includes(-1), { what: 'the marker message' });
    // Only the delayed delivery (an hour away, queued PENDING) was announced to the workers.
    expect(wakes).toEqual([1, -1]);
  });
});
