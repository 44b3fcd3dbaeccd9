// register.html: the public sign-up form (what Shadowserver asks for) and, opened from the
// confirmation mail (?confirm=<token>), the address confirmation.
import { h, dataTable, section } from './ui.js';
import { call, session } from './portal-api.js';
import { input, textarea, message, submitting } from './forms.js';

function confirmView(content, token) {
  const out = message('confirm-result');
  const btn = h('button', { type: 'button', id: 'confirm-button' }, 'Confirm my e-mail address');
  btn.addEventListener('click', () => submitting(btn, out, async () => {
    const a = await call('confirm', { token });
    out.textContent = `Thank you: the address is confirmed. The operators now review application #${a.application_id}; ` +
      'you can follow it after signing in on the portal page.';
    btn.hidden = true;
    out.append(' ', h('a', { href: 'portal.html', id: 'to-portal' }, 'Go to the portal'));
  }));
  content.replaceChildren(section('Confirm your e-mail address', 'confirm',
    h('p', {}, 'You opened the link from the confirmation mail. Confirm that the address is yours:'), btn, out));
}

function contactFields(prefix, legend, required) {
  return h('fieldset', { class: 'group' }, h('legend', {}, legend),
    input(`${prefix}-name`, 'Name', { required, autocomplete: 'off' }),
    input(`${prefix}-email`, 'E-mail', { type: 'email', required, autocomplete: 'off' }),
    input(`${prefix}-title`, 'Job title', { autocomplete: 'off' }),
    input(`${prefix}-phone`, 'Phone', { type: 'tel', autocomplete: 'off' }));
}

const val = (id) => document.getElementById(id).value.trim();

function contact(prefix) {
  return { name: val(`${prefix}-name`), email: val(`${prefix}-email`), title: val(`${prefix}-title`), phone: val(`${prefix}-phone`) };
}

export async function registerPage(kit, seq, content) {
  const token = new URLSearchParams(location.search).get('confirm');
  if (token) {
    confirmView(content, token);
    return;
  }
  const s = await session();
  if (!s.registration_open) {
    content.replaceChildren(h('p', { class: 'note' }, 'Registration is closed here; contact the operators.'));
    return;
  }
  const out = message('register-msg');
  const btn = h('button', { type: 'submit', id: 'register-submit' }, 'Send the application');
  const result = h('div', { id: 'register-result' });
  const form = h('form', { id: 'register-form', class: 'stack', novalidate: true },
    h('p', {}, 'Ask for free daily reports about your networks. The operators check every application against routing data and WHOIS before reports start; you confirm your e-mail address first.'),
    h('fieldset', { class: 'group' }, h('legend', {}, 'You (the applicant)'),
      input('applicant-name', 'Name', { required: true, autocomplete: 'name' }),
      input('applicant-email', 'E-mail', { type: 'email', required: true, autocomplete: 'email' }, 'Your sign-in name; the confirmation link goes here.'),
      input('applicant-title', 'Job title', { required: true, autocomplete: 'organization-title' }),
      input('applicant-phone', 'Phone', { type: 'tel', required: true, autocomplete: 'tel' })),
    h('fieldset', { class: 'group' }, h('legend', {}, 'Your organisation'),
      input('org-name', 'Organisation name', { required: true, autocomplete: 'organization' }),
      input('org-short', 'Report name (optional)', { pattern: '[A-Za-z0-9_]{1,64}' }, 'Appears in report file names: letters, digits, _. Made from the name when empty.')),
    h('fieldset', { class: 'group' }, h('legend', {}, 'Your networks'),
      textarea('resources', 'ASNs, CIDRs and domains', { required: true, rows: '5', spellcheck: 'false' },
        'One per line: AS64500, 192.0.2.0/24, 2001:db8::/32, example.org. Prefixes are checked against routing data; domains by a DNS TXT record we give you.')),
    h('fieldset', { class: 'group' }, h('legend', {}, 'Where reports go'),
      input('report-email', 'Report address', { type: 'email', required: true }, 'A mailing list or alias is recommended, not one person\'s mailbox.')),
    h('fieldset', { class: 'group' }, h('legend', {}, 'PGP key (optional)'),
      textarea('pgp-key', 'ASCII-armored public key', { rows: '4', spellcheck: 'false' }, 'Reports are then encrypted to it.')),
    contactFields('ref1', 'Reference contact (should match WHOIS)', true),
    contactFields('ref2', 'Second reference contact (optional)', false),
    h('fieldset', { class: 'group' }, h('legend', {}, 'Password'),
      input('password', 'Password', { type: 'password', required: true, autocomplete: 'new-password', minlength: '12' }, 'At least 12 characters.'),
      input('password2', 'Repeat the password', { type: 'password', required: true, autocomplete: 'new-password' })),
    btn, out);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (val('password') !== document.getElementById('password2').value.trim()) {
      out.textContent = 'The passwords differ.';
      out.classList.add('bad');
      return;
    }
    submitting(btn, out, async () => {
      const refs = [contact('ref1')];
      if (val('ref2-name') || val('ref2-email')) refs.push(contact('ref2'));
      const body = {
        applicant: contact('applicant'),
        organisation: { name: val('org-name'), short_name: val('org-short') },
        resources: val('resources').split(/[\s,]+/).filter(Boolean),
        report_email: val('report-email'),
        pgp_key: document.getElementById('pgp-key').value,
        references: refs,
        password: document.getElementById('password').value,
      };
      const a = await call('register', body);
      const app = a.application;
      form.hidden = true;
      const rows = app.resources.map((r) => [r.value, r.kind, r.verification, r.txt ? `Publish TXT "${r.txt}" at ${r.value}` : r.detail]);
      result.replaceChildren(section(`Application #${app.id} received`, 'received',
        h('p', { id: 'register-done' }, a.mail_sent
          ? `We sent a confirmation link to ${app.applicant.email}. Open it to put the application in the operators' queue.`
          : 'The confirmation mail could not be sent just now; the operators have your application and will contact you.'),
        dataTable({ id: 'checks-table', caption: 'What we checked', columns: [{ label: 'Resource' }, { label: 'Kind' }, { label: 'Check' }, { label: 'Detail' }], rows }),
        h('p', {}, 'Follow the application, check your DNS records and answer the operators on the ', h('a', { href: 'portal.html' }, 'portal page'), '.')));
    });
  });
  content.replaceChildren(form, result);
  void kit;
  void seq;
}
