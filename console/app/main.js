// The console: sign in with an API key, then the views that key's role may use. The key
// lives in session storage only; the role comes from the `viewer` query, and views (and
// their queries) for other roles are never rendered.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { FEATURE_PROBES, GraphQLRequestError, gql, schemaHas, session } from './api.js';
import { ErrorBox, html } from './ui.js';
import { DeliveriesView, DeliveryView } from './deliveries.js';
import { AppsView, CallbackEditor, CallbacksView, KeysView, MacrosView, NetworksView } from './admin.js';

const VIEWER_QUERY = 'query ConsoleViewer { viewer { role apiKey { name } app { id name } network { id name slug } } }';

const NAV = {
  ADMIN: [
    ['/deliveries', 'Deliveries'],
    ['/callbacks', 'Callbacks'],
    ['/apps', 'Apps'],
    ['/networks', 'Networks'],
    ['/macros', 'Macros'],
    ['/keys', 'API keys'],
  ],
  PARTNER: [['/deliveries', 'Deliveries']],
  SDK: [],
};

function useHashPath() {
  const read = () => location.hash.replace(/^#/, '') || '/deliveries';
  const [path, setPath] = useState(read);
  useEffect(() => {
    const onChange = () => setPath(read());
    addEventListener('hashchange', onChange);
    // The hash may have changed between the first render and this effect (a link followed
    // while the view was mounting): that hashchange fired before anyone listened.
    onChange();
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return path;
}

function SignIn({ onSignedIn, initialError }) {
  const [state, setState] = useState({ busy: false, error: initialError ?? null });
  const submit = async (e) => {
    e.preventDefault();
    const key = new FormData(e.currentTarget).get('key').trim();
    setState({ busy: true, error: null });
    try {
      const { viewer } = await gql(VIEWER_QUERY, undefined, key);
      session.set(key);
      onSignedIn(viewer);
    } catch (error) {
      const message = error instanceof GraphQLRequestError && ['UNAUTHENTICATED', 'FORBIDDEN'].includes(error.code) ? 'That key is not valid (unknown or revoked).' : error.message;
      setState({ busy: false, error: new Error(message) });
    }
  };
  return html`<main class="signin">
    <form id="signin" onSubmit=${submit}>
      <h1>Postbacks console</h1>
      <label>API key <input name="key" type="password" autocomplete="off" spellcheck="false" required autofocus /></label>
      <button disabled=${state.busy}>Sign in</button>
      <${ErrorBox} error=${state.error} />
      <p class="muted">Partners see their network's deliveries; admins configure apps, networks, callbacks and keys. The key is kept in this tab's session storage only.</p>
      <p class="muted"><a href="/graphql">GraphQL IDE</a></p>
    </form>
  </main>`;
}

function Page({ path, viewer, features }) {
  const [, section, id] = path.split('/');
  const admin = viewer.role === 'ADMIN';
  if (viewer.role === 'SDK') return html`<p class="empty">SDK keys record events; there is nothing for them to view here. Sign in with a PARTNER or ADMIN key.</p>`;
  if (section === 'deliveries' && id) return html`<${DeliveryView} id=${decodeURIComponent(id)} viewer=${viewer} />`;
  if (section === 'deliveries') return html`<${DeliveriesView} viewer=${viewer} features=${features} />`;
  if (!admin) return html`<p class="empty">Not available to this key. <a href="#/deliveries">Deliveries</a></p>`;
  if (section === 'callbacks' && id) return html`<${CallbackEditor} id=${decodeURIComponent(id)} features=${features} />`;
  if (section === 'callbacks') return html`<${CallbacksView} features=${features} />`;
  if (section === 'apps') return html`<${AppsView} />`;
  if (section === 'networks') return html`<${NetworksView} />`;
  if (section === 'macros') return html`<${MacrosView} />`;
  if (section === 'keys') return html`<${KeysView} />`;
  return html`<p class="empty">Nothing at ${path}. <a href="#/deliveries">Deliveries</a></p>`;
}

function Shell({ viewer, onSignOut }) {
  const path = useHashPath();
  const [features, setFeatures] = useState(null);
  useEffect(() => {
    // Parts built later this round (deliveryStats, Callback.health) show when the schema has them.
    Promise.all([schemaHas(FEATURE_PROBES.deliveryStats), viewer.role === 'ADMIN' ? schemaHas(FEATURE_PROBES.callbackHealth) : false]).then(([deliveryStats, callbackHealth]) =>
      setFeatures({ deliveryStats, callbackHealth }),
    );
  }, [viewer.role]);
  const who = viewer.network?.name ?? viewer.app?.name ?? (viewer.apiKey ? viewer.apiKey.name : 'bootstrap key');
  return html`<div class="shell">
    <header>
      <a class="brand" href="#/deliveries">Postbacks</a>
      <nav>${NAV[viewer.role].map(([to, label]) => html`<a href=${`#${to}`} class=${path.startsWith(to) ? 'active' : ''}>${label}</a>`)}</nav>
      <span class="who" id="who"><span class="badge role">${viewer.role}</span> ${who}</span>
      <a href="/graphql" class="ide-link">GraphQL IDE</a>
      <button class="link" id="signout" onClick=${onSignOut}>Sign out</button>
    </header>
    <main>${features ? html`<${Page} path=${path} viewer=${viewer} features=${features} />` : html`<p>Loading…</p>`}</main>
  </div>`;
}

function Console() {
  const [state, setState] = useState(() => ({ viewer: null, checking: Boolean(session.key), error: null }));
  useEffect(() => {
    if (!session.key) return;
    gql(VIEWER_QUERY).then(
      ({ viewer }) => setState({ viewer, checking: false, error: null }),
      (error) => {
        session.clear();
        setState({ viewer: null, checking: false, error });
      },
    );
  }, []);
  if (state.checking) return html`<p>Checking the key…</p>`;
  if (!state.viewer) return html`<${SignIn} initialError=${state.error} onSignedIn=${(viewer) => setState({ viewer, checking: false, error: null })} />`;
  return html`<${Shell}
    viewer=${state.viewer}
    onSignOut=${() => {
      session.clear();
      setState({ viewer: null, checking: false, error: null });
    }}
  />`;
}

render(html`<${Console} />`, document.getElementById('root'));
