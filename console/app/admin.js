// ADMIN views: configuration (apps, networks, callbacks with their health, the callback
// editor with a live preview), the macro catalogue and API keys. Only rendered, and only
// fetched, for an ADMIN key.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { GraphQLRequestError, gql } from './api.js';
import { ErrorBox, formatTime, html, navigate, useDebounced, useLoad } from './ui.js';

const PLATFORMS = ['IOS', 'ANDROID', 'WEB', 'OTHER'];

function useSubmit(action, onDone) {
  const [state, setState] = useState({ busy: false, error: null });
  const submit = async (e) => {
    if (typeof e?.preventDefault === 'function') e.preventDefault();
    setState({ busy: true, error: null });
    try {
      const result = await action(e);
      setState({ busy: false, error: null });
      onDone?.(result);
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return [state, submit];
}

function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

export function AppsView() {
  const { data, error, reload } = useLoad(() => gql('query ConsoleApps { apps { id name bundleId platform createdAt callbacks { id } } }'), []);
  const [state, submit] = useSubmit(async (e) => {
    const form = e.currentTarget;
    const v = formValues(form);
    await gql('mutation ConsoleCreateApp($input: CreateAppInput!) { createApp(input: $input) { id } }', { input: { name: v.name, bundleId: v.bundleId, platform: v.platform } });
    form.reset();
  }, reload);
  return html`<section>
    <h2>Apps</h2>
    <${ErrorBox} error=${error} />
    <table class="grid"><thead><tr><th>Name</th><th>Bundle id</th><th>Platform</th><th>Callbacks</th><th>Created</th></tr></thead>
      <tbody>${(data?.apps ?? []).map((a) => html`<tr><td>${a.name}</td><td><code>${a.bundleId}</code></td><td>${a.platform}</td><td class="num"><a href="#/callbacks">${a.callbacks.length}</a></td><td>${formatTime(a.createdAt)}</td></tr>`)}</tbody>
    </table>
    <form class="inline-form" onSubmit=${submit}>
      <h3>New app</h3>
      <input name="name" placeholder="name" required />
      <input name="bundleId" placeholder="bundle id, e.g. com.example.game" required />
      <select name="platform">${PLATFORMS.map((p) => html`<option>${p}</option>`)}</select>
      <button disabled=${state.busy}>Create app</button>
      <${ErrorBox} error=${state.error} />
    </form>
  </section>`;
}

export function NetworksView() {
  const { data, error, reload } = useLoad(() => gql('query ConsoleNetworks { networks { id name slug createdAt } }'), []);
  const [state, submit] = useSubmit(async (e) => {
    const form = e.currentTarget;
    const v = formValues(form);
    await gql('mutation ConsoleCreateNetwork($input: CreateNetworkInput!) { createNetwork(input: $input) { id } }', { input: { name: v.name, slug: v.slug } });
    form.reset();
  }, reload);
  return html`<section>
    <h2>Networks</h2>
    <${ErrorBox} error=${error} />
    <table class="grid"><thead><tr><th>Name</th><th>Slug</th><th>Created</th></tr></thead>
      <tbody>${(data?.networks ?? []).map((n) => html`<tr><td>${n.name}</td><td><code>${n.slug}</code></td><td>${formatTime(n.createdAt)}</td></tr>`)}</tbody>
    </table>
    <form class="inline-form" onSubmit=${submit}>
      <h3>New network</h3>
      <input name="name" placeholder="name" required />
      <input name="slug" placeholder="slug, e.g. exampleads" required pattern="[a-z0-9_-]+" />
      <button disabled=${state.busy}>Create network</button>
      <${ErrorBox} error=${state.error} />
    </form>
  </section>`;
}

function HealthBadge({ health }) {
  if (!health) return null;
  const title = [
    health.consecutiveFailures ? `${health.consecutiveFailures} failures in a row` : null,
    health.pausedUntil ? `paused until ${formatTime(health.pausedUntil)}` : null,
    health.disabledReason,
  ].filter(Boolean).join(' · ');
  return html`<span class=${`badge health-${health.state.toLowerCase()}`} title=${title}>${health.state}</span>`;
}

const HEALTH_FIELDS = 'health { state consecutiveFailures lastSuccessAt lastFailureAt pausedUntil disabledReason changedAt }';

export function CallbacksView({ features }) {
  const { data, error, reload } = useLoad(
    () =>
      gql(`query ConsoleCallbacks {
        apps { id name callbacks { id name enabled method urlTemplate eventNames attributedOnly network { id name } ${features.callbackHealth ? HEALTH_FIELDS : ''} } }
        networks { id name }
      }`),
    [features.callbackHealth],
  );
  const [state, submit] = useSubmit(async (e) => {
    const v = formValues(e.currentTarget);
    const created = await gql('mutation ConsoleCreateCallback($input: CreateCallbackInput!) { createCallback(input: $input) { id } }', {
      input: { appId: v.appId, networkId: v.networkId || null, name: v.name, urlTemplate: v.urlTemplate },
    });
    return created.createCallback.id;
  }, (id) => navigate(`/callbacks/${id}`));
  const apps = data?.apps ?? [];
  return html`<section>
    <h2>Callbacks</h2>
    <${ErrorBox} error=${error} />
    <table class="grid" id="callbacks"><thead><tr><th>Name</th><th>App</th><th>Network</th><th>Events</th><th>State</th><th>URL template</th></tr></thead>
      <tbody>${apps.flatMap((a) =>
        a.callbacks.map(
          (c) => html`<tr class="clickable" onClick=${() => navigate(`/callbacks/${c.id}`)} data-callback-id=${c.id}>
            <td><a href=${`#/callbacks/${c.id}`}>${c.name}</a></td><td>${a.name}</td><td>${c.network?.name ?? html`<span class="muted">any</span>`}</td>
            <td>${c.eventNames.length ? c.eventNames.join(', ') : html`<span class="muted">all</span>`}</td>
            <td>${features.callbackHealth ? html`<${HealthBadge} health=${c.health} />` : html`<span class=${c.enabled ? 'badge on' : 'badge off'}>${c.enabled ? 'enabled' : 'disabled'}</span>`}</td>
            <td class="url"><code>${c.method} ${c.urlTemplate}</code></td>
          </tr>`,
        ),
      )}</tbody>
    </table>
    ${features.callbackHealth ? null : html`<p class="placeholder" data-placeholder="health">Callback health (circuit breaker state) appears here once the service offers <code>Callback.health</code>.</p>`}
    <form class="inline-form" onSubmit=${submit}>
      <h3>New callback</h3>
      <select name="appId" required>${apps.map((a) => html`<option value=${a.id}>${a.name}</option>`)}</select>
      <select name="networkId"><option value="">any destination</option>${(data?.networks ?? []).map((n) => html`<option value=${n.id}>${n.name}</option>`)}</select>
      <input name="name" placeholder="name" required />
      <input name="urlTemplate" class="wide" placeholder="https://partner.example/postback?ifa={{advertising_id}}" required />
      <button disabled=${state.busy || apps.length === 0}>Create and edit</button>
      <${ErrorBox} error=${state.error} />
    </form>
  </section>`;
}

const CALLBACK_QUERY = `query ConsoleCallback($id: ID!) {
  callback(id: $id) {
    id name enabled method urlTemplate bodyTemplate headers { name value } eventNames attributedOnly maxAttempts timeoutMs
    app { id name } network { id name slug }
  }
  networks { id name slug }
  builtInMacros { name }
}`;

const PREVIEW_QUERY = `query ConsolePreview($id: ID!, $event: RecordEventInput!, $draft: UpdateCallbackInput) {
  previewCallback(callbackId: $id, event: $event, draft: $draft) { method url headers { name value } body wouldFire notFiredBecause }
}`;

function headersFromText(text) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const colon = line.indexOf(':');
      return colon < 0 ? { name: line, value: '' } : { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() };
    });
}

function sampleEventFor(callback) {
  return {
    name: callback.eventNames[0] ?? 'install',
    ...(callback.network ? { network: callback.network.slug } : {}),
    advertisingId: '6D92078A-8246-4BA4-AE5B-76104861E7DC',
    ipAddress: '203.0.113.7',
    country: 'US',
    campaignId: 'summer sale',
    revenue: 4.99,
    currency: 'USD',
  };
}

/** The template with each placeholder marked: known, or unknown to the service (flagged inline). */
function MarkedTemplate({ text, unknown }) {
  if (!text) return null;
  const parts = [];
  const pattern = /\{\{\s*([^}]*?)\s*\}\}/g;
  let last = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    parts.push(text.slice(last, m.index));
    const names = m[1].split('||').map((part) => part.split('|')[0].trim());
    const bad = names.some((n) => unknown.includes(n));
    parts.push(html`<mark class=${bad ? 'macro unknown' : 'macro'} title=${bad ? `unknown macro: ${names.filter((n) => unknown.includes(n)).join(', ')}` : 'macro'}>${m[0]}</mark>`);
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return html`<div class="marked">${parts}</div>`;
}

export function CallbackEditor({ id, features }) {
  const { data, error } = useLoad(() => gql(CALLBACK_QUERY, { id }), [id]);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!data) return html`<p>Loading…</p>`;
  if (!data.callback) return html`<p class="error">No callback ${id}.</p>`;
  return html`<${EditorForm} key=${id} callback=${data.callback} networks=${data.networks} builtIns=${data.builtInMacros} features=${features} />`;
}

function EditorForm({ callback, networks }) {
  const [form, setForm] = useState(() => ({
    name: callback.name,
    enabled: callback.enabled,
    method: callback.method,
    networkId: callback.network?.id ?? '',
    attributedOnly: callback.attributedOnly,
    eventNames: callback.eventNames.join(', '),
    urlTemplate: callback.urlTemplate,
    bodyTemplate: callback.bodyTemplate ?? '',
    headers: callback.headers.map((hd) => `${hd.name}: ${hd.value}`).join('\n'),
    maxAttempts: String(callback.maxAttempts),
    timeoutMs: String(callback.timeoutMs),
    sample: JSON.stringify(sampleEventFor(callback), null, 2),
  }));
  const [preview, setPreview] = useState({ result: null, error: null, unknown: [], pending: true });
  const [save, setSave] = useState({ busy: false, error: null, savedAt: null });
  const sequence = useRef(0);

  const draft = useMemo(
    () => ({
      name: form.name,
      enabled: form.enabled,
      method: form.method,
      networkId: form.networkId || null,
      attributedOnly: form.attributedOnly,
      eventNames: form.eventNames.split(',').map((s) => s.trim()).filter(Boolean),
      urlTemplate: form.urlTemplate,
      bodyTemplate: form.bodyTemplate.trim() === '' ? null : form.bodyTemplate,
      headers: headersFromText(form.headers),
      maxAttempts: Number(form.maxAttempts),
      timeoutMs: Number(form.timeoutMs),
    }),
    [form],
  );
  const settled = useDebounced(JSON.stringify({ draft, sample: form.sample }), 250);

  useEffect(() => {
    const { draft: settledDraft, sample } = JSON.parse(settled);
    let event;
    try {
      event = { ...JSON.parse(sample), appId: callback.app.id };
    } catch (e) {
      setPreview((p) => ({ ...p, error: new Error(`sample event: ${e.message}`), pending: false }));
      return;
    }
    const mine = ++sequence.current;
    setPreview((p) => ({ ...p, pending: true }));
    gql(PREVIEW_QUERY, { id: callback.id, event, draft: settledDraft }).then(
      (d) => mine === sequence.current && setPreview({ result: d.previewCallback, error: null, unknown: [], pending: false }),
      (e) => {
        if (mine !== sequence.current) return;
        const unknown = e instanceof GraphQLRequestError ? e.errors.flatMap((x) => x.extensions?.unknownMacros ?? []) : [];
        setPreview((p) => ({ result: p.result, error: e, unknown, pending: false }));
      },
    );
  }, [settled]);

  const set = (key) => (e) => {
    const target = e.currentTarget;
    setForm((f) => ({ ...f, [key]: target.type === 'checkbox' ? target.checked : target.value }));
  };
  const onSave = async (e) => {
    e.preventDefault();
    setSave({ busy: true, error: null, savedAt: null });
    try {
      await gql('mutation ConsoleUpdateCallback($id: ID!, $input: UpdateCallbackInput!) { updateCallback(id: $id, input: $input) { id updatedAt } }', { id: callback.id, input: draft });
      setSave({ busy: false, error: null, savedAt: new Date() });
    } catch (error) {
      setSave({ busy: false, error, savedAt: null });
    }
  };

  const r = preview.result;
  const problems = preview.error instanceof GraphQLRequestError ? preview.error.errors.flatMap((x) => x.extensions?.problems ?? [{ field: x.extensions?.field ?? '', reason: x.message }]) : [];
  const problemFor = (field) => problems.filter((p) => p.field === `draft.${field}` || p.field.startsWith(`draft.${field}.`));
  const fieldNote = (field) => problemFor(field).map((p) => html`<div class="field-error">${p.reason}</div>`);

  return html`<section class="editor" id="editor">
    <p><a href="#/callbacks">← Callbacks</a></p>
    <h2>${callback.name} <span class="muted">· ${callback.app.name}</span></h2>
    <div class="split">
      <form class="editor-form" onSubmit=${onSave}>
        <label>Name <input name="name" value=${form.name} onInput=${set('name')} /></label>
        <div class="row">
          <label>Method <select name="method" value=${form.method} onChange=${set('method')}><option>GET</option><option>POST</option></select></label>
          <label>Network <select name="networkId" value=${form.networkId} onChange=${set('networkId')}><option value="">any destination</option>${networks.map((n) => html`<option value=${n.id}>${n.name}</option>`)}</select></label>
          <label class="check"><input type="checkbox" name="enabled" checked=${form.enabled} onChange=${set('enabled')} /> enabled</label>
          <label class="check"><input type="checkbox" name="attributedOnly" checked=${form.attributedOnly} onChange=${set('attributedOnly')} /> attributed only</label>
        </div>
        ${fieldNote('attributedOnly')}
        <label>Event names <span class="muted">(comma-separated; empty: every event)</span><input name="eventNames" value=${form.eventNames} onInput=${set('eventNames')} /></label>
        <label>URL template<textarea name="urlTemplate" rows="3" spellcheck="false" onInput=${set('urlTemplate')} value=${form.urlTemplate}></textarea></label>
        <${MarkedTemplate} text=${form.urlTemplate} unknown=${preview.unknown} />
        ${fieldNote('urlTemplate')}
        <label>Body template <span class="muted">(POST)</span><textarea name="bodyTemplate" rows="4" spellcheck="false" onInput=${set('bodyTemplate')} value=${form.bodyTemplate}></textarea></label>
        <${MarkedTemplate} text=${form.bodyTemplate} unknown=${preview.unknown} />
        ${fieldNote('bodyTemplate')}
        <label>Headers <span class="muted">(one "Name: value" a line)</span><textarea name="headers" rows="2" spellcheck="false" onInput=${set('headers')} value=${form.headers}></textarea></label>
        <${MarkedTemplate} text=${form.headers} unknown=${preview.unknown} />
        ${fieldNote('headers')}
        <div class="row">
          <label>Max attempts <input name="maxAttempts" type="number" value=${form.maxAttempts} onInput=${set('maxAttempts')} /></label>
          <label>Timeout (ms) <input name="timeoutMs" type="number" value=${form.timeoutMs} onInput=${set('timeoutMs')} /></label>
        </div>
        ${fieldNote('maxAttempts')}${fieldNote('timeoutMs')}
        <div class="row">
          <button id="save" disabled=${save.busy || preview.unknown.length > 0}>Save</button>
          ${save.savedAt ? html`<span class="ok">Saved ${formatTime(save.savedAt.toISOString())}</span>` : null}
        </div>
        <${ErrorBox} error=${save.error} />
      </form>
      <div class="preview-pane">
        <label>Sample event <span class="muted">(RecordEventInput as JSON; appId is this callback's)</span><textarea name="sample" rows="10" spellcheck="false" onInput=${set('sample')} value=${form.sample}></textarea></label>
        <h3>Preview ${preview.pending ? html`<span class="muted">…</span>` : null}</h3>
        ${preview.unknown.length ? html`<div class="error" id="unknown-macros" role="alert">Unknown macro${preview.unknown.length > 1 ? 's' : ''}: ${preview.unknown.map((n) => html`<code>{{${n}}}</code> `)}</div>` : null}
        ${preview.error && !preview.unknown.length ? html`<${ErrorBox} error=${preview.error} />` : null}
        ${r ? html`<div class=${preview.error ? 'stale' : ''}>
          <p>${r.wouldFire ? html`<span class="badge on">would fire</span>` : html`<span class="badge off">would not fire</span> <span class="muted">${r.notFiredBecause}</span>`}</p>
          <pre class="request" id="preview">${r.method} ${r.url}${r.headers.map((hd) => `\n${hd.name}: ${hd.value}`).join('')}${r.body ? `\n\n${r.body}` : ''}</pre>
        </div>` : null}
      </div>
    </div>
  </section>`;
}

export function MacrosView() {
  const { data, error } = useLoad(() => gql('query ConsoleMacros { builtInMacros { name description example } macros { id name source path value defaultValue transform } }'), []);
  return html`<section>
    <h2>Macros</h2>
    <${ErrorBox} error=${error} />
    <p class="muted">Write <code>{{name}}</code> in a URL, body or header template. An app's own macros come first, then global ones, then the built-ins.</p>
    <h3>Built-in</h3>
    <table class="grid" id="built-in-macros"><thead><tr><th>Macro</th><th>What it renders</th><th>Example</th></tr></thead>
      <tbody>${(data?.builtInMacros ?? []).map((m) => html`<tr><td><code>{{${m.name}}}</code></td><td>${m.description}</td><td><code>${m.example ?? ''}</code></td></tr>`)}</tbody>
    </table>
    <h3>Global</h3>
    ${data?.macros?.length
      ? html`<table class="grid"><thead><tr><th>Macro</th><th>Source</th><th>Path / value</th><th>Default</th><th>Transform</th></tr></thead>
          <tbody>${data.macros.map((m) => html`<tr><td><code>{{${m.name}}}</code></td><td>${m.source}</td><td><code>${m.path ?? m.value ?? ''}</code></td><td>${m.defaultValue ?? ''}</td><td>${m.transform}</td></tr>`)}</tbody></table>`
      : html`<p class="empty">No global macros.</p>`}
  </section>`;
}

export function KeysView() {
  const { data, error, reload } = useLoad(
    () => gql('query ConsoleKeys { apiKeys { id name role app { name } network { name } createdAt lastUsedAt revokedAt } apps { id name } networks { id name } }'),
    [],
  );
  const [role, setRole] = useState('PARTNER');
  const [secret, setSecret] = useState(null);
  const [state, submit] = useSubmit(async (e) => {
    const form = e.currentTarget;
    const v = formValues(form);
    const input = { name: v.name, role: v.role, ...(v.role === 'SDK' ? { appId: v.appId } : {}), ...(v.role === 'PARTNER' ? { networkId: v.networkId } : {}) };
    const created = await gql('mutation ConsoleCreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id name } } }', { input });
    form.reset();
    return created.createApiKey;
  }, (created) => {
    setSecret(created);
    reload();
  });
  const [revoking, revoke] = useSubmit(async (key) => {
    if (!confirm(`Revoke "${key.name}"? Clients using it fail at once.`)) return;
    await gql('mutation ConsoleRevokeKey($id: ID!) { revokeApiKey(id: $id) }', { id: key.id });
  }, reload);
  return html`<section>
    <h2>API keys</h2>
    <${ErrorBox} error=${error || revoking.error} />
    ${secret ? html`<div class="secret" id="new-secret" role="status">
        <p>The secret of <b>${secret.apiKey.name}</b>, shown this once (only its hash is stored):</p>
        <code class="secret-value">${secret.secret}</code>
        <button onClick=${() => navigator.clipboard?.writeText(secret.secret)}>Copy</button>
        <button onClick=${() => setSecret(null)}>I have stored it</button>
      </div>` : null}
    <table class="grid" id="keys"><thead><tr><th>Name</th><th>Role</th><th>Bound to</th><th>Created</th><th>Last used</th><th></th></tr></thead>
      <tbody>${(data?.apiKeys ?? []).map(
        (k) => html`<tr class=${k.revokedAt ? 'revoked' : ''}>
          <td>${k.name}</td><td>${k.role}</td><td>${k.app?.name ?? k.network?.name ?? ''}</td><td>${formatTime(k.createdAt)}</td><td>${formatTime(k.lastUsedAt)}</td>
          <td>${k.revokedAt ? `revoked ${formatTime(k.revokedAt)}` : html`<button class="danger" onClick=${() => revoke(k)}>Revoke</button>`}</td>
        </tr>`,
      )}</tbody>
    </table>
    <form class="inline-form" onSubmit=${submit}>
      <h3>New key</h3>
      <input name="name" placeholder="name, e.g. Example Ads" required />
      <select name="role" value=${role} onChange=${(e) => setRole(e.currentTarget.value)}><option>PARTNER</option><option>SDK</option><option>ADMIN</option></select>
      ${role === 'SDK' ? html`<select name="appId" required>${(data?.apps ?? []).map((a) => html`<option value=${a.id}>${a.name}</option>`)}</select>` : null}
      ${role === 'PARTNER' ? html`<select name="networkId" required>${(data?.networks ?? []).map((n) => html`<option value=${n.id}>${n.name}</option>`)}</select>` : null}
      <button disabled=${state.busy}>Create key</button>
      <${ErrorBox} error=${state.error} />
    </form>
  </section>`;
}
