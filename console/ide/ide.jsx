// GraphiQL for this service, bundled from npm (no CDN). Queries and mutations go over
// HTTP POST; subscriptions over graphql-ws on the same /graphql path. The API key comes
// from the field above the IDE (session storage, shared with the console) unless the
// Headers tab sets an Authorization header itself.
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { parse } from 'graphql';
import { createClient } from 'graphql-ws';
import 'graphiql/style.css';

const KEY_STORAGE = 'postbacks.apiKey';
const keyInput = document.getElementById('api-key');
document.getElementById('ide-bar').addEventListener('submit', (e) => e.preventDefault());
keyInput.value = sessionStorage.getItem(KEY_STORAGE) ?? '';
keyInput.addEventListener('input', () => {
  const key = keyInput.value.trim();
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
});

function authorizationOf(headers) {
  for (const [name, value] of Object.entries(headers ?? {})) if (name.toLowerCase() === 'authorization') return String(value);
  const key = keyInput.value.trim();
  return key ? `Bearer ${key}` : null;
}

function operationOf(params, documentAST) {
  let document = documentAST;
  if (!document) {
    try {
      document = parse(params.query);
    } catch {
      return null;
    }
  }
  const operations = document.definitions.filter((d) => d.kind === 'OperationDefinition');
  return (params.operationName ? operations.find((o) => o.name?.value === params.operationName) : operations[0])?.operation ?? null;
}

// One WebSocket per Authorization value: a new key opens a new connection (the server
// authenticates a socket once, in its connection parameters).
let socket = null;
function socketFor(authorization) {
  if (socket?.authorization === authorization) return socket.client;
  socket?.client.dispose();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  const client = createClient({ url, lazy: true, retryAttempts: 0, connectionParams: authorization ? { authorization } : {} });
  socket = { authorization, client };
  return client;
}

async function* subscribe(params, authorization) {
  const iterator = socketFor(authorization).iterate({ query: params.query, variables: params.variables ?? undefined, operationName: params.operationName ?? undefined });
  try {
    for await (const result of iterator) yield result;
  } catch (error) {
    // A closed socket (4401/4403: a missing or bad key) arrives as a CloseEvent, not an Error.
    const reason = error?.reason || error?.message || String(error);
    yield { errors: [{ message: `subscription ended: ${error?.code ?? ''} ${reason}`.trim() }] };
  }
}

function fetcher(params, opts) {
  const authorization = authorizationOf(opts?.headers);
  if (operationOf(params, opts?.documentAST) === 'subscription') return subscribe(params, authorization);
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  for (const [name, value] of Object.entries(opts?.headers ?? {})) if (name.toLowerCase() !== 'authorization') headers[name] = value;
  if (authorization) headers.authorization = authorization;
  return fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(params) }).then((response) => response.json());
}

const DEFAULT_QUERY = `# The API key above is sent as "Authorization: Bearer <key>".
# Ctrl-Enter runs the operation under the cursor; Ctrl-Space completes.

query WhoAmI {
  viewer { role apiKey { name } app { name } network { name slug } }
}

# Live status changes of the deliveries this key may read:
subscription Watch {
  deliveryUpdated { id status attempts lastStatusCode url }
}
`;

const search = new URLSearchParams(location.search);
createRoot(document.getElementById('ide')).render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={DEFAULT_QUERY}
    query={search.get('query') ?? undefined}
    variables={search.get('variables') ?? undefined}
    isHeadersEditorEnabled
    shouldPersistHeaders={false}
  />,
);
