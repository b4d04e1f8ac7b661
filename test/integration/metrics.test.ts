import { RecordEventDocument } from '../generated/graphql';
import { testDatabases } from '../support/databases';
import { configurationFixtures } from '../support/fixtures';
import { Receiver, waitFor } from '../support/receiver';
import { startTestService, TestService } from '../support/test-service';

/** The value of one sample in Prometheus text format, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) return Number(match[3]);
  }
  return 0;
}

describe.each(testDatabases())('/metrics on %s', (kind) => {
  let t: TestService;
  let guarded: TestService;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await new Receiver().start();
    t = await startTestService(kind, { DISPATCHER: 'inline', DISPATCH_BACKOFF_BASE_MS: '50', DISPATCH_BACKOFF_MAX_MS: '200' });
    guarded = await startTestService(kind, { DISPATCHER: 'inline', DISPATCH_ALLOW_PRIVATE: 'false' });
  });
  afterAll(async () => {
    await t?.stop();
    await guarded?.stop();
    await receiver?.stop();
  });

  const scrape = async (service: TestService) => {
    const response = await fetch(service.service.url.replace(/\/graphql$/, '/metrics'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };

  it('counts events, attempts, retries and final statuses per network as postbacks go out', async () => {
    const fx = configurationFixtures(t.admin);
    const app = await fx.app();
    const network = await fx.network();
    let calls = 0;
    receiver.respond((_req, res) => {
      res.statusCode = ++calls % 2 === 1 ? 503 : 200; // every delivery fails once, then succeeds
      res.end();
    });
    await fx.callback({ appId: app.id, networkId: network.id, urlTemplate: receiver.url('/m?d={{delivery_id}}') });
    const before = await scrape(t);
    expect(before).toContain('postbacks_process_cpu_user_seconds_total');

    for (let i = 0; i < 3; i++) await t.admin.ok(RecordEventDocument, { input: { appId: app.id, eventId: `m-${i}`, name: 'install' } });
    await t.admin.ok(RecordEventDocument, { input: { appId: app.id, eventId: 'm-0', name: 'install' } });
    const after = await waitFor(() => scrape(t), (text) => sample(text, 'postbacks_deliveries_finished_total', { status: 'DELIVERED', network: network.slug }) >= 3, { what: 'three DELIVERED in /metrics' });

    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('postbacks_events_recorded_total', { duplicate: 'false' })).toBe(3);
    expect(delta('postbacks_events_recorded_total', { duplicate: 'true' })).toBe(1);
    expect(delta('postbacks_deliveries_queued_total')).toBe(3);
    expect(delta('postbacks_attempts_total', { result: 'retryable' })).toBe(3);
    expect(delta('postbacks_attempts_total', { result: 'delivered' })).toBe(3);
    expect(delta('postbacks_retries_scheduled_total')).toBe(3);
    expect(delta('postbacks_attempt_duration_seconds_count', { result: 'delivered' })).toBe(3);
    expect(delta('postbacks_deliveries_finished_total', { status: 'DELIVERED', network: network.slug })).toBe(3);
    expect(sample(after, 'postbacks_queue_depth', { status: 'PENDING' })).toBe(0);
    expect(after).toMatch(/^postbacks_oldest_due_delivery_age_seconds \d/m);
  });

  it('shows queued work as queue depth and age until it is sent', async () => {
    const stopped = await startTestService(kind, { DISPATCHER: 'off' });
    try {
      const fx = configurationFixtures(stopped.admin);
      const app = await fx.app();
      await fx.callback({ appId: app.id });
      await stopped.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'x' } });
      await stopped.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'y' } });
      await new Promise((r) => setTimeout(r, 1100));
      const text = await scrape(stopped);
      expect(sample(text, 'postbacks_queue_depth', { status: 'PENDING' })).toBe(2);
      expect(sample(text, 'postbacks_oldest_due_delivery_age_seconds')).toBeGreaterThanOrEqual(1);
    } finally {
      await stopped.stop();
    }
  });

  it('counts refused destinations and GraphQL errors by code', async () => {
    const fx = configurationFixtures(guarded.admin);
    const app = await fx.app();
    await fx.callback({ appId: app.id, urlTemplate: 'http://127.0.0.1:9/metadata' });
    const before = await scrape(guarded);
    await guarded.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'x' } });
    await guarded.admin.error(RecordEventDocument, { input: { appId: app.id, name: '' } });
    const after = await waitFor(() => scrape(guarded), (text) => sample(text, 'postbacks_destinations_refused_total') > sample(before, 'postbacks_destinations_refused_total'), { what: 'a refused destination' });
    expect(sample(after, 'postbacks_deliveries_finished_total', { status: 'FAILED', network: 'none' }) - sample(before, 'postbacks_deliveries_finished_total', { status: 'FAILED', network: 'none' })).toBe(1);
    expect(sample(after, 'postbacks_graphql_errors_total', { code: 'BAD_USER_INPUT' }) - sample(before, 'postbacks_graphql_errors_total', { code: 'BAD_USER_INPUT' })).toBe(1);
  });
});
