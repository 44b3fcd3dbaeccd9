// View state lives in the URL query so that every view can be shared and reloaded:
//   type=a,b  tag=x  severity=high,critical  geo=DE  region=Bayern  from=YYYY-MM-DD  to=YYYY-MM-DD
//   by=type|tag (time series stacking)
// Anything else in the query is ignored; unknown values are dropped when the form is read.

export const FILTER_KEYS = ['type', 'tag', 'severity', 'geo', 'region', 'from', 'to', 'by'];

export function readState() {
  const q = new URLSearchParams(location.search);
  const list = (k) => (q.get(k) || '').split(',').map((s) => s.trim()).filter(Boolean);
  return {
    type: list('type'),
    tag: q.get('tag') || '',
    severity: list('severity'),
    geo: (q.get('geo') || '').toUpperCase(),
    // A region is only meaningful inside its country.
    region: q.get('geo') ? q.get('region') || '' : '',
    from: q.get('from') || '',
    to: q.get('to') || '',
    by: q.get('by') || '',
  };
}

export function queryOf(state) {
  const q = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const v = Array.isArray(state[k]) ? state[k].join(',') : state[k];
    if (v) q.set(k, v);
  }
  return q.toString();
}

// pushState, not a reload: the page re-renders from the new URL (and Back goes back a view).
export function writeState(state, { replace = false } = {}) {
  const qs = queryOf(state);
  const url = `${location.pathname}${qs ? `?${qs}` : ''}`;
  if (url === `${location.pathname}${location.search}`) return false;
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  return true;
}

// Navigation links carry the filters from page to page.
export function updateNavLinks(state) {
  const qs = queryOf({ ...state, by: '' });
  for (const a of document.querySelectorAll('a[data-nav]')) {
    const base = a.getAttribute('href').split('?')[0];
    a.setAttribute('href', qs ? `${base}?${qs}` : base);
  }
}

const DAY_MS = 86400000;
const ISO = /^\d{4}-\d{2}-\d{2}$/;

export function isDate(s) {
  if (!ISO.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
export function addDays(s, n) {
  return new Date(Date.parse(`${s}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}
export function daysBetween(a, b) {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
}
export function todayUtc() {
  return new Date().toISOString().slice(0, 10);
}
export function dayList(from, to) {
  const out = [];
  const n = daysBetween(from, to);
  for (let i = 0; i <= n && i < 4000; i++) out.push(addDays(from, i));
  return out;
}

// The range the API would pick by itself (to = last day with data, from = to - 29), made
// explicit so that every panel of a page queries the same days.
export function effectiveRange(state, meta) {
  const to = isDate(state.to) ? state.to : meta.last_day || todayUtc();
  const from = isDate(state.from) ? state.from : addDays(to, -29);
  return { from, to };
}

export function rangeProblem(range, meta) {
  if (daysBetween(range.from, range.to) < 0) return 'The start date is after the end date.';
  const days = daysBetween(range.from, range.to) + 1;
  if (meta.max_days && days > meta.max_days) {
    return `The date range covers ${days} days; at most ${meta.max_days} days (about two years) can be shown.`;
  }
  return '';
}
