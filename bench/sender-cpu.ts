// `node dist/bench/sender-cpu.js [N]`: the CPU per request of the service's postback senders
// (dispatch/http-sender.ts, as the dispatcher calls them) against bare undici, each alone in a
// process of its own, GETting the benchmark's receiver with 64 requests in flight. It isolates
// the sender from the dispatcher and the database: what the sender itself adds per postback.
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { createSender } from '../src/dispatch/http-sender';
import { waitFor } from './lib/ipc';
import { benchChild } from './lib/service';

const IN_FLIGHT = 64;
const KINDS = ['bare-undici', 'undici', 'got'] as const;
type Kind = (typeof KINDS)[number];

async function measure(kind: Kind, origin: string, total: number): Promise<{ rate: number; cpuMicros: number }> {
  let send: (i: number) => Promise<unknown>;
  if (kind === 'bare-undici') {
    const agent = new Agent({ connections: IN_FLIGHT });
    send = async (i) => {
      const response = await agent.request({ origin, path: `/pb?n=${i}`, method: 'GET' });
      await response.body.text();
    };
  } else {
    const sender = createSender(kind, { allowPrivate: true, userAgent: 'postbacks-bench/1.0' });
    send = (i) =>
      sender.send({
        deliveryId: `0192f0c2-aaaa-7000-8000-${String(i).padStart(12, '0')}`,
        method: 'GET',
        url: `${origin}/pb?n=${i}&ifa=6d92078a-8246-4ba4-ae5b-76104861e7dc&cid=cmp-42&rev=0.99`,
        headers: [],
        body: null,
        timeoutMs: 10_000,
        signingSecret: null,
      });
  }
  const run = async (count: number) => {
    let next = 0;
    const worker = async () => {
      while (next < count) await send(next++);
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  };
  await run(3_000);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(total);
  const cpu = process.cpuUsage(cpu0);
  return { rate: total / ((performance.now() - t0) / 1000), cpuMicros: (cpu.user + cpu.system) / total };
}

async function main(): Promise<void> {
  const [kindArg, totalArg, origin] = process.argv.slice(2);
  if (kindArg && origin) {
    // A child: one sender, then report.
    const result = await measure(kindArg as Kind, origin, Number(totalArg));
    process.send?.({ type: 'result', ...result }, () => process.exit(0));
    return;
  }
  const total = Number(kindArg ?? 20_000);
  if (!Number.isInteger(total) || total < 1) throw new Error(`N must be a positive integer, got ${kindArg}`);
  const receiver = benchChild('receiver.js', [], 'receiver');
  try {
    const { port } = await waitFor<{ type: 'ready'; port: number }>(receiver, 'ready');
    const lines: string[] = [];
    for (let round = 1; round <= 2; round++) {
      for (const kind of KINDS) {
        const child = fork(__filename, [kind, String(total), `http://127.0.0.1:${port}`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        const r = await waitFor<{ type: 'result'; rate: number; cpuMicros: number }>(child, 'result', 300_000);
        lines.push(`| ${round} | ${kind} | ${Math.round(r.rate).toLocaleString('en-US')} | ${r.cpuMicros.toFixed(1)} |`);
      }
    }
    process.stdout.write(['| round | sender | requests/s | CPU µs per request |', '| --- | --- | ---: | ---: |', ...lines, ''].join('\n'));
  } finally {
    receiver.kill();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`sender-cpu failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
