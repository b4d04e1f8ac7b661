// The console's only way to the service: GraphQL over HTTP POST and graphql-ws, both on
// /graphql, with the API key from session storage (never localStorage, never a cookie: it
// goes when the tab closes).
import { createClient } from 'graphql-ws';

const KEY_STORAGE = 'postbacks.apiKey';

export const session = {
  get key() {
    return sessionStorage.getItem(KEY_STORAGE);
  },
  set(key) {
    sessionStorage.setItem(KEY_STORAGE, key);
  },
  clear() {
    sessionStorage.removeItem(KEY_STORAGE);
    closeSocket();
  },
};

export class GraphQLRequestError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('; '));
    this.errors = errors;
  }
  get code() {
    return this.errors[0]?.extensions?.code ?? null;
  }
}

export async function gql(query, variables, key = session.key) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new GraphQLRequestError([{ message: `the service did not answer (${error.message})` }]);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new GraphQLRequestError([{ message: `HTTP ${response.status} without a GraphQL answer` }]);
  }
  if (body.errors?.length) throw new GraphQLRequestError(body.errors);
  return body.data;
}

let client = null;
let connected = false;
const connectionListeners = new Set();

function socket() {
  if (!client) {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
    client = createClient({ url, lazy: true, connectionParams: () => ({ authorization: `Bearer ${session.key}` }) });
    const tell = (state) => {
      connected = state;
      for (const listener of connectionListeners) listener(state);
    };
    client.on('connected', () => tell(true));
    client.on('closed', () => tell(false));
  }
  return client;
}

/** Calls `listener(true|false)` now and whenever the WebSocket opens or closes; returns the unwatch function. */
export function watchConnection(listener) {
  connectionListeners.add(listener);
  listener(connected);
  return () => connectionListeners.delete(listener);
}

/** One WebSocket for every live view; connects on the first subscription. Returns the unsubscribe function. */
export function subscribe(query, variables, onData, onError) {
  return socket().subscribe(
    { query, variables },
    {
      next: (result) => (result.errors ? onError(new GraphQLRequestError(result.errors)) : onData(result.data)),
      error: (error) => onError(error instanceof Error ? error : new GraphQLRequestError([{ message: `live updates stopped (${error?.code ?? ''} ${error?.reason ?? ''})` }])),
      complete: () => undefined,
    },
  );
}

export function closeSocket() {
  client?.dispose();
  client = null;
  connected = false;
}

/**
 * Whether the served schema has a field, asked without running it: a skipped selection is
 * still validated, so an unknown field fails and a known one resolves nothing (and needs no
 * permission). Works with introspection turned off.
 */
export async function schemaHas(probeQuery) {
  try {
    await gql(probeQuery);
    return true;
  } catch {
    return false;
  }
}

export const FEATURE_PROBES = {
  deliveryStats: 'query ConsoleHasDeliveryStats { deliveryStats(from: "2000-01-01T00:00:00.000Z", to: "2000-01-01T01:00:00.000Z") @skip(if: true) { successRate } }',
  callbackHealth: 'query ConsoleHasCallbackHealth { apps @skip(if: true) { callbacks { health { state } } } }',
};
