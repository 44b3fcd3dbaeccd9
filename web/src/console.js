// console.html: the operator console. The application queue with each application's checks
// and conflicting claims, and the decisions (approve, ask for more, reject); organisations
// (edit, recipients, resources, keys); delivery failures; accounts; the audit log. Viewers see
// the same with every action disabled (the server refuses them anyway).
import { h, dataTable, section, panelError } from './ui.js';
import { call, session } from './portal-api.js';
import { input, textarea, select, message, submitting, facts, tabs, signInForm } from './forms.js';

const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];
let readOnly = true;

function act(label, attrs, fn, out) {
  const b = h('button', { type: 'button', ...attrs, disabled: readOnly }, label);
  b.addEventListener('click', () => submitting(b, out, fn));
  return b;
}

function applicationDetail(box, app, reloadQueue) {
  const out = message('decision-msg');
  const shortName = input('approve-short-name', 'Report name', { value: app.short_name }, 'Letters, digits and _; used in report file names.');
  const note = textarea('decision-message', 'Message to the applicant', { rows: '3' }, 'Required to ask for more or to reject; sent by mail.');
  const text = () => note.querySelector('textarea').value;
  const show = async (p) => {
    applicationDetail(box, (await p).application, reloadQueue);
    reloadQueue();
  };
  const resources = app.resources.map((r) => [r.value, r.kind, r.verification, r.detail]);
  const conflicts = app.conflicts.flatMap((c) => c.conflicts.map((x) => [`${c.kind} ${c.value}`, x.org || '', x.how, x.application ? `application #${x.application}` : x.approval || '']));
  const a = app.applicant;
  box.replaceChildren(section(`Application #${app.id}: ${app.organisation}`, 'application',
    h('p', { id: 'application-status', 'data-status': app.status }, `${app.kind}, ${app.status}${app.email_confirmed ? ', address confirmed' : ', address NOT confirmed'}`),
    facts('application-facts', [['Applicant', `${a.name} <${a.email}>, ${a.title}, ${a.phone}`], ['Report address', app.report_email],
      ['References', app.references.map((r) => `${r.name} <${r.email}>${r.phone ? `, ${r.phone}` : ''}`).join('; ') || '-'],
      ['PGP key', app.pgp_key], ['Received', app.created]]),
    dataTable({ id: 'application-resources-table', caption: 'Claimed resources and their checks', columns: [{ label: 'Resource' }, { label: 'Kind' }, { label: 'Check' }, { label: 'Detail' }], rows: resources }),
    dataTable({ id: 'conflicts-table', caption: 'Conflicting claims', columns: [{ label: 'Claim' }, { label: 'Other organisation' }, { label: 'How' }, { label: 'State' }], rows: conflicts, empty: 'No other organisation claims these.' }),
    h('h3', {}, 'Messages'),
    h('ol', { id: 'application-messages', class: 'messages' }, app.messages.map((m) => h('li', {}, h('span', { class: 'note' }, `${m.at} ${m.author}: `), m.body))),
    app.status === 'approved' || app.status === 'rejected' ? h('p', {}, `Decided by ${app.decided_by} at ${app.decided}.`) : h('div', { class: 'decide' },
      app.kind === 'registration' ? shortName : null, note,
      h('div', { class: 'actions' },
        act('Approve', { id: 'approve' }, () => show(call('console/application/approve', { id: app.id, short_name: shortName.querySelector('input').value, message: text() })), out),
        act('Ask for more', { id: 'ask' }, () => show(call('console/application/ask', { id: app.id, message: text() })), out),
        act('Reject', { id: 'reject' }, () => show(call('console/application/reject', { id: app.id, message: text() })), out),
        act('Check again', { id: 'recheck' }, () => show(call('console/application/check', { id: app.id })), out))),
    out));
}

function queueTab(panel) {
  const out = message('queue-msg');
  const filter = select('queue-status', 'Show', [['', 'open applications'], ['all', 'all'], ['approved', 'approved'], ['rejected', 'rejected']], sessionStorage.getItem('vantage.queue') || '');
  const tableBox = h('div');
  const detail = h('div', { id: 'application-detail' });
  const load = () => submitting(null, out, async () => {
    const status = filter.querySelector('select').value;
    const q = await call('console/queue', status ? { status } : {});
    tableBox.replaceChildren(dataTable({ id: 'queue-table', caption: 'Applications (newest first)',
      columns: [{ label: 'Id' }, { label: 'Kind' }, { label: 'Status' }, { label: 'Organisation' }, { label: 'Applicant' },
        { label: 'Resources', num: true }, { label: 'Verified', num: true }, { label: 'Received' }],
      rows: q.applications.map((a) => [a.id, a.kind, a.status, a.organisation, a.applicant, a.resources, a.verified, a.created]),
      rowAction: (r) => submitting(null, out, async () => applicationDetail(detail, (await call('console/application', { id: r[0] })).application, load)),
      empty: 'The queue is empty.' }));
  });
  filter.addEventListener('change', () => {
    sessionStorage.setItem('vantage.queue', filter.querySelector('select').value);
    load();
  });
  panel.replaceChildren(filter, tableBox, detail, out);
  load();
}

function orgDetail(box, org, reload) {
  const out = message('org-edit-msg');
  const redraw = async (p) => orgDetail(box, (await p).org, reload);
  const name = input('org-name', 'Name', { value: org.name });
  const kind = select('org-kind', 'Kind', [['organisation', 'organisation'], ['national_csirt', 'national CSIRT']], org.kind);
  const sev = select('org-severity', 'Minimum severity', SEVERITIES.map((s) => [s, s]), org.min_severity);
  const v = (el, tag) => el.querySelector(tag).value;
  const recipient = input('org-recipient', 'Add recipient', { type: 'email' });
  const resources = dataTable({ id: 'org-resources-table', caption: 'Resources', columns: [{ label: 'Resource' }, { label: 'Kind' }, { label: 'Check' }, { label: 'Approval' }, { label: 'Actions' }],
    rows: org.resources.map((r) => [r.value, r.kind, r.verification, r.approval, String(r.id)]) });
  for (const tr of resources.querySelectorAll('tbody tr')) {
    const id = Number(tr.cells[4].textContent);
    const r = org.resources.find((x) => x.id === id);
    tr.cells[4].replaceChildren(
      act('Approve', { 'aria-label': `Approve ${r.value}` }, () => redraw(call('console/org/resource/approval', { id: org.id, resource_id: id, approval: 'approved' })), out), ' ',
      act('Reject', { 'aria-label': `Reject ${r.value}` }, () => redraw(call('console/org/resource/approval', { id: org.id, resource_id: id, approval: 'rejected' })), out), ' ',
      act('Remove', { 'aria-label': `Remove ${r.value}` }, () => redraw(call('console/org/resource/remove', { id: org.id, kind: r.kind, value: r.value })), out));
  }
  const keys = dataTable({ id: 'org-keys-table', caption: 'API keys', columns: [{ label: 'Key' }, { label: 'Label' }, { label: 'Created' }, { label: 'Revoked' }, { label: 'Action' }],
    rows: org.keys.map((k) => [k.key, k.label, k.created, k.revoked || 'active', k.key]) });
  for (const tr of keys.querySelectorAll('tbody tr')) {
    const key = tr.cells[0].textContent;
    tr.cells[4].replaceChildren(tr.cells[3].textContent === 'active'
      ? act('Revoke', { 'aria-label': `Revoke ${key}` }, async () => {
        await call('console/key/revoke', { key });
        await redraw(call('console/org', { id: org.id }));
      }, out) : '');
  }
  const issued = h('div', { id: 'console-key-issued' });
  box.replaceChildren(section(`${org.name} (${org.short_name})`, 'org-detail',
    h('div', { class: 'inline' }, name, kind, sev,
      act('Save', { id: 'org-save' }, () => redraw(call('console/org/update', { id: org.id, name: v(name, 'input'), kind: v(kind, 'select'), min_severity: v(sev, 'select') })), out)),
    facts('org-detail-facts', [['Recipients', org.recipients.join(', ') || '-'], ['PGP', org.pgp.present ? org.pgp.fingerprint || 'present' : 'none'],
      ['Contacts', org.contacts.map((c) => `${c.name} <${c.email}>`).join(', ') || '-'], ['Accounts', (org.accounts || []).map((a) => a.login).join(', ') || '-']]),
    h('div', { class: 'inline' }, recipient,
      act('Add', { id: 'org-recipient-add' }, () => redraw(call('console/org/recipient/add', { id: org.id, email: v(recipient, 'input') })), out)),
    org.recipients.map((e) => act(`Remove ${e}`, { 'data-recipient': e }, () => redraw(call('console/org/recipient/remove', { id: org.id, email: e })), out)),
    resources, keys,
    act('Issue a key', { id: 'console-key-issue' }, async () => {
      const k = await call('console/key/issue', { id: org.id, label: 'console' });
      await redraw(call('console/org', { id: org.id }));
      document.getElementById('console-key-issued').replaceChildren(h('p', {}, 'New key (the secret is shown only now): ', h('code', {}, k.key), ' ', h('code', {}, k.secret)));
    }, out),
    issued, out));
  void reload;
}

function orgsTab(panel) {
  const out = message('orgs-msg');
  const detail = h('div', { id: 'org-detail' });
  const tableBox = h('div');
  const load = () => submitting(null, out, async () => {
    const o = await call('console/orgs');
    tableBox.replaceChildren(dataTable({ id: 'orgs-table', caption: 'Organisations',
      columns: [{ label: 'Id' }, { label: 'Report name' }, { label: 'Name' }, { label: 'Kind' }, { label: 'Resources', num: true },
        { label: 'Recipients', num: true }, { label: 'Active keys', num: true }],
      rows: o.orgs.map((x) => [x.id, x.short_name, x.name, x.kind, x.resources, x.recipients, x.keys]),
      rowAction: (r) => submitting(null, out, async () => orgDetail(detail, (await call('console/org', { id: r[0] })).org, load)) }));
  });
  panel.replaceChildren(tableBox, detail, out);
  load();
}

function deliveriesTab(panel) {
  const out = message('deliveries-msg');
  submitting(null, out, async () => {
    const d = await call('console/deliveries');
    panel.replaceChildren(dataTable({ id: 'deliveries-table', caption: 'Report mails that were not delivered (newest first)',
      columns: [{ label: 'Time (UTC)' }, { label: 'Day' }, { label: 'Organisation' }, { label: 'Recipient' }, { label: 'Status' },
        { label: 'SMTP code', num: true }, { label: 'Attempt', num: true }, { label: 'Reason' }],
      rows: d.deliveries.map((x) => [x.at, x.day, x.org, x.recipient, x.status, x.smtp_code, x.attempt, x.reason]),
      empty: 'No failed deliveries.' }), out);
  });
}

function auditTab(panel) {
  const out = message('audit-msg');
  submitting(null, out, async () => {
    const a = await call('console/audit', { limit: 500 });
    panel.replaceChildren(
      h('p', { id: 'audit-chain', 'data-intact': String(a.chain_intact), class: a.chain_intact ? '' : 'panel-error' },
        a.chain_intact ? 'The log\'s hash chain is intact: no entry was changed or removed.' : `The log's hash chain is broken at entry ${a.broken_at}: entries were changed or removed behind its back.`),
      dataTable({ id: 'audit-table', caption: 'Audit log (newest first; append-only)',
        columns: [{ label: '#' }, { label: 'Time (UTC)' }, { label: 'Who' }, { label: 'Role' }, { label: 'Action' }, { label: 'Target' }, { label: 'Detail' }, { label: 'From' }],
        rows: a.entries.map((e) => [e.seq, e.at, e.actor, e.role, e.action, e.target, e.detail, e.remote]) }), out);
  });
}

function accountsTab(panel) {
  const out = message('accounts-msg');
  submitting(null, out, async () => {
    const a = await call('console/accounts');
    panel.replaceChildren(dataTable({ id: 'accounts-table', caption: 'Accounts (add staff with `vantage portal user add`)',
      columns: [{ label: 'Sign-in name' }, { label: 'Name' }, { label: 'Role' }, { label: 'Organisation' }, { label: 'TOTP' }, { label: 'State' }, { label: 'Created' }],
      rows: a.accounts.map((x) => [x.login, x.name, x.role, x.org_id ?? '-', x.totp ? 'on' : 'off', x.disabled ? 'disabled' : 'active', x.created]) }), out);
  });
}

export async function consolePage(kit, seq, content) {
  const rerender = () => kit.render();
  const s = await session();
  if (!s.signed_in) {
    content.replaceChildren(signInForm('Operator sign-in', 'For the operators of this service.', call, () => rerender()));
    return;
  }
  const a = s.account;
  if (a.role !== 'operator' && a.role !== 'viewer') {
    content.replaceChildren(h('p', { id: 'not-staff' }, 'This console is for operators; organisations use the ', h('a', { href: 'portal.html' }, 'portal'), '.'));
    return;
  }
  readOnly = a.role !== 'operator';
  const signOut = h('button', { type: 'button', id: 'sign-out', onclick: async () => {
    try {
      await call('logout');
    } finally {
      rerender();
    }
  } }, 'Sign out');
  const t = tabs('console', [['queue', 'Applications'], ['orgs', 'Organisations'], ['deliveries', 'Delivery failures'], ['audit', 'Audit log'], ['accounts', 'Accounts']],
    (k, panel) => ({ queue: queueTab, orgs: orgsTab, deliveries: deliveriesTab, audit: auditTab, accounts: accountsTab })[k](panel));
  content.replaceChildren(h('div', { class: 'who', id: 'console-who', 'data-role': a.role },
    h('p', {}, 'Signed in as ', h('strong', {}, a.name), ` (${a.login}), ${a.role}${readOnly ? ': read-only' : ''}`), signOut), t.el);
  t.start();
  void seq;
  void panelError;
}
