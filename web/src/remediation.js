// remediation.html: how long reported problems take to get fixed, per country (and per report
// type within a country), from the public aggregate API. Groups with fewer fixes than the
// threshold are withheld, like every public count.
import { h, dataTable, section } from './ui.js';
import { get } from './api.js';

const columns = (first) => [{ label: first }, { label: 'Fixed', num: true },
  { label: 'Median days', num: true }, { label: '75th pct.', num: true }, { label: '90th pct.', num: true },
  { label: 'Mean days', num: true }, { label: 'Still open', num: true }];
const row = (x, label) => [label, x.fixed, x.p50_days, x.p75_days, x.p90_days, x.mean_days, x.open ?? 'withheld'];

function histogram(x) {
  const total = Object.values(x.histogram).reduce((a, b) => a + b, 0) || 1;
  return h('div', { class: 'bars', id: 'ttf-histogram', 'aria-hidden': 'true' }, Object.entries(x.histogram).map(([bucket, n]) =>
    h('div', { class: 'bar-row' }, h('span', { class: 'bar-label' }, `${bucket} d`),
      h('span', { class: 'bar', style: `width:${Math.max(1, Math.round((n / total) * 100))}%` }),
      h('span', { class: 'bar-value' }, String(n)))));
}

export async function remediationPage(kit, seq, content, state, range) {
  kit.commonHead(content, state, ['type', 'geo', 'range'], kit.navigate,
    kit.meta.min_count);
  const note = h('p', { class: 'note' }, 'Time to fix: days from the first report of a problem (one address and port, or domain, in one report type) ' +
    'to the first scan that no longer found it, counted once the scans of that type missed it several times in a row. ' +
    `Countries with fewer than ${kit.meta.min_count} fixes in the range are withheld.`);
  const table = h('div');
  const detail = h('div', { id: 'remediation-detail' });
  content.append(note, section('Time to fix per country', 'ttf', table), detail);
  const params = { from: range.from, to: range.to, type: state.type.join(',') };
  await kit.panel(seq, table, () => get('remediation', { ...params, group: 'geo' }), (a) => {
    const rows = [...a.rows].sort((x, y) => y.fixed - x.fixed).map((x) => row(x, x.key));
    table.replaceChildren(h('p', { class: 'note', id: 'remediation-asof' }, a.as_of ? `As of ${a.as_of}.` : 'Not computed yet.'),
      dataTable({ id: 'remediation-countries', caption: `Time to fix per country, fixes from ${a.from} to ${a.to}`, columns: columns('Country'),
        rows, rowAction: (r) => kit.navigate({ ...kit.readState(), geo: r[0] }), empty: 'No country has enough fixes in this range.' }));
    if (a.suppressed > 0) table.append(h('p', { class: 'note suppressed' }, `${a.suppressed} countries below the threshold withheld.`));
  });
  if (state.geo) {
    await kit.panel(seq, detail, () => Promise.all([get('remediation', { ...params, geo: state.geo }), get('remediation', { ...params, geo: state.geo, group: 'type' })]), ([all, types]) => {
      const x = all.rows[0];
      detail.replaceChildren(section(`${kit.countryName(state.geo)} (${state.geo})`, 'ttf-country',
        x ? histogram(x) : h('p', { class: 'note' }, 'Too few fixes in this country to show their spread.'),
        dataTable({ id: 'remediation-types', caption: `Time to fix per report type in ${state.geo}`, columns: columns('Report type'),
          rows: types.rows.map((t) => row(t, t.key)), empty: 'No report type has enough fixes.' })));
    });
  }
}
