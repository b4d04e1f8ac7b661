// Subscription budgets (operations per WebSocket, WebSockets per key) and the shared fan-out:
// one status change is resolved once per distinct selection and scope, not per subscriber.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { RecordEventDocument } from '../generated/graphql';
import { testDatabases } from '../support/databases';
import { configurationFixtures } from '../support/fixtures';
import { startTestService, type TestService } from '../support/test-service';

type Message = { data?: { deliveryUpdated: { id: string } } | null; errors?: { message: string; extensions?: { code?: string } }[] };

const NESTED = 'subscription { deliveryUpdated { id status event { id eventId app { name } } } }';
const FLAT = 'subscription { deliveryUpdated { id } }';

class Connection {
  readonly client: Client;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves when the server acknowledged the connection (its key counted against the cap). */
  readonly connected: Promise<void>;
  constructor(url: string, secret: string) {
    let onClosed: (value: { code: number; reason: string }) => void = () => undefined;
    let onConnected: () => void = () => undefined;
    this.closed = new Promise((resolve) => (onClosed = resolve));
    this.connected = new Promise((resolve) => (onConnected = resolve));
    this.client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${secret}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => undefined,
      on: {
        connected: () => onConnected(),
        closed: (event) => onClosed({ code: (event as { code: number }).code, reason: String((event as { reason?: string }).reason ?? '') }),
      },
    });
  }
  subscribe(query: string): { messages: Message[]; errors: unknown[] } {
    const sub = { messages: [] as Message[], errors: [] as unknown[] };
    this.client.subscribe<Message['data']>({ query }, { next: (m) => void sub.messages.push(m as Message), error: (e) => void sub.errors.push(e), complete: () => undefined });
    return sub;
  }
}

async function until(probe: () => boolean, what: string, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; !probe(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function counter(t: TestService, name: string): Promise<number> {
  const text = await (await fetch(t.service.url.replace(/\/graphql$/, '/metrics'))).text();
  const match = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

describe.each(testDatabases())('subscription budgets and shared fan-out on %s', (kind) => {
  let t: TestService;
  const connections: Connection[] = [];
  beforeAll(async () => {
    t = await startTestService(kind, { WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '4', WS_MAX_CONNECTIONS_PER_KEY: '2' });
  });
  afterEach(async () => {
    await Promise.all(connections.splice(0).map((c) => c.client.dispose()));
  });
  afterAll(async () => {
    await t?.stop();
  });
  const connect = (secret: string) => {
    const connection = new Connection(t.service.url, secret);
    connections.push(connection);
    return connection;
  };

  it('resolves each status change once per distinct selection and scope, and hands it to every subscriber', async () => {
    const fx = configurationFixtures(t.admin);
    const app = await fx.app();
    const network = await fx.network();
    await fx.callback({ appId: app.id, networkId: network.id });
    const partner = await fx.partnerKey(network.id);
    const [a, b] = [connect(partner), connect(partner)];
    // 6 subscribers of one selection over two sockets, 1 of another.
    const same = [a, a, a, b, b, b].map((c) => c.subscribe(NESTED));
    const flat = a.subscribe(FLAT);
    const all = [...same, flat];
    const record = async (name: string) => (await t.admin.ok(RecordEventDocument, { input: { appId: app.id, name } })).recordEvent.deliveries[0]!.id;
    const got = (id: string) => all.every((s) => s.messages.some((m) => m.data?.deliveryUpdated.id === id));

    // graphql-ws does not acknowledge a subscribe: record until every subscriber has seen one update.
    for (let i = 0; i < 100 && !all.every((s) => s.messages.length > 0); i++) {
      await record('warm-up');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const sync = await record('sync');
    await until(() => got(sync), 'the sync update');
    expect(all.flatMap((s) => s.errors)).toEqual([]);

    const executionsBefore = await counter(t, 'postbacks_subscription_executions_total');
    const messagesBefore = await counter(t, 'postbacks_subscription_messages_total');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await record('install'));
    await until(() => ids.every(got), 'five updates at every subscriber');

    for (const sub of same) {
      const update = sub.messages.find((m) => m.data?.deliveryUpdated.id === ids[0]);
      expect(update?.data?.deliveryUpdated).toMatchObject({ id: ids[0], status: 'PENDING', event: { eventId: null, app: { name: 'Puzzle' } } });
    }
    // 5 updates × 2 distinct selections, not 5 × 7 subscribers.
    expect((await counter(t, 'postbacks_subscription_executions_total')) - executionsBefore).toBe(10);
    expect((await counter(t, 'postbacks_subscription_messages_total')) - messagesBefore).toBe(35);
  });

  it('refuses an operation past WS_MAX_SUBSCRIPTIONS_PER_CONNECTION with SUBSCRIPTION_LIMIT, and keeps the socket', async () => {
    const fx = configurationFixtures(t.admin);
    const partner = await fx.partnerKey((await fx.network()).id);
    const a = connect(partner);
    const subs = [1, 2, 3, 4].map(() => a.subscribe(FLAT));
    const fifth = a.subscribe(FLAT);
    await until(() => fifth.errors.length > 0, 'the refusal');
    expect(fifth.errors[0]).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'SUBSCRIPTION_LIMIT', max: 4 }) })]);
    expect(subs.flatMap((s) => s.errors)).toEqual([]);
    // The key may still open another socket and be answered there.
    const answer = await new Promise<unknown>((resolve, reject) => {
      const b = connect(partner);
      b.client.subscribe({ query: '{ __typename }' }, { next: resolve, error: reject, complete: () => undefined });
    });
    expect(answer).toEqual({ data: { __typename: 'Query' } });
  });

  it('closes a WebSocket past WS_MAX_CONNECTIONS_PER_KEY with 4429; other keys are not affected', async () => {
    const fx = configurationFixtures(t.admin);
    const network = await fx.network();
    const partner = await fx.partnerKey(network.id);
    const other = await fx.partnerKey(network.id);
    const [a, b] = [connect(partner), connect(partner)];
    const subs = [a.subscribe(FLAT), b.subscribe(FLAT)];
    await Promise.all([a.connected, b.connected]);
    const third = connect(partner);
    third.subscribe(FLAT);
    const closed = await third.closed;
    expect(closed).toEqual({ code: 4429, reason: 'Too many connections: at most 2 per API key' });
    const answer = await new Promise<unknown>((resolve, reject) => {
      connect(other).client.subscribe({ query: '{ __typename }' }, { next: resolve, error: reject, complete: () => undefined });
    });
    expect(answer).toEqual({ data: { __typename: 'Query' } });
    expect(subs.flatMap((s) => s.errors)).toEqual([]);
    // One closes: a place frees for the key.
    await a.client.dispose();
    let reopened: unknown = null;
    for (let i = 0; i < 50 && !reopened; i++) {
      reopened = await new Promise<unknown>((resolve) => {
        connect(partner).client.subscribe({ query: '{ __typename }' }, { next: resolve, error: () => resolve(null), complete: () => undefined });
      });
      if (!reopened) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(reopened).toEqual({ data: { __typename: 'Query' } });
  });
});
