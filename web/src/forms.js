// Form helpers for the portal pages: labelled fields (every control has a <label>), a message
// line per form, tabs, and a submit wrapper that shows the server's message where the user is.
import { h, busy } from './ui.js';
import { ApiError } from './api.js';

export function field(id, label, control, hint) {
  control.id = id;
  const hintEl = hint ? h('span', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

export function input(id, label, attrs = {}, hint) {
  return field(id, label, h('input', { type: 'text', name: id, ...attrs }), hint);
}

export function textarea(id, label, attrs = {}, hint) {
  return field(id, label, h('textarea', { name: id, rows: '4', ...attrs }), hint);
}

export function select(id, label, options, value, hint) {
  return field(id, label, h('select', { name: id }, options.map(([v, text]) =>
    h('option', { value: v, selected: v === value }, text))), hint);
}

export function message(id) {
  return h('p', { id, class: 'form-msg', role: 'status', 'aria-live': 'polite' });
}

// Runs `fn` with `button` disabled; a failure's message goes to `out` (and is returned).
export async function submitting(button, out, fn) {
  if (out) {
    out.textContent = '';
    out.classList.remove('bad');
  }
  if (button) button.disabled = true;
  busy(true);
  try {
    return await fn();
  } catch (e) {
    const msg = e instanceof ApiError ? e.message : `Unexpected error: ${e.message}`;
    if (out) {
      out.textContent = msg;
      out.classList.add('bad');
    }
    return undefined;
  } finally {
    if (button) button.disabled = false;
    busy(false);
  }
}

// A definition list of [term, value] pairs.
export function facts(id, pairs) {
  return h('dl', { id, class: 'facts' }, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

// Tabs (WAI-ARIA tabs pattern); the open tab is remembered per page in sessionStorage.
export function tabs(id, list, onOpen) {
  const key = `vantage.tab.${id}`;
  let current = sessionStorage.getItem(key);
  if (!list.some(([k]) => k === current)) [[current]] = list;
  const panel = h('div', { id: `${id}-panel`, role: 'tabpanel', class: 'tabpanel' });
  const bar = h('div', { class: 'tabs', role: 'tablist', 'aria-label': id });
  const buttons = list.map(([k, label]) => h('button', {
    type: 'button', role: 'tab', id: `tab-${k}`, 'aria-selected': String(k === current),
    onclick: () => open(k),
  }, label));
  bar.append(...buttons);
  function open(k) {
    current = k;
    sessionStorage.setItem(key, k);
    for (const b of buttons) b.setAttribute('aria-selected', String(b.id === `tab-${k}`));
    panel.setAttribute('aria-labelledby', `tab-${k}`);
    onOpen(k, panel);
  }
  const wrap = h('div', {}, bar, panel);
  return { el: wrap, start: () => open(current) };
}

// Sign-in form shared by the portal and the console. `done(account)` after success.
export function signInForm(title, intro, call, done, extra) {
  const login = h('input', { type: 'text', name: 'login', autocomplete: 'username', required: true, spellcheck: 'false' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const code = h('input', { type: 'text', name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}' });
  const codeField = field('si-totp', 'One-time code', code, 'From your authenticator app.');
  codeField.hidden = true;
  const out = message('signin-msg');
  const btn = h('button', { type: 'submit', id: 'signin-submit' }, 'Sign in');
  const form = h('form', { id: 'signin-form', class: 'login', 'aria-labelledby': 'signin-h' },
    h('h2', { id: 'signin-h' }, title), h('p', {}, intro),
    field('si-login', 'Sign-in name', login), field('si-password', 'Password', password), codeField, btn, out, extra || null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { login: login.value.trim(), password: password.value };
    if (!codeField.hidden) body.totp = code.value.trim();
    try {
      btn.disabled = true;
      busy(true);
      out.textContent = '';
      const a = await call('login', body);
      done(a.account);
    } catch (err) {
      if (err.body && err.body.totp_required) {
        codeField.hidden = false;
        code.focus();
      }
      out.textContent = err.message;
      out.classList.add('bad');
    } finally {
      btn.disabled = false;
      busy(false);
    }
  });
  return form;
}
