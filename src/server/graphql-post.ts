// POST /graphql without Express in the way: the request every SDK backend sends, at high rates.
//
// Through Express a recordEvent paid for the router, body-parser (type-is, content-type,
// negotiator, raw-body, iconv-lite), the integration's per-request work and res.send's ETag:
// about a sixth of the CPU of the whole request. This handler does what that chain does for
// the plain case (a JSON body of known length, no content encoding) and hands the parsed body
// to Apollo exactly as @as-integrations/express5 would. Anything else (another method or path,
// a compressed, chunked, empty or non-JSON body, a charset other than UTF-8, a body over the
// limit) goes to Express as before, so every edge case keeps its one implementation.
import type http from 'node:http';
import { isUtf8 } from 'node:buffer';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';

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

export function createGraphQLPostHandler<C extends BaseContext>(
  apollo: ApolloServer<C>,
  context: (req: http.IncomingMessage) => Promise<C>,
  onError: (error: unknown) => void,
) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined); // the client went away; there is no one to answer
    req.on('end', () => {
      const parsed = parseJsonBody(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
      if (!parsed.ok) {
        // The same answer Express's error handler gives (http-server.ts).
        sendJson(res, 400, { errors: [{ message: `malformed request body: ${parsed.reason}`, extensions: { code: 'BAD_REQUEST' } }] });
        return;
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const url = req.url as string;
      const query = url.indexOf('?');
      apollo
        .executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: 'POST', headers, search: query >= 0 ? url.slice(query) : '', body: parsed.value },
          context: () => context(req),
        })
        .then(async (response) => {
          const outgoing: Record<string, string> = {};
          for (const [key, value] of response.headers) outgoing[key] = value;
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
        .catch((error: unknown) => {
          onError(error);
          if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
          else res.destroy();
        });
    });
  };
}
