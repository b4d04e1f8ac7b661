// GraphQL over HTTP, one way in. Every HTTP request first gets its request id (requestId); a
// plain POST /graphql (a JSON body of known length, no content encoding: what every SDK
// backend sends, at high rates) is then handed to Apollo here, without Express's router,
// body-parser and res.send in the way, exactly as @as-integrations/express5 would hand it.
// Anything else (GET, a compressed, chunked, empty or non-JSON body, another charset, a body
// over the limit) goes through Express (http-server.ts). Both answer their errors with
// writeHttpError, so a client sees one error body whichever way its request went.
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { GraphQLContext } from '../graphql/context';
import type { GraphQLFastPath } from './graphql-fast-path';

/** Request bodies (and WebSocket messages) larger than this are refused (413 / close 1009). */
export const MAX_BODY_BYTES = 1024 * 1024;
export const REQUEST_ID_HEADER = 'x-request-id';
/** A client's request id is kept when it looks like one (a proxy's or the caller's trace id). */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The errors answered before GraphQL runs, in GraphQL's error shape. */
export const HTTP_ERRORS = {
  badRequest: { status: 400, code: 'BAD_REQUEST', message: (detail: string) => `malformed request body: ${detail}` },
  tooLarge: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: () => `request body exceeds ${MAX_BODY_BYTES} bytes` },
  internal: { status: 500, code: 'INTERNAL_SERVER_ERROR', message: () => 'Internal server error' },
} as const;

export function writeHttpError(res: http.ServerResponse, kind: keyof typeof HTTP_ERRORS, detail = ''): void {
  const error = HTTP_ERRORS[kind];
  sendJson(res, error.status, { errors: [{ message: error.message(detail), extensions: { code: error.code } }] });
}

/** The request's id: the client's `x-request-id` when it is sane, else a new one; echoed on the response. */
export function assignRequestId(req: http.IncomingMessage, res: http.ServerResponse): string {
  const given = req.headers[REQUEST_ID_HEADER];
  const id = typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/** Whether the fast path takes this request; the rest go to Express. Looks at the request line and headers only. */
export function takesGraphQLPost(method: string | undefined, url: string | undefined, headers: http.IncomingHttpHeaders, maxBytes: number): boolean {
  if (method !== 'POST' || url === undefined) return false;
  if (url !== '/graphql' && !url.startsWith('/graphql?')) return false;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return false;
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  if (length === undefined || !/^\d+$/.test(length)) return false;
  const bytes = Number(length);
  if (bytes === 0 || bytes > maxBytes) return false;
  return isJsonInUtf8(headers['content-type']);
}

/** `application/json`, optionally with `charset=utf-8` (any case, any spacing). */
export function isJsonInUtf8(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [type, ...params] = contentType.split(';');
  if ((type as string).trim().toLowerCase() !== 'application/json') return false;
  for (const param of params) {
    const [name, value] = param.split('=');
    const key = name?.trim().toLowerCase();
    if (key === '') continue;
    if (key !== 'charset') return false;
    const charset = value?.trim().replace(/^"|"$/g, '').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') return false;
  }
  return true;
}

/**
 * Parses a JSON request body as body-parser's strict mode does (an object or an array at the
 * top); null with the reason when it is not valid UTF-8 or not such JSON.
 */
export function parseJsonBody(body: Buffer): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (!isUtf8(body)) return { ok: false, reason: 'the request body is not valid UTF-8' };
  const text = body.toString('utf8');
  const first = /\S/.exec(text)?.[0];
  if (first !== '{' && first !== '[') return { ok: false, reason: 'the request body must be a JSON object or array' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

function sendJson(res: http.ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Whether this request is for the fast path (takesGraphQLPost with the server's limit). */
export function isPlainGraphQLPost(req: http.IncomingMessage): boolean {
  return takesGraphQLPost(req.method, req.url, req.headers, MAX_BODY_BYTES);
}

export function createGraphQLPostHandler<C extends GraphQLContext & BaseContext>(
  apollo: ApolloServer<C>,
  context: (req: http.IncomingMessage) => Promise<C>,
  onError: (error: unknown, requestId: string | undefined) => void,
  fastPath: GraphQLFastPath | null = null,
) {
  const viaApollo = (req: http.IncomingMessage, res: http.ServerResponse, body: unknown): void => {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url as string;
    const query = url.indexOf('?');
    apollo
      .executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: 'POST', headers, search: query >= 0 ? url.slice(query) : '', body },
        context: () => context(req),
      })
      .then(async (response) => {
        const outgoing: Record<string, string> = {};
        for (const [key, value] of response.headers) outgoing[key] = value;
        const requestId = res.getHeader(REQUEST_ID_HEADER);
        if (typeof requestId === 'string') outgoing[REQUEST_ID_HEADER] = requestId;
        if (response.body.kind === 'complete') {
          outgoing['content-length'] = String(Buffer.byteLength(response.body.string));
          res.writeHead(response.status ?? 200, outgoing);
          res.end(response.body.string);
          return;
        }
        res.writeHead(response.status ?? 200, outgoing);
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      })
      .catch((error: unknown) => fail(res, error));
  };
  const fail = (res: http.ServerResponse, error: unknown): void => {
    onError(error, res.getHeader(REQUEST_ID_HEADER) as string | undefined);
    if (!res.headersSent) writeHttpError(res, 'internal');
    else res.destroy();
  };

  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined); // the client went away; there is no one to answer
    req.on('end', () => {
      const parsed = parseJsonBody(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
      if (!parsed.ok) {
        writeHttpError(res, 'badRequest', parsed.reason);
        return;
      }
      const fast = fastPath?.answer(parsed.value, req.headers, () => context(req));
      if (!fast) {
        viaApollo(req, res, parsed.value);
        return;
      }
      fast.then((answer) => {
        if (!answer) {
          viaApollo(req, res, parsed.value);
          return;
        }
        const outgoing: Record<string, string> = {};
        for (const [key, value] of answer.headers) outgoing[key] = value;
        const requestId = res.getHeader(REQUEST_ID_HEADER);
        if (typeof requestId === 'string') outgoing[REQUEST_ID_HEADER] = requestId;
        outgoing['content-length'] = String(Buffer.byteLength(answer.body));
        res.writeHead(answer.status, outgoing);
        res.end(answer.body);
      }, (error: unknown) => fail(res, error));
    });
  };
}
