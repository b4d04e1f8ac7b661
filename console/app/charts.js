// Two small SVG charts for deliveryStats' series, drawn by hand: a charting library would
// outweigh the rest of the console for two pictures.
import { html } from './ui.js';

const W = 560;
const H = 140;
const PAD = { left: 36, right: 8, top: 10, bottom: 20 };

function axisLabels(series) {
  if (series.length === 0) return [];
  const step = Math.max(1, Math.ceil(series.length / 6));
  return series.map((p, i) => ({ i, label: new Date(p.start).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false }) })).filter((_, i) => i % step === 0);
}

/** Delivered (green) over failed (red) per bucket, with the success rate as the caption. */
export function OutcomeChart({ series }) {
  const max = Math.max(1, ...series.map((p) => p.delivered + p.failed));
  const slot = (W - PAD.left - PAD.right) / Math.max(1, series.length);
  const y = (v) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  return html`<svg class="chart" viewBox=${`0 0 ${W} ${H}`} role="img" aria-label="delivered and failed per bucket">
    <text x="2" y=${PAD.top + 8} class="axis">${max}</text>
    <text x="2" y=${H - PAD.bottom} class="axis">0</text>
    ${series.map((p, i) => {
      const x = PAD.left + i * slot + 1;
      const w = Math.max(1, slot - 2);
      return html`<g>
        <rect x=${x} y=${y(p.delivered)} width=${w} height=${y(0) - y(p.delivered)} class="bar-ok"><title>${`${p.delivered} delivered`}</title></rect>
        <rect x=${x} y=${y(p.delivered + p.failed)} width=${w} height=${y(p.delivered) - y(p.delivered + p.failed)} class="bar-fail"><title>${`${p.failed} failed`}</title></rect>
      </g>`;
    })}
    ${axisLabels(series).map(({ i, label }) => html`<text x=${PAD.left + i * slot} y=${H - 4} class="axis">${label}</text>`)}
  </svg>`;
}

/** p50 and p95 latency per bucket (ms). */
export function LatencyChart({ series }) {
  const max = Math.max(1, ...series.map((p) => p.p95LatencyMs ?? 0));
  const slot = (W - PAD.left - PAD.right) / Math.max(1, series.length);
  const x = (i) => PAD.left + i * slot + slot / 2;
  const y = (v) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  const line = (key) =>
    series
      .map((p, i) => (p[key] == null ? null : `${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`))
      .filter(Boolean)
      .join(' ');
  return html`<svg class="chart" viewBox=${`0 0 ${W} ${H}`} role="img" aria-label="latency p50 and p95">
    <text x="2" y=${PAD.top + 8} class="axis">${max} ms</text>
    <text x="2" y=${H - PAD.bottom} class="axis">0</text>
    <polyline points=${line('p95LatencyMs')} class="line-p95" />
    <polyline points=${line('p50LatencyMs')} class="line-p50" />
    ${axisLabels(series).map(({ i, label }) => html`<text x=${PAD.left + i * slot} y=${H - 4} class="axis">${label}</text>`)}
  </svg>`;
}
