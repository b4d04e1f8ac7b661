// The postback receiver of the benchmark, in its own process: answers every request 200 and
// notes when each arrived (CLOCK_MONOTONIC, comparable with the load generator's send times).
// Its own process so that its CPU is neither the service's nor the load generator's.
//
// Postback URLs carry ?e={{event_id}}: the first arrival of each event id is kept, for the
// recordEvent → arrival latency. Requests without it (the bare senders') are only counted.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monotonicMs, serveParent } from './lib/ipc';

let count = 0;
let duplicates = 0;
let firstMs = 0;
let lastMs = 0;
let tracking = false;
let arrivals = new Map<string, number>();

const server = http.createServer((req, res) => {
  const at = monotonicMs();
  count++;
  if (firstMs === 0) firstMs = at;
  lastMs = at;
  if (tracking) {
    const url = req.url ?? '';
    const i = url.indexOf('e=');
    if (i >= 0) {
      const end = url.indexOf('&', i);
      const key = decodeURIComponent(url.slice(i + 2, end < 0 ? undefined : end));
      if (arrivals.has(key)) duplicates++;
      else arrivals.set(key, at);
    }
  }
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end('ok');
});
// Longer than any client's idle timeout, so the receiver never closes a kept-alive socket first.
server.keepAliveTimeout = 65_000;

server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
});

serveParent((message) => {
  switch (message.type) {
    case 'reset':
      count = 0;
      duplicates = 0;
      firstMs = 0;
      lastMs = 0;
      tracking = message.track === true;
      arrivals = new Map();
      return { type: 'reset' };
    case 'count':
      return { type: 'count', count, firstMs, lastMs };
    case 'stats':
      return { type: 'stats', count, duplicates, firstMs, lastMs, cpu: process.cpuUsage(), arrivals: message.withArrivals ? [...arrivals] : [] };
    default:
      throw new Error(`unknown request ${message.type}`);
  }
});
