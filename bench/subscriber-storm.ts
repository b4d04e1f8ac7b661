// The subscriber storm of issue 13, as a benchmark: one partner's 500 deliveryUpdated
// subscribers (25 WebSockets × 20, a nested selection) while the pipeline runs for its app,
// and another app's recordEvent latency and /healthz measured with and without them.
//
//   npm run build && node dist/bench/subscriber-storm.js [--db sqlite|mysql] [--rate 20] [--seconds 20]
//     [--sockets 25] [--per-socket 20] [--other-rate 20]
//
// The subscribers are raw WebSockets in this process that count messages without parsing
// them, so the generator costs little of the shared CPU. On a 2-core machine shared with
// other work the numbers are noisy: compare the two runs of one invocation, not invocations.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { request } from 'undici';
import { createBenchDb } from './lib/database';
import { openLoop } from './lib/load';
import { BENCH_ADMIN_KEY, createFixtures, graphql, killLiveChildren, startService } from './lib/service';
import { summarizeLatencies, type LatencySummary } from './lib/stats';
import { monotonicMs } from './lib/ipc';

const NESTED = 'subscription { deliveryUpdated { id status attempts event { id eventId app { name } } } }';

interface Options {
  db: 'sqlite' | 'mysql';
  mysqlUrl: string;
  rate: number;
  otherRate: number;
  seconds: number;
  sockets: number;
  perSocket: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { db: 'sqlite', mysqlUrl: process.env.BENCH_MYSQL_URL ?? 'mysql://root:@127.0.0.1:3306', rate: 20, otherRate: 20, seconds: 20, sockets: 25, perSocket: 20 };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--db': options.db = value === 'mysql' ? 'mysql' : 'sqlite'; i++; break;
      case '--rate': options.rate = Number(value); i++; break;
      case '--other-rate': options.otherRate = Number(value); i++; break;
      case '--seconds': options.seconds = Number(value); i++; break;
      case '--sockets': options.sockets = Number(value); i++; break;
      case '--per-socket': options.perSocket = Number(value); i++; break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return options;
}

const log = (message: string) => process.stderr.write(`[storm] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens `sockets` × `perSocket` subscriptions; counts the messages that arrive. */
async function openSubscribers(origin: string, secret: string, sockets: number, perSocket: number): Promise<{ messages: () => number; refused: () => number; close: () => void }> {
  let messages = 0;
  let refused = 0;
  const open: WebSocket[] = [];
  await Promise.all(Array.from({ length: sockets }, () => new Promise<void>((resolve, reject) => {
    const socket = new WebSocket(`${origin.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    open.push(socket);
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${secret}` } })));
    socket.on('message', (data: Buffer) => {
      // Only the first few bytes are looked at: a next message is counted, an ack starts the subscriptions.
      const head = data.subarray(0, 40).toString();
      if (head.includes('"next"')) messages++;
      else if (head.includes('"error"')) refused++;
      else if (head.includes('connection_ack')) {
        for (let i = 0; i < perSocket; i++) socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: NESTED } }));
        resolve();
      }
    });
    socket.once('close', (code) => {
      if (code !== 1000) refused++;
      resolve();
    });
    socket.once('error', reject);
  })));
  return { messages: () => messages, refused: () => refused, close: () => open.forEach((s) => s.close(1000)) };
}

async function healthProbe(origin: string, stop: () => boolean): Promise<number[]> {
  const times: number[] = [];
  while (!stop()) {
    const t0 = monotonicMs();
    const res = await request(`${origin}/healthz`);
    await res.body.dump();
    times.push(monotonicMs() - t0);
    await sleep(100);
  }
  return times;
}

interface RunResult {
  subscribers: number;
  otherRecordEvent: LatencySummary;
  healthz: LatencySummary;
  messages: number;
  refused: number;
  failed: number;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverPort = (receiver.address() as AddressInfo).port;
  const db = await createBenchDb(options.db, options.mysqlUrl, 'storm');
  const service = await startService({
    databaseUrl: db.url,
    dispatcher: 'inline',
    logFile: `/tmp/subscriber-storm-${process.pid}.log`,
    extraEnv: { LOG_LEVEL: 'warn', WS_MAX_CONNECTIONS_PER_KEY: String(options.sockets), WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: String(options.perSocket) },
  });
  try {
    const stormed = await createFixtures(service.origin, receiverPort);
    const other = await createFixtures(service.origin, receiverPort);
    const { callback } = await graphql<{ callback: { network: { id: string } } }>(service.origin, BENCH_ADMIN_KEY, 'query($id: ID!) { callback(id: $id) { network { id } } }', { id: stormed.callbackId });
    const { createApiKey } = await graphql<{ createApiKey: { secret: string } }>(service.origin, BENCH_ADMIN_KEY, 'mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }', { in: { name: 'storm partner', role: 'PARTNER', networkId: callback.network.id } });

    const body = (appId: string, prefix: string) => (i: number) => JSON.stringify({
      query: 'mutation($input: RecordEventInput!) { recordEvent(input: $input) { duplicate event { id } deliveries { id status } } }',
      variables: { input: { appId, eventId: `${prefix}-${i}`, name: 'install', network: stormed.networkSlug, advertisingId: '6D92078A-8246-4BA4-AE5B-76104861E7DC', campaignId: 'storm' } },
    });
    const target = (key: string) => ({ origin: service.origin, path: '/graphql', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } });

    const run = async (label: string, subscribers: number): Promise<RunResult> => {
      const subs = subscribers > 0 ? await openSubscribers(service.origin, createApiKey.secret, options.sockets, options.perSocket) : null;
      if (subs) await sleep(1000); // graphql-ws does not acknowledge a subscribe
      let done = false;
      const health = healthProbe(service.origin, () => done);
      const [pipelineLoad, otherLoad] = await Promise.all([
        openLoop(target(stormed.sdkKey), { rate: options.rate, seconds: options.seconds, maxInFlight: 256, body: body(stormed.appId, `${label}-storm`) }),
        openLoop(target(other.sdkKey), { rate: options.otherRate, seconds: options.seconds, maxInFlight: 256, body: body(other.appId, `${label}-other`) }),
      ]);
      done = true;
      const healthTimes = await health;
      await sleep(2000); // let the last updates arrive
      const result = {
        subscribers,
        otherRecordEvent: otherLoad.latency,
        healthz: summarizeLatencies(healthTimes),
        messages: subs?.messages() ?? 0,
        refused: subs?.refused() ?? 0,
        failed: pipelineLoad.failed + otherLoad.failed,
      };
      subs?.close();
      await sleep(500);
      log(`${label}: ${JSON.stringify(result)}`);
      return result;
    };

    log(`${options.db}: pipeline ${options.rate} events/s for ${options.seconds} s on one app, another app at ${options.otherRate}/s`);
    const without = await run('without', 0);
    const withSubs = await run('with', options.sockets * options.perSocket);
    const ratio = withSubs.otherRecordEvent.p99 / without.otherRecordEvent.p99;
    const report = {
      db: options.db,
      rate: options.rate,
      subscribers: options.sockets * options.perSocket,
      expectedMessages: options.sockets * options.perSocket * options.rate * options.seconds * 3,
      without,
      with: withSubs,
      otherRecordEventP99Ratio: Number(ratio.toFixed(2)),
      verdict: { p99WithinTwice: ratio <= 2, healthzMaxUnder100ms: withSubs.healthz.max < 100 },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await service.stop();
    await db.drop();
    receiver.close();
  }
}

main().catch((error) => {
  killLiveChildren();
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
