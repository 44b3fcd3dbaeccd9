// Stacked daily chart (uPlot): one area per series, stacked in the order given, x = UTC days.
// The container carries data-total / data-days / data-series so that tests and assistive
// summaries read the same numbers the chart draws.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h, fmt } from './ui.js';

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
  '#7f7f7f', '#bcbd22', '#17becf'];

const charts = new WeakMap();

// days: ['YYYY-MM-DD'...]; series: [{label, values:[...same length]}]
export function stackedChart(container, { days, series, title }) {
  const old = charts.get(container);
  if (old) old.destroy();
  container.replaceChildren();
  const total = series.reduce((a, s) => a + s.values.reduce((x, y) => x + y, 0), 0);
  container.dataset.total = String(total);
  container.dataset.days = String(days.length);
  container.dataset.series = series.map((s) => s.label).join(',');
  container.setAttribute('role', 'img');
  container.setAttribute('aria-label',
    `${title}: ${fmt(total)} events over ${days.length} days, ${series.length ? `stacked by ${series.map((s) => s.label).join(', ')}` : 'no data'}.`);
  if (!series.length) {
    container.append(h('p', { class: 'note' }, 'No data for this selection.'));
    return;
  }
  const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  const acc = new Array(xs.length).fill(0);
  const stacked = series.map((s) => s.values.map((v, i) => (acc[i] += v)));
  const bands = series.slice(1).map((_, i) => ({ series: [i + 2, i + 1] }));
  const width = Math.max(280, container.clientWidth || 600);
  const opts = {
    width,
    height: width < 500 ? 220 : 300,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    // Counts start at zero; the x axis steps in whole UTC days (never hours).
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.05 : 1] } },
    axes: [
      { incrs: [1, 2, 7, 14, 28, 91, 182, 364].map((d) => d * 86400), space: 60,
        values: (u, vals) => vals.map((v) => new Date(v * 1000).toISOString().slice(xs.length > 200 ? 0 : 5, xs.length > 200 ? 7 : 10)) },
      { values: (u, vals) => vals.map((v) => fmt(v)), size: 60 },
    ],
    series: [
      { value: (u, ts) => (ts == null ? '' : new Date(ts * 1000).toISOString().slice(0, 10)) },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        fill: `${PALETTE[i % PALETTE.length]}99`,
        width: 1,
        points: { show: xs.length < 40 },
        value: (u, v, si, idx) => (idx == null ? '' : fmt(series[si - 1].values[idx])),
      })),
    ],
    bands: bands.map((b) => ({ ...b, fill: `${PALETTE[(b.series[0] - 1) % PALETTE.length]}99` })),
  };
  const plot = new uPlot(opts, [xs, ...stacked], container);
  charts.set(container, plot);
  // uPlot's legend is a table: name it for screen readers like every other table.
  const legend = container.querySelector('table.u-legend');
  if (legend && !legend.caption) legend.createCaption().append(h('span', { class: 'sr-only' }, 'Chart legend: series, with values at the cursor'));
  const ro = new ResizeObserver(() => {
    const w = Math.max(280, container.clientWidth);
    if (Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height: w < 500 ? 220 : 300 });
  });
  ro.observe(container);
  const origDestroy = plot.destroy.bind(plot);
  plot.destroy = () => {
    ro.disconnect();
    origDestroy();
  };
}

// Turns stats rows [day, key, count] into at most `max` named series (the largest) plus
// "other", each with one value per day (0 where no row was shown).
export function seriesFromRows(rows, days, max = 8, label = (k) => k) {
  const index = new Map(days.map((d, i) => [d, i]));
  const byKey = new Map();
  for (const [day, key, n] of rows) {
    if (!index.has(day)) continue;
    if (!byKey.has(key)) byKey.set(key, { key, total: 0, values: new Array(days.length).fill(0) });
    const s = byKey.get(key);
    s.values[index.get(day)] += n;
    s.total += n;
  }
  const all = [...byKey.values()].sort((a, b) => b.total - a.total || String(a.key).localeCompare(String(b.key)));
  const top = all.slice(0, max).map((s) => ({ key: s.key, label: label(s.key), values: s.values }));
  if (all.length > max) {
    const other = new Array(days.length).fill(0);
    for (const s of all.slice(max)) s.values.forEach((v, i) => (other[i] += v));
    top.push({ key: '(other)', label: `other (${all.length - max})`, values: other });
  }
  return top;
}
