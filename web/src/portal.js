// portal.html: the organisation portal. Applicants follow their application (DNS check, the
// operators' questions); organisations manage recipients, PGP key, networks (new claims go to
// the operators' queue), report-type opt-outs, minimum severity, API keys and sign-in
// security, and see their statistics, reports, deliveries and remediation.
import { h, dataTable, section, panelError } from './ui.js';
import { call, session } from './portal-api.js';
import { input, textarea, select, message, submitting, facts, tabs, signInForm } from './forms.js';

const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];

function signOutButton(rerender) {
  return h('button', { type: 'button', id: 'sign-out', onclick: async () => {
    try {
      await call('logout');
    } finally {
      rerender();
    }
  } }, 'Sign out');
}

function applicantView(content, account, rerender) {
  const box = h('div', { id: 'application' });
  content.replaceChildren(
    h('div', { class: 'who', id: 'portal-who', 'data-role': account.role }, h('p', {}, 'Signed in as ', h('strong', {}, account.name), ` (${account.login}), applicant`), signOutButton(rerender)),
    box);
  const show = (app) => {
    const out = message('app-msg');
    const check = h('button', { type: 'button', id: 'check-dns' }, 'Check my DNS records now');
    check.addEventListener('click', () => submitting(check, out, async () => show((await call('application/check-dns')).application)));
    const reply = h('textarea', { id: 'reply-text', rows: '3' });
    const send = h('button', { type: 'submit', id: 'reply-send' }, 'Send');
    const form = h('form', { id: 'reply-form' }, h('label', { for: 'reply-text' }, 'Answer the operators'), reply, send);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitting(send, out, async () => show((await call('application/reply', { message: reply.value })).application));
    });
    const status = {
      unconfirmed: 'Waiting for you to confirm your e-mail address (see the mail we sent).',
      queued: 'In the operators\' queue.', needs_info: 'The operators need more information: see their message below.',
      approved: 'Approved.', rejected: 'Not approved.',
    }[app.status] || app.status;
    box.replaceChildren(section(`Application #${app.id}: ${app.organisation}`, 'app',
      h('p', { id: 'app-status', 'data-status': app.status }, status),
      dataTable({ id: 'app-resources-table', caption: 'Your networks and their checks',
        columns: [{ label: 'Resource' }, { label: 'Kind' }, { label: 'Check' }, { label: 'Detail' }],
        rows: app.resources.map((r) => [r.value, r.kind, r.verification, r.txt && r.verification !== 'verified' ? `Publish TXT "${r.txt}" at ${r.value}` : r.detail]) }),
      check,
      h('h3', {}, 'Messages'),
      app.messages.length ? h('ol', { id: 'app-messages', class: 'messages' }, app.messages.map((m) =>
        h('li', {}, h('span', { class: 'note' }, `${m.at} ${m.from === 'operator' ? 'operators' : 'you'}: `), m.body))) : h('p', { class: 'note', id: 'app-messages' }, 'None yet.'),
      app.status === 'approved' || app.status === 'rejected' ? null : form, out));
  };
  submitting(null, null, async () => show((await call('application')).application));
}

// ---- the organisation ----------------------------------------------------------------------

function overviewTab(panel, org, refresh) {
  const out = message('severity-msg');
  const sev = select('min-severity', 'Minimum severity of reported events', SEVERITIES.map((s) => [s, s]), org.min_severity,
    'Events below this severity are left out of your reports.');
  const save = h('button', { type: 'button', id: 'severity-save' }, 'Save');
  save.addEventListener('click', () => submitting(save, out, async () => refresh((await call('org/severity', { min_severity: sev.querySelector('select').value })).org, 'Saved.')));
  panel.replaceChildren(facts('org-facts', [['Organisation', org.name], ['Report name', org.short_name], ['Kind', org.kind],
    ['Recipients', String(org.recipients.length)], ['PGP', org.pgp.present ? `key ${org.pgp.fingerprint}` : 'no key: reports go in clear'],
    ['Contacts', org.contacts.map((c) => `${c.name} <${c.email}>`).join(', ') || '-']]),
  h('div', { class: 'inline' }, sev, save), out);
}

function recipientsTab(panel, org, refresh) {
  const out = message('recipient-msg');
  const email = h('input', { type: 'email', id: 'recipient-email', name: 'email', required: true });
  const add = h('button', { type: 'submit', id: 'recipient-add' }, 'Add');
  const form = h('form', { id: 'recipient-form', class: 'inline' }, h('label', { for: 'recipient-email' }, 'New recipient'), email, add);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(add, out, async () => refresh((await call('org/recipient/add', { email: email.value.trim() })).org, 'Added.'));
  });
  const rows = org.recipients.map((r) => [r, r]);
  const table = dataTable({ id: 'recipients-table', caption: 'Report recipients', columns: [{ label: 'Address' }, { label: 'Action' }], rows, empty: 'No recipients: reports are only available through the API.' });
  for (const tr of table.querySelectorAll('tbody tr')) {
    const addr = tr.cells[0].textContent;
    const b = h('button', { type: 'button', 'data-remove': addr, 'aria-label': `Remove ${addr}` }, 'Remove');
    b.addEventListener('click', () => submitting(b, out, async () => refresh((await call('org/recipient/remove', { email: addr })).org, 'Removed.')));
    tr.cells[1].replaceChildren(b);
  }
  panel.replaceChildren(table, form, out);
}

function pgpTab(panel, org, refresh) {
  const out = message('pgp-msg');
  const key = textarea('pgp-key', 'ASCII-armored public key', { rows: '8', spellcheck: 'false' }, 'Checked with GnuPG: it must be able to encrypt.');
  const save = h('button', { type: 'button', id: 'pgp-save' }, 'Use this key');
  save.addEventListener('click', () => submitting(save, out, async () => refresh((await call('org/pgp/set', { key: key.querySelector('textarea').value })).org, 'Key saved.')));
  const clear = h('button', { type: 'button', id: 'pgp-clear', disabled: !org.pgp.present }, 'Remove the key');
  clear.addEventListener('click', () => submitting(clear, out, async () => refresh((await call('org/pgp/clear')).org, 'Key removed.')));
  panel.replaceChildren(h('p', { id: 'pgp-status' }, org.pgp.present ? `Reports are encrypted to ${org.pgp.fingerprint}.` : 'No key: report mails go in clear.'),
    key, h('div', { class: 'actions' }, save, clear), out);
}

function networksTab(panel, org, refresh) {
  const out = message('claim-msg');
  const rows = org.resources.map((r) => [r.value, r.kind, r.verification, r.approval, r.detail, `${r.kind}\u0000${r.value}`]);
  const table = dataTable({ id: 'resources-table', caption: 'Networks you receive reports for',
    columns: [{ label: 'Resource' }, { label: 'Kind' }, { label: 'Check' }, { label: 'Approval' }, { label: 'Detail' }, { label: 'Action' }], rows });
  for (const tr of table.querySelectorAll('tbody tr')) {
    const [kind, value] = tr.cells[5].dataset.csv.split('\u0000');
    const b = h('button', { type: 'button', 'aria-label': `Remove ${value}` }, 'Remove');
    b.addEventListener('click', () => submitting(b, out, async () => refresh((await call('org/resource/remove', { kind, value })).org, 'Removed.')));
    tr.cells[5].replaceChildren(b);
  }
  const pending = org.pending_claims.flatMap((c) => c.resources.map((r) => [r.value, r.kind, r.verification, c.status, r.txt ? `Publish TXT "${r.txt}"` : r.detail]));
  const claims = h('textarea', { id: 'claim-resources', rows: '3', spellcheck: 'false' });
  const send = h('button', { type: 'submit', id: 'claim-send' }, 'Ask for these');
  const form = h('form', { id: 'claim-form' }, h('label', { for: 'claim-resources' }, 'Claim more networks (one per line)'), claims, send);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(send, out, async () => refresh((await call('org/claim', { resources: claims.value.split(/[\s,]+/).filter(Boolean) })).org, 'Sent to the operators.'));
  });
  panel.replaceChildren(table, h('h3', {}, 'Waiting for the operators'),
    dataTable({ id: 'claims-table', caption: 'Claims the operators have not decided yet', columns: [{ label: 'Resource' }, { label: 'Kind' }, { label: 'Check' }, { label: 'Status' }, { label: 'Detail' }], rows: pending, empty: 'None.' }),
    form, out);
}

function typesTab(panel, org, refresh) {
  const out = message('optout-msg');
  const rows = org.opt_outs.map((t) => [t, t]);
  const table = dataTable({ id: 'optouts-table', caption: 'Report types you do not receive', columns: [{ label: 'Report type' }, { label: 'Action' }], rows, empty: 'None: you receive every report type.' });
  for (const tr of table.querySelectorAll('tbody tr')) {
    const t = tr.cells[0].textContent;
    const b = h('button', { type: 'button', 'aria-label': `Receive ${t} again` }, 'Receive again');
    b.addEventListener('click', () => submitting(b, out, async () => refresh((await call('org/opt-out/remove', { type: t })).org, 'Done.')));
    tr.cells[1].replaceChildren(b);
  }
  const sel = select('optout-type', 'Stop receiving', (org.report_types || []).filter((t) => !org.opt_outs.includes(t)).map((t) => [t, t]), '');
  const add = h('button', { type: 'button', id: 'optout-add' }, 'Opt out');
  add.addEventListener('click', () => submitting(add, out, async () => refresh((await call('org/opt-out/add', { type: sel.querySelector('select').value })).org, 'Done.')));
  panel.replaceChildren(table, h('div', { class: 'inline' }, sel, add), out);
}

// The last key issued or rotated in this page: its secret is shown until the page is left.
let lastIssued = null;

function keysTab(panel, org, refresh) {
  const out = message('key-msg');
  const issued = h('div', { id: 'key-issued' });
  if (lastIssued) {
    const k = lastIssued;
    const cfg = `[api]\nkey = ${k.key}\nsecret = ${k.secret}\nuri = ${location.origin}/api2/\n`;
    issued.append(section('New key: copy the secret now', 'newkey',
      h('p', {}, 'The secret is shown only this once. For Shadowserver\'s call-api.py, put this in ~/.shadowserver.api:'),
      h('pre', { id: 'key-config' }, cfg),
      facts('key-facts', [['Key', h('code', { id: 'key-value' }, k.key)], ['Secret', h('code', { id: 'key-secret' }, k.secret)]])));
  }
  const issuedThen = async (k, note) => {
    lastIssued = k;
    refresh((await call('org')).org, note);
  };
  const rows = org.keys.map((k) => [k.key, k.label, k.created, k.revoked || 'active', k.key]);
  const table = dataTable({ id: 'keys-table', caption: 'API keys (api2, HMAC2)', columns: [{ label: 'Key' }, { label: 'Label' }, { label: 'Created' }, { label: 'Revoked' }, { label: 'Actions' }], rows, empty: 'No keys yet.' });
  for (const tr of table.querySelectorAll('tbody tr')) {
    const key = tr.cells[0].textContent;
    if (tr.cells[3].textContent !== 'active') {
      tr.cells[4].textContent = '';
      continue;
    }
    const rotate = h('button', { type: 'button', 'aria-label': `Rotate ${key}` }, 'Rotate');
    rotate.addEventListener('click', () => submitting(rotate, out, async () => issuedThen(await call('org/key/rotate', { key }), 'New secret issued; the old one works for one more day.')));
    const revoke = h('button', { type: 'button', 'aria-label': `Revoke ${key}` }, 'Revoke');
    revoke.addEventListener('click', () => submitting(revoke, out, async () => refresh((await call('org/key/revoke', { key })).org, 'Revoked.')));
    tr.cells[4].replaceChildren(rotate, ' ', revoke);
  }
  const label = h('input', { type: 'text', id: 'key-label', name: 'label' });
  const issue = h('button', { type: 'submit', id: 'key-issue' }, 'Issue a key');
  const form = h('form', { id: 'key-form', class: 'inline' }, h('label', { for: 'key-label' }, 'Label'), label, issue);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(issue, out, async () => issuedThen(await call('org/key/issue', { label: label.value.trim() }), 'Key issued.'));
  });
  panel.replaceChildren(issued, table, form, out);
}

function securityTab(panel, account) {
  const out = message('security-msg');
  const begin = h('button', { type: 'button', id: 'totp-begin', disabled: account.totp }, 'Set up an authenticator app');
  const setup = h('div', { id: 'totp-setup' });
  begin.addEventListener('click', () => submitting(begin, out, async () => {
    const t = await call('account/totp/begin');
    const code = input('totp-code', 'Code from the app', { inputmode: 'numeric' });
    const confirm = h('button', { type: 'button', id: 'totp-confirm' }, 'Turn on');
    confirm.addEventListener('click', () => submitting(confirm, out, async () => {
      await call('account/totp/confirm', { code: code.querySelector('input').value.trim() });
      setup.replaceChildren();
      out.textContent = 'Two-factor sign-in is on.';
    }));
    setup.replaceChildren(h('p', {}, 'Add this secret to your authenticator app (or open the link on the phone), then enter the code it shows:'),
      h('p', {}, h('code', { id: 'totp-secret' }, t.secret)), h('p', {}, h('a', { href: t.uri, id: 'totp-uri' }, 'otpauth link')), code, confirm);
  }));
  const cur = input('pw-current', 'Current password', { type: 'password', autocomplete: 'current-password' });
  const next = input('pw-new', 'New password', { type: 'password', autocomplete: 'new-password' });
  const change = h('button', { type: 'button', id: 'pw-change' }, 'Change the password');
  change.addEventListener('click', () => submitting(change, out, async () => {
    await call('account/password', { current: cur.querySelector('input').value, new: next.querySelector('input').value });
    out.textContent = 'Password changed; other sessions were signed out.';
  }));
  panel.replaceChildren(h('p', {}, account.totp ? 'Two-factor sign-in (TOTP) is on.' : 'Two-factor sign-in is off.'), begin, setup,
    h('h3', {}, 'Password'), cur, next, change, out);
}

function remediationTab(panel) {
  const box = h('div', { id: 'remediation-box' });
  panel.replaceChildren(h('p', { class: 'note' }, 'An issue is one problem on one address (and port) or domain. It counts as fixed once the scans of its type stopped seeing it; see the docs for the rule.'), box);
  submitting(null, null, async () => {
    try {
      const r = await call('org/remediation', { group: 'type' });
      box.replaceChildren(
        h('p', { id: 'remediation-asof' }, r.as_of ? `As of ${r.as_of} (fixes from ${r.from} to ${r.to}).` : 'Not computed yet.'),
        dataTable({ id: 'remediation-table', caption: 'Time to fix per report type (days)',
          columns: [{ label: 'Report type' }, { label: 'Fixed', num: true }, { label: 'Median', num: true }, { label: '90th pct.', num: true },
            { label: 'Mean', num: true }, { label: 'Open', num: true }, { label: 'Median age open', num: true }],
          rows: r.rows.map((x) => [x.key, x.fixed, x.p50_days, x.p90_days, x.mean_days, x.open ?? 0, x.open_median_age ?? 0]), empty: 'No issues.' }),
        dataTable({ id: 'issues-table', caption: 'Issues (open first)',
          columns: [{ label: 'Report type' }, { label: 'Address or domain' }, { label: 'First seen' }, { label: 'Last seen' }, { label: 'Fixed' },
            { label: 'Days open', num: true }, { label: 'Status' }],
          rows: r.issues.map((i) => [i.type, i.subject, i.first_seen, i.last_seen, i.fixed || '-', i.days_open, i.status]), empty: 'No issues.' }));
    } catch (e) {
      panelError(box, e.message);
    }
  });
}

function orgView(kit, seq, content, state, range, account, rerender) {
  const status = message('org-msg');
  let org = null;
  const who = { org: account.org, name: account.org_name };
  const t = tabs('org', [['overview', 'Overview'], ['recipients', 'Recipients'], ['pgp', 'PGP key'], ['networks', 'Networks'],
    ['types', 'Report types'], ['keys', 'API keys'], ['security', 'Sign-in'], ['stats', 'Statistics'], ['remediation', 'Remediation']],
  (k, panel) => {
    const draw = { overview: overviewTab, recipients: recipientsTab, pgp: pgpTab, networks: networksTab, types: typesTab, keys: keysTab }[k];
    if (draw) draw(panel, org, refresh);
    else if (k === 'security') securityTab(panel, account);
    else if (k === 'remediation') remediationTab(panel);
    else kit.orgView(seq, panel, state, range, who, (m, p) => call(`org/${m}`, p), null);
  });
  function refresh(next, note) {
    org = next;
    status.textContent = note || '';
    t.start();
  }
  content.replaceChildren(
    h('div', { class: 'who', id: 'portal-who', 'data-role': account.role, 'data-org': account.org },
      h('p', {}, 'Signed in as ', h('strong', {}, account.name), ` (${account.login}) for `, h('strong', {}, account.org_name), ` (${account.org})`),
      signOutButton(rerender)),
    status, t.el);
  return submitting(null, status, async () => refresh((await call('org')).org));
}

export async function portalPage(kit, seq, content, state, range) {
  const rerender = () => kit.render();
  const s = await session();
  if (!s.signed_in) {
    content.replaceChildren(signInForm('Sign in', 'Organisations and applicants sign in with their e-mail address.', call, () => rerender(),
      h('p', {}, 'No account yet? ', h('a', { href: 'register.html', id: 'to-register' }, 'Register your organisation'), '.')));
    return;
  }
  const a = s.account;
  if (a.role === 'applicant') return applicantView(content, a, rerender);
  if (a.role === 'org') return orgView(kit, seq, content, state, range, a, rerender);
  content.replaceChildren(h('p', {}, 'This is the organisations\' portal; staff use the ', h('a', { href: 'console.html' }, 'operator console'), '.'),
    signOutButton(rerender));
}
