// The HTTP senders behind sender.ts's contract: undici (the default) and got.
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import got, { type Got } from 'got';
import { Agent as UndiciAgent } from 'undici';
import {
  checkUrlForDispatch,
  DESTINATION_NOT_ALLOWED_CODE,
  findDestinationNotAllowed,
  guardedLookup,
} from './address-guard';
import { RENDERED_LIMITS } from '../macros/render-postback';
import { RequestDeadline } from './request-deadline';
import { signedContent, signPostback } from './signing';
import {
  DEFAULT_MAX_SOCKETS_PER_ORIGIN,
  IDLE_SOCKET_TIMEOUT_MS,
  MAX_DRAINED_RESPONSE_BYTES,
  RESPONSE_SNIPPET_BYTES,
  type OutgoingPostback,
  type PostbackSender,
  type SenderKind,
  type SenderOptions,
  type SendErrorKind,
  type SendResult,
} from './sender';

export const DEFAULT_POST_CONTENT_TYPE = 'application/json';
/** We compute these ourselves; a callback's configured value would only break framing. */
export const HEADERS_NOT_FORWARDED: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
]);

export function createSender(kind: SenderKind, options: SenderOptions): PostbackSender {
  switch (kind) {
    case 'got':
      return createGotSender(options);
    case 'undici':
      return createUndiciSender(options);
  }
}

// ---------------------------------------------------------------------------------------
// Shared preparation and result shaping

type Headers = Record<string, string | string[]>;

interface PreparedRequest {
  url: URL;
  method: 'GET' | 'POST';
  headers: Headers;
  body: string | undefined;
  timeoutMs: number;
}

type Prepared = { ok: true; request: PreparedRequest } | { ok: false; result: SendResult };

function failure(
  startedAt: Date,
  t0: number,
  errorKind: SendErrorKind,
  error: string,
  statusCode: number | null = null,
): SendResult {
  return {
    statusCode,
    error,
    errorKind,
    latencyMs: elapsed(t0),
    responseSnippet: null,
    retryAfter: null,
    startedAt,
  };
}

function elapsed(t0: number): number {
  return Math.max(0, Math.round(performance.now() - t0));
}

/** Why a rendered body or header value is too long to send (render-postback.ts stops rendering just past these), or null. */
export function overLongRendering(p: Pick<OutgoingPostback, 'body' | 'headers'>): string | null {
  if (p.body !== null && p.body !== undefined && p.body.length > RENDERED_LIMITS.body) {
    return `the rendered body exceeds ${RENDERED_LIMITS.body} characters`;
  }
  for (const { name, value } of p.headers) {
    if (value.length > RENDERED_LIMITS.headerValue) return `the rendered value of header ${JSON.stringify(name)} exceeds ${RENDERED_LIMITS.headerValue} characters`;
  }
  return null;
}

function prepare(p: OutgoingPostback, options: SenderOptions, startedAt: Date, t0: number): Prepared {
  const check = checkUrlForDispatch(p.url, options.allowPrivate);
  if (!check.ok) return { ok: false, result: failure(startedAt, t0, check.kind, check.reason) };
  const tooLong = overLongRendering(p);
  if (tooLong !== null) return { ok: false, result: failure(startedAt, t0, 'invalid-request', tooLong) };

  const headers: Headers = {};
  for (const { name, value: text } of p.headers) {
    const key = name.trim().toLowerCase();
    if (HEADERS_NOT_FORWARDED.has(key)) continue;
    const value = headerValueOnTheWire(text);
    try {
      http.validateHeaderName(key);
      http.validateHeaderValue(key, value);
    } catch {
      return {
        ok: false,
        result: failure(startedAt, t0, 'invalid-request', `invalid header ${JSON.stringify(name)}`),
      };
    }
    const existing = headers[key];
    if (existing === undefined) headers[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[key] = [existing, value];
  }

  // A GET carries no body; its signature covers its request target instead (signing.ts).
  const body = p.method === 'POST' ? (p.body ?? '') : undefined;
  if (body !== undefined && headers['content-type'] === undefined) {
    headers['content-type'] = DEFAULT_POST_CONTENT_TYPE;
  }
  // Ours win over a callback's configured headers: receivers dedupe and verify on them.
  headers['user-agent'] = options.userAgent;
  headers['webhook-id'] = p.deliveryId;
  if (p.signingSecret) {
    const timestamp = Math.floor(startedAt.getTime() / 1000);
    headers['webhook-timestamp'] = String(timestamp);
    const content = signedContent(p.method, check.url.pathname + check.url.search, body);
    // During a rotation's overlap both, newest first, space-separated (Standard Webhooks).
    headers['webhook-signature'] = p.previousSigningSecret
      ? `${signPostback(p.signingSecret, p.deliveryId, timestamp, content)} ${signPostback(p.previousSigningSecret, p.deliveryId, timestamp, content)}`
      : signPostback(p.signingSecret, p.deliveryId, timestamp, content);
  }
  return {
    ok: true,
    request: { url: check.url, method: p.method, headers, body, timeoutMs: p.timeoutMs },
  };
}

/**
 * Header values go out as their UTF-8 bytes. Node's HTTP clients write a header string one
 * byte per character (latin1) and refuse characters above U+00FF, so an app name like "Игра"
 * in a header would fail the delivery, and "é" would go out as a lone latin1 byte. Handing
 * them the UTF-8 bytes spelled as a latin1 string sends exactly those bytes.
 */
export function headerValueOnTheWire(value: string): string {
  return /[^\u0000-\u007f]/.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

/** Keeps the first RESPONSE_SNIPPET_BYTES of a body, decoded as UTF-8 without a split character. */
class SnippetCollector {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  add(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.total += buf.length;
    if (this.kept >= RESPONSE_SNIPPET_BYTES) return;
    const part = buf.subarray(0, RESPONSE_SNIPPET_BYTES - this.kept);
    this.chunks.push(part);
    this.kept += part.length;
  }

  get tooLargeToDrain(): boolean {
    return this.total > MAX_DRAINED_RESPONSE_BYTES;
  }

  text(): string {
    // StringDecoder.write holds back an incomplete trailing sequence; not calling end()
    // drops it instead of emitting U+FFFD.
    return new StringDecoder('utf8').write(Buffer.concat(this.chunks, this.kept));
  }
}

/**
 * The body's first bytes, the rest drained up to MAX_DRAINED_RESPONSE_BYTES (then the body is
 * destroyed, and with it the connection). Events rather than `for await`, whose async iterator
 * costs more than the rest of reading a small answer. A body that fails once the status is in
 * does not change the answer: it resolves with what was read.
 */
function readSnippet(body: Readable): Promise<SnippetCollector> {
  const snippet = new SnippetCollector();
  return new Promise((resolve) => {
    const done = () => resolve(snippet);
    body.on('data', (chunk: Buffer) => {
      snippet.add(chunk);
      if (snippet.tooLargeToDrain) {
        body.destroy();
        done();
      }
    });
    body.once('end', done);
    body.once('error', done);
    body.once('close', done);
  });
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    const cause = (error as Error & { cause?: unknown }).cause;
    const message =
      cause instanceof Error && cause.message && !error.message.includes(cause.message)
        ? `${error.message}: ${cause.message}`
        : error.message;
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(error);
}

const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function errorResult(error: unknown, startedAt: Date, t0: number, timeoutMs: number): SendResult {
  const refused = findDestinationNotAllowed(error);
  if (refused) return failure(startedAt, t0, 'blocked', refused.message);
  const e = error as { code?: unknown; name?: unknown } | null;
  if (e && e.code === DESTINATION_NOT_ALLOWED_CODE) {
    return failure(startedAt, t0, 'blocked', describeError(error));
  }
  const isTimeout =
    (e && (e.name === 'TimeoutError' || (typeof e.code === 'string' && TIMEOUT_CODES.has(e.code)))) ?? false;
  if (isTimeout) return failure(startedAt, t0, 'timeout', `timed out after ${timeoutMs} ms`);
  return failure(startedAt, t0, 'connection', describeError(error));
}

function safely(send: (p: OutgoingPostback) => Promise<SendResult>, now: () => Date) {
  return async (p: OutgoingPostback): Promise<SendResult> => {
    try {
      return await send(p);
    } catch (error) {
      // A bug in this file, not a receiver's answer; still never throw to the dispatcher.
      return failure(now(), performance.now(), 'connection', `sender error: ${describeError(error)}`);
    }
  };
}

// ---------------------------------------------------------------------------------------
// got

/**
 * got with everything that costs CPU per request and is not needed switched off: no
 * retries, hooks, cache, decompression or redirects; one extended instance so defaults are
 * merged once; the stream API so no promise wrapper buffers (possibly huge) bodies.
 */
export function createGotSender(options: SenderOptions): PostbackSender {
  const now = options.now ?? (() => new Date());
  const lookup = guardedLookup(options.allowPrivate);
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS_PER_ORIGIN,
    scheduling: 'lifo' as const,
    timeout: IDLE_SOCKET_TIMEOUT_MS,
    lookup: lookup as unknown as http.AgentOptions['lookup'],
  };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const client: Got = got.extend({
    agent: { http: httpAgent, https: httpsAgent },
    retry: { limit: 0 },
    followRedirect: false,
    throwHttpErrors: false,
    decompress: false,
    cache: false,
    dnsCache: false,
    http2: false,
    allowGetBody: false,
  });

  function attempt(p: OutgoingPostback): Promise<SendResult> {
    const startedAt = now();
    const t0 = performance.now();
    const prepared = prepare(p, options, startedAt, t0);
    if (!prepared.ok) return Promise.resolve(prepared.result);
    const req = prepared.request;

    return new Promise<SendResult>((resolve) => {
      let settled = false;
      let statusCode: number | null = null;
      let retryAfter: string | null = null;
      const snippet = new SnippetCollector();
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const answered = (): SendResult => ({
        statusCode,
        error: null,
        errorKind: null,
        latencyMs: elapsed(t0),
        responseSnippet: snippet.text(),
        retryAfter,
        startedAt,
      });

      const stream = client.stream(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        timeout: { request: req.timeoutMs },
      });
      stream.on('response', (response: http.IncomingMessage) => {
        statusCode = response.statusCode ?? null;
        retryAfter = headerValue(response.headers['retry-after']);
      });
      stream.on('data', (chunk: Buffer) => {
        snippet.add(chunk);
        if (snippet.tooLargeToDrain) {
          finish(answered());
          stream.destroy();
        }
      });
      stream.on('end', () => finish(answered()));
      stream.on('error', (error: unknown) => {
        // Once the status is in, the receiver has answered; a body that fails afterwards
        // does not change that answer.
        if (statusCode !== null) finish(answered());
        else finish(errorResult(error, startedAt, t0, req.timeoutMs));
      });
    });
  }

  return {
    send: safely(attempt, now),
    async close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------
// undici

export function createUndiciSender(options: SenderOptions): PostbackSender {
  const now = options.now ?? (() => new Date());
  const lookup = guardedLookup(options.allowPrivate);
  const agent = new UndiciAgent({
    connections: options.maxSockets ?? DEFAULT_MAX_SOCKETS_PER_ORIGIN,
    keepAliveTimeout: IDLE_SOCKET_TIMEOUT_MS,
    // undici 7 follows no redirects unless a redirect interceptor is composed in.
    connect: { lookup: lookup as never },
  });

  async function attempt(p: OutgoingPostback): Promise<SendResult> {
    const startedAt = now();
    const t0 = performance.now();
    const prepared = prepare(p, options, startedAt, t0);
    if (!prepared.ok) return prepared.result;
    const req = prepared.request;

    // One deadline for connect, headers and body alike, as got's `timeout.request`.
    const deadline = new RequestDeadline(req.timeoutMs);
    try {
      let response: Awaited<ReturnType<UndiciAgent['request']>>;
      try {
        response = await agent.request({
          origin: req.url.origin,
          path: req.url.pathname + req.url.search,
          method: req.method,
          headers: req.headers,
          body: req.body,
          signal: deadline,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        });
      } catch (error) {
        return errorResult(error, startedAt, t0, req.timeoutMs);
      }
      const snippet = await readSnippet(response.body as unknown as Readable);
      return {
        statusCode: response.statusCode,
        error: null,
        errorKind: null,
        latencyMs: elapsed(t0),
        responseSnippet: snippet.text(),
        retryAfter: headerValue(response.headers['retry-after']),
        startedAt,
      };
    } finally {
      deadline.clear();
    }
  }

  return {
    send: safely(attempt, now),
    async close() {
      await agent.close();
    },
  };
}
