// Choropleth of events per country on the world outlines pre-projected at build time
// (world.json). Countries with data are focusable and selectable by click, Enter or Space;
// every path carries data-geo / data-count for tests and its own <title> for hover.
import { h, fmt } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';
const RAMP = ['#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#3182bd', '#08519c'];
let world = null;

export async function loadWorld() {
  if (!world) {
    const r = await fetch('world.json');
    if (!r.ok) throw new Error(`world map: HTTP ${r.status}`);
    world = await r.json();
  }
  return world;
}

function s(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, v);
  return el;
}

// Log-spaced buckets: event counts span orders of magnitude between countries.
function bucketer(max) {
  if (max <= 0) return () => -1;
  const lmax = Math.log10(max + 1);
  return (v) => (v <= 0 ? -1 : Math.min(RAMP.length - 1, Math.floor((Math.log10(v + 1) / lmax) * RAMP.length)));
}

// counts: Map cc -> events; names: cc -> display name
export function choropleth(container, wld, counts, { selected, onSelect, name, caption }) {
  const max = Math.max(0, ...counts.values());
  const bucket = bucketer(max);
  const svg = s('svg', { viewBox: `0 0 ${wld.width} ${wld.height}`, class: 'map', role: 'group',
    'aria-label': caption, id: 'map-svg' });
  svg.append(s('path', { d: wld.sphere, class: 'sphere' }));
  if (wld.land) svg.append(s('path', { d: wld.land, class: 'land' }));
  const shown = new Set();
  for (const [cc, c] of Object.entries(wld.countries)) {
    shown.add(cc);
    const n = counts.get(cc) || 0;
    const b = bucket(n);
    const attrs = { id: `map-${cc}`, 'data-geo': cc, 'data-count': String(n), class: `country${cc === selected ? ' selected' : ''}`,
      fill: b < 0 ? '#eceff1' : RAMP[b] };
    const el = c.d ? s('path', { ...attrs, d: c.d }) : s('circle', { ...attrs, cx: c.dot[0], cy: c.dot[1], r: 3 });
    const label = `${name(cc)}: ${fmt(n)} events`;
    const t = s('title');
    t.textContent = label;
    el.append(t);
    if (n > 0) {
      el.setAttribute('tabindex', '0');
      el.setAttribute('role', 'button');
      el.setAttribute('aria-label', label);
      el.setAttribute('aria-pressed', cc === selected ? 'true' : 'false');
      el.addEventListener('click', () => onSelect(cc));
      el.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          onSelect(cc);
        }
      });
    }
    svg.append(el);
  }
  // The selected country is drawn last so its outline is not hidden by its neighbours.
  const sel = svg.querySelector('.country.selected');
  if (sel) svg.append(sel);
  const missing = [...counts.keys()].filter((cc) => !shown.has(cc));
  const legend = h('div', { class: 'legend', 'aria-hidden': 'true' },
    h('span', {}, 'fewer'), RAMP.map((c) => h('span', { class: 'swatch', style: `background:${c}` })), h('span', {}, 'more'),
    h('span', { class: 'swatch', style: 'background:#eceff1' }), h('span', {}, 'none or withheld'));
  container.replaceChildren(svg, legend);
  container.dataset.total = String([...counts.values()].reduce((a, b) => a + b, 0));
  container.dataset.countries = String([...counts.values()].filter((v) => v > 0).length);
  if (missing.length) {
    container.append(h('p', { class: 'note' }, `Not on the map (no outline): ${missing.join(', ')} — see the table.`));
  }
}
