// `npm run worker` with WORKER_PORT: health and metrics for orchestrators and Prometheus.
import { RecordEventDocument } from '../generated/graphql';
import { testDatabases } from '../support/databases';
import { configurationFixtures } from '../support/fixtures';
import { Receiver, waitFor } from '../support/receiver';
import { startTestService, TestService } from '../support/test-service';
import { WorkerProcess } from '../support/worker-process';

const kind = testDatabases().at(-1)!;

describe(`a worker with WORKER_PORT on ${kind}`, () => {
  let t: TestService;
  let receiver: Receiver;
  let worker: WorkerProcess;
  beforeAll(async () => {
    t = await startTestService(kind);
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await receiver?.stop();
    await t?.stop();
  });

  it('serves /healthz, /readyz and /metrics that count what it sends', async () => {
    worker = new WorkerProcess({ DATABASE_URL: t.db.url, DISPATCH_ALLOW_PRIVATE: 'true', WORKER_PORT: '0', LOG_LEVEL: 'info' });
    const port = await waitFor(
      () => worker.logLines.find((line) => line.msg === 'postback worker running')?.port as number | undefined,
      (p) => typeof p === 'number' && p > 0,
      { what: 'the worker to listen', timeoutMs: 30_000 },
    );
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/graphql`, { method: 'POST' })).status).toBe(404);

    const fx = configurationFixtures(t.admin);
    const app = await fx.app();
    await fx.callback({ appId: app.id, urlTemplate: receiver.url('/w') });
    await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name: 'install' } });
    const text = await waitFor(
      async () => (await fetch(`${base}/metrics`)).text(),
      (body) => /^postbacks_deliveries_finished_total\{status="DELIVERED",network="none"\} 1$/m.test(body),
      { what: 'the worker to count its delivery', timeoutMs: 30_000 },
    );
    expect(text).toMatch(/^postbacks_attempts_total\{result="delivered"\} 1$/m);
    expect(receiver.received).toHaveLength(1);
  });
});
