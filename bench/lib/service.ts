// The service under test, as a child process: `node dist/src/main.js` with the environment a
// deployment would give it, on the benchmark's own database.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { request } from 'undici';

export const BENCH_ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
export const MAIN_JS = resolve(__dirname, '..', '..', 'src', 'main.js');
export const WORKER_JS = resolve(__dirname, '..', '..', 'src', 'worker.js');

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

/** Resident set size now and at its peak (VmHWM), in bytes, from /proc; null where /proc is missing. */
export function memoryOf(pid: number): { rssBytes: number; peakRssBytes: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat; NaN where /proc is missing. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after "pid (comm) ".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Every child process the benchmark started and has not seen exit: killed if the run is interrupted. */
export const liveChildren = new Set<ChildProcess>();

export function trackChild(child: ChildProcess): ChildProcess {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

/**
 * One of the benchmark's own programs (dist/bench/FILE: the receiver, a bare program, a floor) as a
 * tracked child with an IPC channel; an exit with an error code is logged under `name`.
 */
export function benchChild(file: string, args: string[], name: string): ChildProcess {
  const child = trackChild(fork(resolve(__dirname, '..', file), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] }));
  child.once('exit', (code, signal) => {
    if (code !== 0 && code !== null && signal === null) process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${name} exited with code ${code}\n`);
  });
  return child;
}

/** SIGTERM, and the exit awaited; nothing when the child has exited already. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGTERM');
  await exited;
}

/** Kills what is left (an interrupted or failed run), so no service outlives the benchmark. */
export function killLiveChildren(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
}

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  origin: string;
  /** The highest VmHWM seen when stopping (or now, while running). */
  peakRssBytes(): number;
  stop(): Promise<void>;
}

export interface StartServiceOptions {
  databaseUrl: string;
  dispatcher: 'inline' | 'off';
  sender?: 'got' | 'undici' | null;
  logFile: string;
  profileDir?: string | null;
  extraEnv?: Record<string, string>;
  /**
   * `api` (default): `node dist/src/main.js`, the API with DISPATCHER as given. `worker`:
   * `npm run worker`'s `node dist/src/worker.js`, the dispatcher alone, its /healthz on
   * WORKER_PORT; it waits for the API to have migrated the database.
   */
  program?: 'api' | 'worker';
}

export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  const port = await freePort();
  const worker = options.program === 'worker';
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'production',
    ...(worker ? { WORKER_PORT: String(port) } : { PORT: String(port) }),
    DATABASE_URL: options.databaseUrl,
    ADMIN_API_KEY: BENCH_ADMIN_KEY,
    DISPATCHER: options.dispatcher,
    DISPATCH_ALLOW_PRIVATE: 'true',
    ...(options.sender ? { DISPATCH_SENDER: options.sender } : {}),
    ...options.extraEnv,
  };
  // BENCH_SERVICE_NODE_ARGS='--trace-gc …': Node flags for the service processes (diagnosis).
  const extraNodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const nodeArgs = [...extraNodeArgs, ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [])];
  const log = openSync(options.logFile, 'a');
  const child = trackChild(spawn(process.execPath, [...nodeArgs, worker ? WORKER_JS : MAIN_JS], { env, stdio: ['ignore', log, log] }));
  closeSync(log);
  const origin = `http://127.0.0.1:${port}`;
  let exited = false;
  let peak = 0;
  const exit = new Promise<number | null>((ok) => child.once('exit', (code) => {
    exited = true;
    ok(code);
  }));
  const notePeak = () => {
    const memory = child.pid ? memoryOf(child.pid) : null;
    if (memory) peak = Math.max(peak, memory.peakRssBytes);
    return peak;
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`the service exited during start; see ${options.logFile}`);
    try {
      const res = await request(`${origin}/healthz`);
      await res.body.dump();
      if (res.statusCode === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service did not answer /healthz within 60 s; see ${options.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    child,
    pid: child.pid as number,
    port,
    origin,
    peakRssBytes: notePeak,
    async stop() {
      if (exited) return;
      notePeak();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** One GraphQL call; throws on any error. */
export async function graphql<T>(origin: string, key: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await request(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const json = (await res.body.json()) as { data?: T; errors?: unknown[] };
  if (json.errors?.length || !json.data) throw new Error(`GraphQL error: ${JSON.stringify(json.errors ?? json)}`);
  return json.data;
}

export interface Fixtures {
  appId: string;
  networkSlug: string;
  callbackId: string;
  sdkKey: string;
}

/**
 * One app with one callback that fires for every event: a GET to the receiver whose URL
 * carries the event's key (for the latency match) and a few typical macros.
 */
export async function createFixtures(origin: string, receiverPort: number): Promise<Fixtures> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const { createApp } = await graphql<{ createApp: { id: string } }>(origin, BENCH_ADMIN_KEY, 'mutation($in: CreateAppInput!) { createApp(input: $in) { id } }', {
    in: { name: 'Bench app', bundleId: `com.example.bench.${suffix}`, platform: 'IOS' },
  });
  const networkSlug = `benchads${suffix}`;
  const { createNetwork } = await graphql<{ createNetwork: { id: string } }>(origin, BENCH_ADMIN_KEY, 'mutation($in: CreateNetworkInput!) { createNetwork(input: $in) { id } }', {
    in: { name: 'Bench Ads', slug: networkSlug },
  });
  const { createCallback } = await graphql<{ createCallback: { id: string } }>(origin, BENCH_ADMIN_KEY, 'mutation($in: CreateCallbackInput!) { createCallback(input: $in) { id } }', {
    in: {
      appId: createApp.id,
      networkId: createNetwork.id,
      name: 'bench postback',
      method: 'GET',
      urlTemplate: `http://127.0.0.1:${receiverPort}/pb?e={{event_id}}&d={{delivery_id}}&ifa={{advertising_id}}&cid={{campaign_id}}&rev={{revenue}}`,
      timeoutMs: 10_000,
    },
  });
  const { createApiKey } = await graphql<{ createApiKey: { secret: string } }>(origin, BENCH_ADMIN_KEY, 'mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }', {
    in: { name: 'bench sdk', role: 'SDK', appId: createApp.id },
  });
  return { appId: createApp.id, networkSlug, callbackId: createCallback.id, sdkKey: createApiKey.secret };
}
