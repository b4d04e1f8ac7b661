// A bare sender for comparison: GETs the receiver with 64 requests in flight through a
// keep-alive agent, as a program with nothing else to do would. One process per client
// (argv[2]: got | undici), so the CPU it reports is the client's alone.
//
// got: the promise API as its README shows it, on a keep-alive http.Agent, without retries.
// undici: Agent.request on a keep-alive pool of as many connections, the body read as text.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import got from 'got';
import { Agent } from 'undici';
import { WARMUP_SENDS } from './lib/options';

type Client = (path: string) => Promise<number>;

function gotClient(origin: string, concurrency: number): Client {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const client = got.extend({ prefixUrl: origin, agent: { http: agent }, retry: { limit: 0 } });
  return async (path) => (await client.get(path.slice(1))).statusCode;
}

function undiciClient(origin: string, concurrency: number): Client {
  const agent = new Agent({ connections: concurrency });
  return async (path) => {
    const response = await agent.request({ origin, path, method: 'GET' });
    await response.body.text();
    return response.statusCode;
  };
}

async function run(client: Client, total: number, concurrency: number, label: string): Promise<{ ok: number; failed: number; seconds: number; cpuMicros: number }> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      try {
        if ((await client(`/bare?n=${label}-${i}`)) === 200) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { ok, failed, seconds, cpuMicros: cpu.user + cpu.system };
}

async function main(): Promise<void> {
  const [kind, origin, totalRaw, concurrencyRaw, warmupRaw] = process.argv.slice(2);
  const total = Number(totalRaw);
  const concurrency = Number(concurrencyRaw);
  const warmup = Number(warmupRaw ?? WARMUP_SENDS);
  if (!origin || !(total > 0) || !(concurrency > 0) || (kind !== 'got' && kind !== 'undici')) {
    throw new Error('usage: bare-sender got|undici ORIGIN TOTAL CONCURRENCY [WARMUP]');
  }
  const client = kind === 'got' ? gotClient(origin, concurrency) : undiciClient(origin, concurrency);
  await run(client, warmup, concurrency, 'warmup');
  const result = await run(client, total, concurrency, 'measured');
  process.send?.({ type: 'result', kind, ...result, rate: result.ok / result.seconds, cpuMicrosPerRequest: result.cpuMicros / total }, () => process.exit(0));
}

main().catch((error) => {
  process.stderr.write(`bare sender failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
