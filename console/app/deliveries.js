// What partners (and admins) watch: deliveries live from deliveryUpdated, and one
// delivery's rendered request with every attempt.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { gql, subscribe, watchConnection } from './api.js';
import { ErrorBox, STATUSES, StatusBadge, formatTime, html, navigate, useFlash, useLoad } from './ui.js';
import { LatencyChart, OutcomeChart } from './charts.js';

const ROW_FIELDS = `id status method url attempts maxAttempts lastStatusCode createdAt updatedAt nextAttemptAt
  event { id name app { id name } } callback { id name } network { id name }`;

const LIST_QUERY = `query ConsoleDeliveries($filter: DeliveryFilter, $first: Int) {
  deliveries(filter: $filter, first: $first) { edges { node { ${ROW_FIELDS} } } }
}`;
const LIVE_SUBSCRIPTION = `subscription ConsoleDeliveryUpdated { deliveryUpdated { ${ROW_FIELDS} } }`;
const PAGE_SIZE = 50;

function matches(row, filters) {
  return (!filters.status || row.status === filters.status) && (!filters.appId || row.event.app.id === filters.appId) && (!filters.callbackId || row.callback.id === filters.callbackId);
}

function DeliveryRow({ row }) {
  const ref = useFlash(`${row.status}:${row.attempts}`);
  return html`<tr ref=${ref} class="clickable" data-delivery-id=${row.id} onClick=${() => navigate(`/deliveries/${row.id}`)}>
    <td><${StatusBadge} status=${row.status} /></td>
    <td class="nowrap">${formatTime(row.createdAt)}</td>
    <td>${row.event.name}</td>
    <td>${row.event.app.name}</td>
    <td>${row.callback.name}</td>
    <td class="num">${row.attempts}/${row.maxAttempts}</td>
    <td class="num">${row.lastStatusCode ?? '—'}</td>
    <td class="url" title=${row.url}>${row.method} ${row.url}</td>
  </tr>`;
}

export function DeliveriesView({ viewer, features }) {
  const [filters, setFilters] = useState({ status: '', appId: '', callbackId: '' });
  const [rows, setRows] = useState([]);
  const [error, setError] = useState(null);
  const [live, setLive] = useState(false);
  // Filter choices: an admin lists every app; a partner sees the apps and callbacks its deliveries name.
  const [seen, setSeen] = useState({ apps: new Map(), callbacks: new Map() });
  const filtersRef = useRef(filters);
  filtersRef.current = filters;

  const remember = (list) =>
    setSeen((prev) => {
      const apps = new Map(prev.apps);
      const callbacks = new Map(prev.callbacks);
      for (const r of list) {
        apps.set(r.event.app.id, r.event.app.name);
        callbacks.set(r.callback.id, r.callback.name);
      }
      return apps.size === prev.apps.size && callbacks.size === prev.callbacks.size ? prev : { apps, callbacks };
    });

  useEffect(() => {
    let current = true;
    const filter = { ...(filters.status ? { statuses: [filters.status] } : {}), ...(filters.appId ? { appId: filters.appId } : {}), ...(filters.callbackId ? { callbackId: filters.callbackId } : {}) };
    gql(LIST_QUERY, { filter, first: PAGE_SIZE }).then(
      (data) => {
        if (!current) return;
        const list = data.deliveries.edges.map((e) => e.node);
        setRows(list);
        remember(list);
        setError(null);
      },
      (e) => current && setError(e),
    );
    return () => {
      current = false;
    };
  }, [filters.status, filters.appId, filters.callbackId]);

  useEffect(() => {
    const unsubscribe = subscribe(
      LIVE_SUBSCRIPTION,
      {},
      (data) => {
        const row = data.deliveryUpdated;
        remember([row]);
        setRows((prev) => {
          const rest = prev.filter((r) => r.id !== row.id);
          if (!matches(row, filtersRef.current)) return rest;
          const at = prev.findIndex((r) => r.id === row.id);
          if (at >= 0) return prev.map((r) => (r.id === row.id ? row : r));
          return [row, ...rest].slice(0, PAGE_SIZE * 4);
        });
      },
      (e) => setError(e),
    );
    // graphql-ws has no "subscribed" acknowledgement; the socket being open is the nearest sign.
    const unwatch = watchConnection(setLive);
    return () => {
      unwatch();
      unsubscribe();
    };
  }, []);

  const appChoices = useAdminApps(viewer);
  const apps = appChoices ?? [...seen.apps].map(([id, name]) => ({ id, name }));
  const callbacks = appChoices
    ? appChoices.filter((a) => !filters.appId || a.id === filters.appId).flatMap((a) => a.callbacks)
    : [...seen.callbacks].map(([id, name]) => ({ id, name }));
  const set = (key) => (e) => setFilters({ ...filters, [key]: e.currentTarget.value });

  return html`<section>
    ${features.deliveryStats ? html`<${StatsPanel} />` : html`<p class="placeholder" data-placeholder="deliveryStats">Success-rate and latency charts appear here once the service offers <code>deliveryStats</code>.</p>`}
    <div class="toolbar">
      <h2>Deliveries</h2>
      <span class=${live ? 'live on' : 'live'} title="updates arrive over a WebSocket without reloading">${live ? 'live' : 'connecting…'}</span>
      <label>Status <select name="status" value=${filters.status} onChange=${set('status')}>
        <option value="">all</option>${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
      </select></label>
      <label>App <select name="app" value=${filters.appId} onChange=${set('appId')}>
        <option value="">all</option>${apps.map((a) => html`<option value=${a.id}>${a.name}</option>`)}
      </select></label>
      <label>Callback <select name="callback" value=${filters.callbackId} onChange=${set('callbackId')}>
        <option value="">all</option>${callbacks.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
      </select></label>
    </div>
    <${ErrorBox} error=${error} />
    <table class="grid" id="deliveries">
      <thead><tr><th>Status</th><th>Created</th><th>Event</th><th>App</th><th>Callback</th><th>Attempts</th><th>HTTP</th><th>Request</th></tr></thead>
      <tbody>${rows.map((row) => html`<${DeliveryRow} key=${row.id} row=${row} />`)}</tbody>
    </table>
    ${rows.length === 0 ? html`<p class="empty">No deliveries yet${filters.status || filters.appId || filters.callbackId ? ' for these filters' : ''}. New ones appear here as they are queued.</p>` : null}
  </section>`;
}

/** Every app with its callbacks, for an admin's filters; null for other keys (which may not list apps). */
function useAdminApps(viewer) {
  const [apps, setApps] = useState(null);
  useEffect(() => {
    if (viewer.role !== 'ADMIN') return;
    gql('query ConsoleFilterApps { apps { id name callbacks { id name } } }').then((d) => setApps(d.apps), () => setApps(null));
  }, [viewer.role]);
  return apps;
}

const STATS_QUERY = `query ConsoleStats($from: DateTime!, $to: DateTime!) {
  deliveryStats(from: $from, to: $to, bucket: HOUR) {
    queued delivered failed inProgress attempts successRate p50LatencyMs p95LatencyMs p99LatencyMs
    topErrors { error count }
    series { start delivered failed p50LatencyMs p95LatencyMs }
  }
}`;

function StatsPanel() {
  const range = useMemo(() => {
    const to = new Date();
    return { from: new Date(to.getTime() - 24 * 3600_000).toISOString(), to: to.toISOString() };
  }, []);
  const { data, error } = useLoad(() => gql(STATS_QUERY, range), []);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!data) return html`<div class="stats">Loading statistics…</div>`;
  const s = data.deliveryStats;
  const rate = s.successRate == null ? '—' : `${(s.successRate * 100).toFixed(1)} %`;
  return html`<div class="stats" id="stats">
    <div class="figures">
      <div><b>${rate}</b><span>success, last 24 h</span></div>
      <div><b>${s.delivered}</b><span>delivered</span></div>
      <div><b>${s.failed}</b><span>failed</span></div>
      <div><b>${s.inProgress}</b><span>in progress</span></div>
      <div><b>${s.p50LatencyMs ?? '—'} / ${s.p95LatencyMs ?? '—'} ms</b><span>p50 / p95 latency</span></div>
    </div>
    <div class="charts">
      <figure><${OutcomeChart} series=${s.series} /><figcaption>per hour: delivered (green), failed (red)</figcaption></figure>
      <figure><${LatencyChart} series=${s.series} /><figcaption>latency per hour: p50 (blue), p95 (orange)</figcaption></figure>
    </div>
    ${s.topErrors.length ? html`<p class="muted">Top errors: ${s.topErrors.map((e) => `${e.error} (${e.count})`).join(' · ')}</p>` : null}
  </div>`;
}

const DELIVERY_QUERY = `query ConsoleDelivery($id: ID!) {
  delivery(id: $id) {
    id status method url body headers { name value } attempts maxAttempts lastStatusCode lastError
    nextAttemptAt deliveredAt createdAt updatedAt
    event { id eventId name occurredAt receivedAt country campaignId networkSlug revenue currency app { id name } }
    callback { id name } network { id name }
    attemptLog { number startedAt statusCode latencyMs error responseSnippet }
  }
}`;

export function DeliveryView({ id, viewer }) {
  const { data, error, reload } = useLoad(() => gql(DELIVERY_QUERY, { id }), [id]);
  const [action, setAction] = useState({ busy: false, error: null });
  useEffect(
    () =>
      subscribe(
        'subscription ConsoleDeliveryPage { deliveryUpdated { id status attempts } }',
        {},
        (d) => d.deliveryUpdated.id === id && reload(),
        () => undefined,
      ),
    [id],
  );
  const d = data?.delivery;
  const panel = useFlash(d ? `${d.status}:${d.attempts}` : '');
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!data) return html`<p>Loading…</p>`;
  if (!d) return html`<p class="error">No delivery ${id} (or not one this key may read).</p>`;

  const redeliver = async () => {
    setAction({ busy: true, error: null });
    try {
      await gql('mutation ConsoleRedeliver($id: ID!) { redeliver(deliveryId: $id) { id status } }', { id });
      setAction({ busy: false, error: null });
      reload();
    } catch (e) {
      setAction({ busy: false, error: e });
    }
  };
  const finished = d.status === 'DELIVERED' || d.status === 'FAILED';
  return html`<section class="delivery" id="delivery" ref=${panel}>
    <p><a href="#/deliveries">← Deliveries</a></p>
    <div class="toolbar">
      <h2>Delivery <code>${d.id}</code></h2>
      <${StatusBadge} status=${d.status} />
      ${viewer.role === 'ADMIN' && finished ? html`<button id="redeliver" disabled=${action.busy} onClick=${redeliver}>Redeliver</button>` : null}
    </div>
    <${ErrorBox} error=${action.error} />
    <dl class="facts">
      <dt>Event</dt><dd>${d.event.name}${d.event.eventId ? html` <span class="muted">(${d.event.eventId})</span>` : null} · ${d.event.app.name} · occurred ${formatTime(d.event.occurredAt)}</dd>
      <dt>Callback</dt><dd>${d.callback.name}${d.network ? ` → ${d.network.name}` : ''}</dd>
      <dt>Attempts</dt><dd>${d.attempts} of ${d.maxAttempts}${d.nextAttemptAt ? ` · next at ${formatTime(d.nextAttemptAt)}` : ''}${d.deliveredAt ? ` · delivered ${formatTime(d.deliveredAt)}` : ''}</dd>
      ${d.lastError ? html`<dt>Last error</dt><dd class="error-text">${d.lastError}</dd>` : null}
    </dl>
    <h3>Request, as sent on every attempt</h3>
    <pre class="request" id="request">${d.method} ${d.url}${d.headers.map((hd) => `\n${hd.name}: ${hd.value}`).join('')}${d.body ? `\n\n${d.body}` : ''}</pre>
    <h3>Attempts</h3>
    ${d.attemptLog.length === 0
      ? html`<p class="empty">No attempt yet.</p>`
      : html`<table class="grid" id="attempts">
          <thead><tr><th>#</th><th>Started</th><th>HTTP</th><th>Latency</th><th>Error</th><th>Response</th></tr></thead>
          <tbody>${d.attemptLog.map(
            (a) => html`<tr data-attempt=${a.number}>
              <td class="num">${a.number}</td>
              <td class="nowrap">${formatTime(a.startedAt)}</td>
              <td class="num">${a.statusCode ?? '—'}</td>
              <td class="num">${a.latencyMs} ms</td>
              <td class="error-text">${a.error ?? ''}</td>
              <td><code class="snippet">${a.responseSnippet ?? ''}</code></td>
            </tr>`,
          )}</tbody>
        </table>`}
  </section>`;
}
