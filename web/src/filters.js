// The filter bar shared by every page: report type(s), tag, severity, country, date range and
// (time series) stacking. Every change is written to the URL and re-renders the page.
import { h } from './ui.js';
import { get } from './api.js';
import { addDays, effectiveRange } from './state.js';

const regionNames = typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(['en'], { type: 'region' }) : null;
export function countryName(cc) {
  if (!cc) return '';
  try {
    const n = regionNames && regionNames.of(cc);
    return n && n !== cc ? n : cc;
  } catch {
    return cc;
  }
}

export function typeTitle(meta, name) {
  const t = (meta.types || []).find((x) => x.name === name);
  return t && t.title ? t.title : name;
}

let uid = 0;
function field(label, control, hint) {
  const id = control.id || `f${++uid}`;
  control.id = id;
  const hintEl = hint ? h('span', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

// fields: subset of ['type', 'tag', 'severity', 'geo', 'region', 'range', 'by']
export function filterForm(meta, state, fields, onChange) {
  const range = effectiveRange(state, meta);
  const form = h('form', { id: 'filters', class: 'filters', 'aria-label': 'Filters' });
  const controls = {};
  const has = (f) => fields.includes(f);

  if (has('type')) {
    const sel = h('select', { id: 'f-type', name: 'type', multiple: true, size: '4' },
      (meta.types || []).map((t) => h('option', { value: t.name, selected: state.type.includes(t.name) },
        t.title && t.title !== t.name ? `${t.title} (${t.name})` : t.name)));
    controls.type = sel;
    form.append(field('Report types', sel, 'None selected: all types. Ctrl/Cmd or Shift to pick several.'));
  }
  if (has('tag')) {
    const sel = h('select', { id: 'f-tag', name: 'tag' }, h('option', { value: '' }, 'Any tag'),
      (meta.tags || []).map((t) => h('option', { value: t, selected: state.tag === t }, t)));
    controls.tag = sel;
    form.append(field('Tag', sel));
  }
  if (has('severity')) {
    const fs = h('fieldset', { id: 'f-severity', class: 'checks' }, h('legend', {}, 'Severity'),
      (meta.severities || []).map((s) => h('label', {}, h('input', { type: 'checkbox', name: 'severity', value: s,
        checked: state.severity.includes(s) }), ` ${s}`)));
    controls.severity = fs;
    form.append(fs);
  }
  if (has('geo')) {
    const cs = [...(meta.countries || [])].sort((a, b) => countryName(a).localeCompare(countryName(b)));
    if (state.geo && !cs.includes(state.geo)) cs.unshift(state.geo);
    const sel = h('select', { id: 'f-geo', name: 'geo' }, h('option', { value: '' }, 'All countries'),
      cs.map((c) => h('option', { value: c, selected: state.geo === c }, `${countryName(c)} (${c})`)));
    controls.geo = sel;
    form.append(field('Country', sel));
  }
  if (has('region') && state.geo) {
    // The chosen country's regions, as the statistics API knows them (filled in when they
    // arrive; the current choice is kept meanwhile).
    const sel = h('select', { id: 'f-region', name: 'region' }, h('option', { value: '' }, 'All regions'),
      state.region ? h('option', { value: state.region, selected: true }, state.region) : null);
    controls.region = sel;
    form.append(field('Region', sel, 'Regions of the chosen country.'));
    get('stats', { group: 'region', geo: state.geo, from: range.from, to: range.to, type: state.type.join(',') })
      .then((a) => {
        const names = a.rows.map((r) => r[0]).filter(Boolean).sort((x, y) => x.localeCompare(y));
        if (state.region && !names.includes(state.region)) names.unshift(state.region);
        sel.replaceChildren(h('option', { value: '' }, 'All regions'),
          ...names.map((n) => h('option', { value: n, selected: n === state.region }, n)));
        exclusive();
      })
      .catch(() => {
        // The list is a convenience; the filter still works with the value in the URL.
      });
  }
  if (has('by')) {
    const sel = h('select', { id: 'f-by', name: 'by' },
      h('option', { value: 'type', selected: state.by !== 'tag' }, 'Report type'),
      h('option', { value: 'tag', selected: state.by === 'tag' }, 'Tag'));
    controls.by = sel;
    form.append(field('Stack by', sel));
  }
  if (has('range')) {
    const min = meta.first_day || undefined;
    const from = h('input', { id: 'f-from', type: 'date', name: 'from', value: range.from, required: true });
    const to = h('input', { id: 'f-to', type: 'date', name: 'to', value: range.to, required: true, min });
    controls.from = from;
    controls.to = to;
    const presets = h('div', { class: 'presets', role: 'group', 'aria-label': 'Date range presets' },
      [[7, '7 days'], [30, '30 days'], [90, '90 days'], [365, '1 year'], [meta.max_days || 731, '2 years']].map(([n, label]) =>
        h('button', { type: 'button', 'data-days': String(n), onclick: () => {
          const end = to.value || range.to;
          from.value = addDays(end, -(n - 1));
          emit();
        } }, label)));
    form.append(h('div', { class: 'range' }, field('From', from), field('To', to), presets));
  }
  const hint = h('p', { class: 'hint', id: 'f-exclusive', hidden: true });
  form.append(hint, h('div', { class: 'actions' },
    h('button', { type: 'submit' }, 'Apply'),
    h('button', { type: 'button', id: 'f-reset', onclick: () => onChange({ type: [], tag: '', severity: [], geo: '', region: '', from: '', to: '', by: '' }) }, 'Reset')));

  // Tag statistics come from a rollup without severity, so the API refuses the combination;
  // make it impossible to produce instead of failing after the fact.
  function exclusive() {
    if (!controls.tag) return;
    const tagOn = controls.tag.value !== '';
    const sevOn = !!controls.severity && [...controls.severity.querySelectorAll('input')].some((i) => i.checked);
    const regionOn = !!controls.region && controls.region.value !== '';
    if (controls.severity) controls.severity.disabled = tagOn;
    // Regions come from a rollup without tags, too.
    if (controls.region) controls.region.disabled = tagOn;
    controls.tag.disabled = (sevOn || regionOn) && !tagOn;
    hint.hidden = !(tagOn || sevOn || regionOn);
    hint.textContent = tagOn ? 'Severity and region cannot be combined with a tag: clear the tag to filter by them.'
      : sevOn || regionOn ? 'A tag cannot be combined with a severity or region filter: clear them to pick a tag.' : '';
  }
  exclusive();

  function read() {
    const s = {};
    s.type = controls.type ? [...controls.type.selectedOptions].map((o) => o.value) : state.type;
    s.tag = controls.tag ? controls.tag.value : state.tag;
    s.severity = controls.severity ? [...controls.severity.querySelectorAll('input:checked')].map((i) => i.value) : state.severity;
    if (s.tag) s.severity = [];
    s.geo = controls.geo ? controls.geo.value : state.geo;
    s.region = controls.region && s.geo === state.geo && !s.tag ? controls.region.value : '';
    s.by = controls.by ? (controls.by.value === 'tag' ? 'tag' : '') : state.by;
    if (controls.from) {
      // Only dates that differ from the defaults go into the URL, so an unchanged view keeps
      // following the newest data.
      const def = effectiveRange({ from: '', to: '' }, meta);
      s.to = controls.to.value && controls.to.value !== def.to ? controls.to.value : '';
      const defFrom = addDays(controls.to.value || def.to, -29);
      s.from = controls.from.value && controls.from.value !== defFrom ? controls.from.value : '';
    } else {
      s.from = state.from;
      s.to = state.to;
    }
    return s;
  }
  function emit() {
    exclusive();
    onChange(read());
  }
  form.addEventListener('change', (e) => {
    // Dates typed digit by digit fire change events for half-typed values; wait for a full one.
    if (e.target.type === 'date' && !e.target.value) return;
    emit();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    emit();
  });
  return form;
}
