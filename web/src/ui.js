// Small DOM helpers, the live status/error regions, and data tables with "Export CSV" that
// downloads exactly the rows and columns the table shows.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const nf = new Intl.NumberFormat('en-US');
export const fmt = (n) => nf.format(n);

let pending = 0;
export function busy(on) {
  pending += on ? 1 : -1;
  const s = document.getElementById('status');
  document.body.toggleAttribute('data-loading', pending > 0);
  if (pending > 0) s.textContent = 'Loading…';
  else if (s.textContent === 'Loading…') s.textContent = 'Up to date.';
}

export function showError(msg) {
  const e = document.getElementById('error');
  if (!msg) {
    e.hidden = true;
    e.textContent = '';
    return;
  }
  e.hidden = false;
  e.textContent = msg;
}

// A panel's own error (the API's message), shown where the data would have been.
export function panelError(container, msg) {
  container.replaceChildren(h('p', { class: 'panel-error', role: 'alert' }, msg));
}

export function panelNote(container, msg) {
  container.replaceChildren(h('p', { class: 'note' }, msg));
}

// columns: [{label, num?}]; rows: arrays of raw values (numbers stay numbers for the CSV).
// The CSV is made from the table's cells as rendered (data-csv holds the unformatted value),
// so it cannot drift from what is on screen.
export function dataTable({ id, caption, columns, rows, empty = 'No rows.', rowAction }) {
  const table = h('table', { id, class: 'data' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : '' }, c.label)))));
  const tbody = h('tbody');
  for (const r of rows) {
    const tr = h('tr');
    r.forEach((v, i) => {
      const c = columns[i];
      const cell = i === 0 ? h('th', { scope: 'row' }) : h('td');
      if (c.num) cell.className = 'num';
      const text = c.display ? c.display(v) : String(v);
      // Numbers are exported without thousands separators; everything else as displayed.
      cell.dataset.csv = c.num ? String(v) : text;
      if (c.href && c.href(r)) {
        cell.append(h('a', { href: c.href(r) }, text));
      } else if (i === 0 && rowAction) {
        cell.append(h('button', { type: 'button', class: 'linkish', onclick: () => rowAction(r) }, text));
      } else {
        cell.textContent = c.num ? fmt(v) : text;
      }
      tr.append(cell);
    });
    tbody.append(tr);
  }
  table.append(tbody);
  const wrap = h('div', { class: 'table-wrap' });
  if (!rows.length) {
    wrap.append(table, h('p', { class: 'note' }, empty));
    table.querySelector('tbody').remove();
    return wrap;
  }
  const btn = h('button', { type: 'button', class: 'export', 'data-export': id,
    'aria-label': `Export CSV: ${caption}` }, 'Export CSV');
  btn.addEventListener('click', () => download(`${id}.csv`, tableCsv(table)));
  wrap.append(h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': caption }, table),
              btn);
  return wrap;
}

function csvField(s) {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function tableCsv(table) {
  const lines = [];
  const head = [...table.tHead.rows[0].cells].map((c) => csvField(c.textContent.trim()));
  lines.push(head.join(','));
  for (const tr of table.tBodies[0]?.rows || []) {
    lines.push([...tr.cells].map((c) => csvField(c.dataset.csv ?? c.textContent.trim())).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function section(title, id, ...body) {
  return h('section', { class: 'panel', 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }, title), ...body);
}

// Sum of a stats answer's count column.
export const rowsTotal = (rows) => rows.reduce((a, r) => a + r[r.length - 1], 0);
