// Shared view helpers: Preact through htm (tagged templates, no JSX build step).
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);

export const STATUSES = ['PENDING', 'SENDING', 'RETRYING', 'DELIVERED', 'FAILED'];

export function navigate(path) {
  location.hash = `#${path}`;
}

export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${d.toLocaleTimeString(undefined, { hour12: false })}`;
}

export function StatusBadge({ status }) {
  return html`<span class=${`badge status-${String(status).toLowerCase()}`} data-status=${status}>${status}</span>`;
}

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">${error.message ?? String(error)}</div>`;
}

/** Runs a GraphQL load; re-runs when `deps` change. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** The value, once it has stopped changing for `ms`. */
export function useDebounced(value, ms) {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** A row or panel that flashes when `version` changes from one known value to another (a live update arrived, not the first load). */
export function useFlash(version) {
  const ref = useRef(null);
  const previous = useRef(version);
  useEffect(() => {
    const changed = previous.current && previous.current !== version;
    previous.current = version;
    if (!changed) return;
    const el = ref.current;
    if (!el) return;
    el.classList.remove('flash');
    void el.offsetWidth;
    el.classList.add('flash');
  }, [version]);
  return ref;
}
