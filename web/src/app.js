// Vantage dashboard: one bundle for every page; <body data-page> picks the page. Pages read
// their view from the URL (state.js), fetch aggregate statistics from /dash/api/, and render
// charts, the map and tables. Nothing here ever sees an IP address: the API has none to give.
import './style.css';
import { get, orgPost, canSign, TLS_NEEDED, ApiError } from './api.js';
import { readState, writeState, updateNavLinks, effectiveRange, rangeProblem, dayList } from './state.js';
import { h, fmt, busy, showError, panelError, panelNote, dataTable, section, rowsTotal } from './ui.js';
import { filterForm, countryName, typeTitle } from './filters.js';
import { stackedChart, seriesFromRows } from './chart.js';
import { loadWorld, choropleth } from './map.js';
import { registerPage } from './register.js';
import { portalPage } from './portal.js';
import { consolePage } from './console.js';
import { remediationPage } from './remediation.js';

let meta = null;
let renderSeq = 0;

function statsParams(state, range, extra = {}) {
  return {
    from: range.from,
    to: range.to,
    type: state.type.join(','),
    tag: state.tag,
    severity: state.severity.join(','),
    geo: state.geo,
    region: state.region,
    ...extra,
  };
}

// Runs one panel's query; its failure shows in that panel (and the live error region) without
// taking the rest of the page down. A newer render makes older answers stale: they are dropped.
async function panel(seq, container, load, draw) {
  busy(true);
  try {
    const data = await load();
    if (seq !== renderSeq) return;
    draw(data);
  } catch (e) {
    if (seq !== renderSeq) return;
    const msg = e instanceof ApiError ? e.message : `Unexpected error: ${e.message}`;
    panelError(container, msg);
    showError(msg);
  } finally {
    busy(false);
  }
}

function thresholdNote(minCount) {
  return minCount > 0
    ? `Counts below ${fmt(minCount)} are withheld (each withheld row is left out of the totals), so that no small group can be singled out.`
    : 'Counts are not thresholded in this view.';
}

function suppressedNote(el, answer) {
  if (answer.suppressed > 0) {
    el.append(h('p', { class: 'note suppressed' }, `${fmt(answer.suppressed)} ${answer.suppressed === 1 ? 'row' : 'rows'} below ${fmt(answer.min_count)} withheld.`));
  }
}

function kpi(id, label, value, sub) {
  return h('div', { class: 'kpi' }, h('span', { class: 'kpi-label', id: `${id}-label` }, label),
    h('output', { id, 'data-value': String(value), 'aria-labelledby': `${id}-label` }, fmt(value)),
    sub ? h('span', { class: 'kpi-sub' }, sub) : null);
}

function severityBars(rows) {
  const total = rowsTotal(rows) || 1;
  return h('div', { class: 'bars', 'aria-hidden': 'true' }, rows.map(([sev, n]) =>
    h('div', { class: 'bar-row' }, h('span', { class: 'bar-label' }, sev),
      h('span', { class: `bar sev-${sev}`, style: `width:${Math.max(1, Math.round((n / total) * 100))}%` }),
      h('span', { class: 'bar-value' }, `${Math.round((n / total) * 1000) / 10}%`))));
}

const byCountDesc = (a, b) => b[b.length - 1] - a[a.length - 1] || String(a[0]).localeCompare(String(b[0]));

// ---------------------------------------------------------------------------------------
// Shared panels (public pages and the organisation view use the same ones).

function dailyPanel(seq, el, stats, state, range, title, id) {
  const chart = h('div', { class: 'chart', id: `${id}-chart` });
  const table = h('div');
  el.replaceChildren(chart, table);
  return panel(seq, el, () => stats({ ...statsParams(state, range), group: 'day' }), (a) => {
    const days = dayList(range.from, range.to);
    const byDay = new Map(a.rows.map(([d, n]) => [d, n]));
    stackedChart(chart, { days, title, series: [{ label: 'events', values: days.map((d) => byDay.get(d) || 0) }] });
    table.replaceChildren(dataTable({ id: `${id}-table`, caption: `${title}, ${range.from} to ${range.to}`,
      columns: [{ label: 'Day' }, { label: 'Events', num: true }], rows: a.rows }));
    suppressedNote(table, a);
  });
}

function typesPanel(seq, el, stats, state, range, limit, id = 'types') {
  return panel(seq, el, () => stats({ ...statsParams(state, range), group: 'type' }), (a) => {
    const total = a.total || 1;
    const rows = [...a.rows].sort(byCountDesc).slice(0, limit)
      .map(([t, n]) => [t, typeTitle(meta, t), n, `${(Math.round((n / total) * 1000) / 10).toFixed(1)}%`]);
    el.replaceChildren(dataTable({ id: `${id}-table`,
      caption: limit < Infinity ? `Top ${limit} report types by events` : 'Events per report type',
      columns: [{ label: 'Report type' }, { label: 'Title' }, { label: 'Events', num: true }, { label: 'Share' }], rows }));
    suppressedNote(el, a);
  });
}

function tagsPanel(seq, el, stats, state, range, limit, id = 'tags') {
  if (state.region) {
    panelNote(el, 'Tags are not available with a region filter (tag statistics are kept per country only). Clear the region to see tags.');
    return Promise.resolve();
  }
  if (state.severity.length) {
    panelNote(el, 'Tags cannot be combined with a severity filter (tag statistics carry no severity). Clear the severity filter to see tags.');
    return Promise.resolve();
  }
  return panel(seq, el, () => stats({ ...statsParams(state, range), group: 'tag' }), (a) => {
    const rows = [...a.rows].sort(byCountDesc).slice(0, limit);
    el.replaceChildren(dataTable({ id: `${id}-table`, caption: `Top ${limit} tags by events`,
      columns: [{ label: 'Tag', display: (t) => t || '(no tag)' }, { label: 'Events', num: true }], rows,
      empty: 'No tagged events in this selection.' }));
    suppressedNote(el, a);
  });
}

function severityPanel(seq, el, stats, state, range, id = 'severity') {
  if (state.tag) {
    panelNote(el, 'The severity split is not available with a tag filter (tag statistics carry no severity). Clear the tag to see it.');
    return Promise.resolve();
  }
  return panel(seq, el, () => stats({ ...statsParams(state, range), group: 'severity' }), (a) => {
    const order = meta.severities || [];
    const rows = [...a.rows].sort((x, y) => order.indexOf(y[0]) - order.indexOf(x[0]));
    el.replaceChildren(severityBars(rows), dataTable({ id: `${id}-table`, caption: 'Events per severity',
      columns: [{ label: 'Severity' }, { label: 'Events', num: true }], rows }));
    suppressedNote(el, a);
  });
}

function stackedPanel(seq, el, stats, state, range, by, id) {
  const chart = h('div', { class: 'chart', id: `${id}-chart` });
  const table = h('div');
  el.replaceChildren(chart, table);
  if (by === 'tag' && state.severity.length) {
    panelNote(el, 'Stacking by tag cannot be combined with a severity filter. Clear the severities or stack by report type.');
    return Promise.resolve();
  }
  return panel(seq, el, () => stats({ ...statsParams(state, range), group: `day,${by}` }), (a) => {
    const days = dayList(range.from, range.to);
    const series = seriesFromRows(a.rows, days, 8, by === 'tag' ? (k) => k || '(no tag)' : (k) => k);
    const title = `Events per day by ${by === 'tag' ? 'tag' : 'report type'}`;
    stackedChart(chart, { days, series, title });
    // One row per day, one column per stacked series: exactly the numbers drawn.
    const rows = days.map((d, i) => [d, ...series.map((s) => s.values[i]), series.reduce((x, s) => x + s.values[i], 0)]);
    table.replaceChildren(dataTable({ id: `${id}-table`, caption: `${title}, ${range.from} to ${range.to}`,
      columns: [{ label: 'Day' }, ...series.map((s) => ({ label: s.label, num: true })), { label: 'Total', num: true }],
      rows: series.length ? rows : [] }));
    suppressedNote(table, a);
  });
}

// ---------------------------------------------------------------------------------------
// Pages.

const publicStats = (p) => get('stats', p);

function commonHead(content, state, fields, onChange, minCount) {
  content.replaceChildren(filterForm(meta, state, fields, onChange), h('p', { class: 'note threshold', id: 'threshold' }, thresholdNote(minCount)));
}

function navigate(next) {
  if (writeState(next)) render();
}

async function overviewPage(seq, content, state, range) {
  commonHead(content, state, ['type', 'tag', 'severity', 'geo', 'region', 'range'], navigate, meta.min_count);
  const kpis = h('div', { class: 'kpis', id: 'kpis' });
  const daily = h('div');
  const types = h('div');
  const tags = h('div');
  const sev = h('div');
  content.append(kpis, section('Events per day', 'daily', daily), section('Top report types', 'top-types', types),
    h('div', { class: 'grid' }, section('Top tags', 'top-tags', tags), section('Severity split', 'sev', sev)));
  await Promise.all([
    dailyPanel(seq, daily, publicStats, state, range, 'Events per day', 'daily').then(() => {
      const t = document.getElementById('daily-chart');
      if (t && t.dataset.total !== undefined) kpis.replaceChildren(kpi('total', 'Events shown', Number(t.dataset.total), `${range.from} to ${range.to}`));
    }),
    typesPanel(seq, types, publicStats, state, range, 10),
    tagsPanel(seq, tags, publicStats, state, range, 10),
    severityPanel(seq, sev, publicStats, state, range),
  ]);
}

async function mapPage(seq, content, state, range) {
  commonHead(content, state, ['type', 'tag', 'severity', 'geo', 'region', 'range'], navigate, meta.min_count);
  const mapEl = h('div', { class: 'map-wrap', id: 'map' });
  const tableEl = h('div');
  const detail = h('div', { id: 'country-detail' });
  content.append(section('Events per country', 'map', mapEl), detail, section('Countries', 'countries', tableEl));
  const select = (cc) => navigate({ ...readState(), geo: cc === readState().geo ? '' : cc });
  // The map shows every country under the other filters; the chosen country is highlighted and
  // detailed below.
  const jobs = [panel(seq, mapEl, async () => Promise.all([loadWorld(), publicStats({ ...statsParams(state, range, { geo: '', region: '' }), group: 'geo' })]),
    ([world, a]) => {
      const counts = new Map(a.rows.map(([g, n]) => [g, n]));
      choropleth(mapEl, world, counts, { selected: state.geo, onSelect: select, name: countryName,
        caption: `Events per country, ${range.from} to ${range.to}` });
      suppressedNote(mapEl, a);
      tableEl.replaceChildren(dataTable({ id: 'countries-table', caption: `Events per country, ${range.from} to ${range.to}`,
        columns: [{ label: 'Country', display: (cc) => `${countryName(cc)} (${cc})` }, { label: 'Events', num: true }],
        rows: [...a.rows].sort(byCountDesc), rowAction: (r) => select(r[0]) }));
    })];
  if (state.geo) {
    const regions = h('div');
    const daily = h('div');
    detail.replaceChildren(section(`${countryName(state.geo)} (${state.geo})`, 'detail',
      h('button', { type: 'button', onclick: () => select(state.geo) }, 'Back to all countries'),
      h('div', { class: 'grid' }, h('div', {}, h('h3', {}, 'Regions'), regions), h('div', {}, h('h3', {}, 'Events per day'), daily))));
    if (state.tag) {
      panelNote(regions, 'Regions are not available with a tag filter (tag statistics are kept per country only).');
    } else {
      jobs.push(panel(seq, regions, () => publicStats({ ...statsParams(state, range), group: 'region' }), (a) => {
        regions.replaceChildren(dataTable({ id: 'regions-table', caption: `Events per region in ${countryName(state.geo)}`,
          columns: [{ label: 'Region', display: (r) => r || '(unknown)' }, { label: 'Events', num: true }], rows: [...a.rows].sort(byCountDesc) }));
        suppressedNote(regions, a);
      }));
    }
    jobs.push(dailyPanel(seq, daily, publicStats, state, range, `Events per day in ${countryName(state.geo)}`, 'country-daily'));
  }
  await Promise.all(jobs);
}

async function seriesPage(seq, content, state, range) {
  commonHead(content, state, ['by', 'type', 'tag', 'severity', 'geo', 'region', 'range'], navigate, meta.min_count);
  const el = h('div');
  content.append(section(`Events per day, stacked by ${state.by === 'tag' ? 'tag' : 'report type'}`, 'series', el));
  await stackedPanel(seq, el, publicStats, state, range, state.by === 'tag' ? 'tag' : 'type', 'series');
}

// Organisation view: the API key and secret stay in this tab's sessionStorage only.
const CREDS = 'vantage.dashboard.org';
function creds() {
  try {
    const c = JSON.parse(sessionStorage.getItem(CREDS) || 'null');
    return c && c.key && c.secret ? c : null;
  } catch {
    return null;
  }
}

function loginForm(content, message) {
  const key = h('input', { id: 'org-key', name: 'apikey', type: 'text', autocomplete: 'off', spellcheck: 'false', required: true });
  const secret = h('input', { id: 'org-secret', name: 'secret', type: 'password', autocomplete: 'off', required: true });
  const out = h('p', { id: 'login-error', class: 'panel-error', role: 'alert' }, message || '');
  const btn = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { id: 'login', class: 'login', 'aria-labelledby': 'login-h' },
    h('h2', { id: 'login-h' }, 'Sign in with your organisation\'s API key'),
    h('p', {}, 'Use the key and secret issued by the operator (the same ones as for the reports API). They are kept in this browser tab only and sent to nobody but this server; the secret itself never leaves the browser (requests are signed).'),
    h('div', { class: 'field' }, h('label', { for: 'org-key' }, 'API key'), key),
    h('div', { class: 'field' }, h('label', { for: 'org-secret' }, 'Secret'), secret), btn, out);
  if (!canSign()) {
    out.textContent = TLS_NEEDED;
    for (const el of [key, secret, btn]) el.disabled = true;
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    out.textContent = '';
    btn.disabled = true;
    busy(true);
    try {
      const c = { key: key.value.trim(), secret: secret.value.trim() };
      await orgPost('whoami', c);
      sessionStorage.setItem(CREDS, JSON.stringify(c));
      render();
    } catch (err) {
      out.textContent = err instanceof ApiError && err.status === 401
        ? `Sign-in failed: ${err.message}` : `Sign-in failed: ${err.message}`;
    } finally {
      btn.disabled = false;
      busy(false);
    }
  });
  content.replaceChildren(form);
}

async function orgPage(seq, content, state, range) {
  const c = creds();
  if (!c) {
    loginForm(content);
    return;
  }
  let who;
  busy(true);
  try {
    who = await orgPost('whoami', c);
  } catch (e) {
    sessionStorage.removeItem(CREDS);
    loginForm(content, e.message);
    return;
  } finally {
    busy(false);
  }
  if (seq !== renderSeq) return;
  const signOut = h('button', { type: 'button', id: 'sign-out', onclick: () => {
    sessionStorage.removeItem(CREDS);
    render();
  } }, 'Sign out');
  await orgView(seq, content, state, range, who, (method, p) => orgPost(method, c, p), signOut);
}

// The organisation's own statistics, reports and deliveries: the dashboard's organisation page
// (signed with an API key) and the organisation portal (a session) show the same view.
// `call(method, params)` fetches whoami/stats/reports/deliveries for the organisation.
async function orgView(seq, content, state, range, who, call, signOut) {
  const orgStats = (p) => call('stats', p);
  content.replaceChildren(
    h('div', { class: 'who', id: 'org-who', 'data-org': who.org }, h('p', {}, 'Signed in as ', h('strong', {}, who.name || who.org), ` (${who.org})`), signOut),
    filterForm(meta, state, ['type', 'tag', 'severity', 'geo', 'range'], navigate),
    h('p', { class: 'note threshold', id: 'threshold' }, 'Your organisation\'s own events: counts are not thresholded here, and no other organisation\'s events are included.'));
  const kpis = h('div', { class: 'kpis', id: 'kpis' });
  const stacked = h('div');
  const types = h('div');
  const sev = h('div');
  const geo = h('div');
  const reports = h('div');
  const deliveries = h('div');
  const subscriptions = h('div');
  content.append(kpis, section('Events per day by report type', 'org-series', stacked), section('Report types', 'org-types', types),
    h('div', { class: 'grid' }, section('Countries', 'org-geo', geo), section('Severity split', 'org-sev', sev)),
    section('Reports', 'org-reports', reports), section('Delivery log', 'org-deliveries', deliveries),
    section('Subscriptions (alerts pushed as events arrive)', 'org-subscriptions', subscriptions));
  await Promise.all([
    stackedPanel(seq, stacked, orgStats, state, range, 'type', 'org-series').then(() => {
      const t = document.getElementById('org-series-chart');
      if (t && t.dataset.total !== undefined) kpis.replaceChildren(kpi('total', 'Events', Number(t.dataset.total), `${range.from} to ${range.to}`));
    }),
    typesPanel(seq, types, orgStats, state, range, Infinity, 'org-types'),
    severityPanel(seq, sev, orgStats, state, range, 'org-sev'),
    panel(seq, geo, () => Promise.all([loadWorld(), orgStats({ ...statsParams(state, range, { geo: '', region: '' }), group: 'geo' })]), ([world, a]) => {
      // Same map as the public page, from the organisation's own events; a click filters by
      // that country (a second click clears it).
      const mapEl = h('div', { class: 'map-wrap', id: 'map' });
      choropleth(mapEl, world, new Map(a.rows.map(([g, n]) => [g, n])), { selected: state.geo, name: countryName,
        onSelect: (cc) => navigate({ ...readState(), geo: cc === readState().geo ? '' : cc }),
        caption: `${who.org}: events per country, ${range.from} to ${range.to}` });
      geo.replaceChildren(mapEl, dataTable({ id: 'org-geo-table', caption: 'Events per country',
        columns: [{ label: 'Country', display: (cc) => `${countryName(cc)} (${cc})` }, { label: 'Events', num: true }],
        rows: [...a.rows].sort(byCountDesc) }));
    }),
    panel(seq, reports, () => call('reports', { from: range.from, to: range.to }), (a) => {
      const rows = (a.reports || []).map((r) => [r.file, r.date, r.type, r.rows, r.size]);
      const urls = new Map((a.reports || []).map((r) => [r.file, r.url]));
      reports.replaceChildren(dataTable({ id: 'org-reports-table', caption: `Reports built for ${who.org}, ${range.from} to ${range.to}`,
        columns: [{ label: 'File', href: (r) => urls.get(r[0]) }, { label: 'Date' }, { label: 'Report type' },
          { label: 'Rows', num: true }, { label: 'Bytes', num: true }],
        rows, empty: 'No reports in this date range.' }));
    }),
    panel(seq, deliveries, () => call('deliveries', { from: range.from, to: range.to }), (a) => {
      const rows = (a.deliveries || []).map((d) => [d.at, d.day, d.kind, d.recipient, d.status, d.smtp_code ?? '',
        d.attempt ?? '', d.encrypted ? 'yes' : 'no', d.reason || '']);
      deliveries.replaceChildren(dataTable({ id: 'org-deliveries-table', caption: 'Report mails: one row per attempt',
        columns: [{ label: 'Time (UTC)' }, { label: 'Day' }, { label: 'Kind' }, { label: 'Recipient' }, { label: 'Status' },
          { label: 'SMTP code' }, { label: 'Attempt' }, { label: 'PGP' }, { label: 'Reason' }],
        rows, empty: 'No deliveries in this date range.' }));
    }),
    panel(seq, subscriptions, () => call('subscriptions'), (a) => {
      // Where the organisation's events are pushed and how that goes: never a secret.
      const rows = (a.subscriptions || []).map((s) => [s.name, s.kind, s.feed_path || s.address || '',
        s.min_severity, (s.report_types || []).join(', ') || 'all', s.state.health,
        s.state.delivered_events, s.state.last_delivered || '', s.state.pending_events,
        s.state.dead_events, s.state.last_error || '']);
      subscriptions.replaceChildren(dataTable({ id: 'org-subscriptions-table',
        caption: `Push subscriptions of ${who.org} and their delivery state`,
        columns: [{ label: 'Name' }, { label: 'Kind' }, { label: 'Address' }, { label: 'Minimum severity' },
          { label: 'Report types' }, { label: 'State' }, { label: 'Delivered', num: true },
          { label: 'Last delivery (UTC)' }, { label: 'Pending', num: true }, { label: 'Dead-lettered', num: true },
          { label: 'Last error' }],
        rows, empty: 'No subscriptions: events reach this organisation in its daily reports.' }));
    }),
  ]);
}

// What the portal and remediation pages (their own modules) use from this one.
const kit = {
  get meta() {
    return meta;
  },
  render: () => render(),
  navigate: (next) => navigate(next),
  readState,
  panel: (seq, el, load, draw) => panel(seq, el, load, draw),
  orgView: (...args) => orgView(...args),
  commonHead: (...args) => commonHead(...args),
  countryName,
};

const PAGES = {
  overview: overviewPage,
  map: mapPage,
  series: seriesPage,
  org: orgPage,
  remediation: (...a) => remediationPage(kit, ...a),
  register: (...a) => registerPage(kit, ...a),
  portal: (...a) => portalPage(kit, ...a),
  console: (...a) => consolePage(kit, ...a),
};

async function render() {
  const seq = ++renderSeq;
  const state = readState();
  updateNavLinks(state);
  showError('');
  const content = document.getElementById('content');
  const range = effectiveRange(state, meta);
  const problem = rangeProblem(range, meta);
  const page = PAGES[document.body.dataset.page] || overviewPage;
  if (problem) {
    // Still draw the form so the range can be fixed in place.
    content.replaceChildren(filterForm(meta, state, ['type', 'tag', 'severity', 'geo', 'range'], navigate));
    showError(problem);
    return;
  }
  // The filter form is rebuilt on every render; keep keyboard focus on the control in use.
  const focusId = document.activeElement && document.activeElement.id;
  const refocus = () => {
    const el = focusId && document.getElementById(focusId);
    if (el && document.activeElement !== el) el.focus();
  };
  const done = page(seq, content, state, range);
  refocus();
  await done;
  if (seq === renderSeq) {
    refocus();
    document.body.dataset.rendered = String(seq);
    const s = document.getElementById('status');
    if (!document.body.hasAttribute('data-loading')) s.textContent = document.getElementById('filters') ? `Showing ${range.from} to ${range.to}.` : '';
  }
}

async function start() {
  busy(true);
  try {
    meta = await get('meta');
  } catch (e) {
    showError(`The dashboard cannot load: ${e.message}`);
    return;
  } finally {
    busy(false);
  }
  if (meta.site) {
    document.getElementById('site').textContent = meta.site;
    document.title = `${document.title.split(' · ')[0]} · ${meta.site} dashboard`;
  }
  window.addEventListener('popstate', render);
  await render();
}

start();
