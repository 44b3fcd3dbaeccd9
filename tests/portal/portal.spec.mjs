// The portal flow in headless Chromium against the `vantage serve` that portal_browser_test.sh
// started (real Postfix, real Unbound). Every step checks what the pages show against what the
// server and the mail system hold.
//
// Usage: node portal.spec.mjs FIXTURE.json
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const fx = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const require = createRequire(path.join(fx.web, 'package.json'));
const { chromium } = require('playwright-core');

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail ? `\n     ${detail}` : ''}`);
  }
}
const shots = [];
async function shot(page, name) {
  const file = path.join(fx.shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// quoted-printable (RFC 2045 §6.7) body text of a mail file.
function mailText(file) {
  const raw = fs.readFileSync(file, 'latin1');
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, x) => String.fromCharCode(parseInt(x, 16)));
}
async function waitMail(n, timeoutMs = 30000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const files = fs.existsSync(fx.maildir) ? fs.readdirSync(fx.maildir).map((f) => path.join(fx.maildir, f)) : [];
    if (files.length >= n) return files.sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs);
    await sleep(200);
  }
  return [];
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'] });
const pageErrors = [];
const nonLocal = [];
async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(20000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['127.0.0.1', 'localhost'].includes(u.hostname) && !['data:', 'blob:'].includes(u.protocol)) nonLocal.push(r.url());
  });
  return { ctx, page };
}
async function signIn(page, url, login, password) {
  await page.goto(`${fx.base}/${url}`);
  await page.waitForSelector('#signin-form');
  await page.fill('#si-login', login);
  await page.fill('#si-password', password);
  await page.click('#signin-submit');
}

const applicantEmail = 'applicant@reports.test';
const password = `applicant passphrase ${Date.now()}`;
const domain = 'applicant-networks.test';
try {
  // ---- 1. registration ----------------------------------------------------------------------
  const { ctx: actx, page } = await newPage();
  await page.goto(`${fx.base}/register.html`);
  await page.waitForSelector('#register-form');
  const fill = {
    'applicant-name': 'Ann Applicant', 'applicant-email': applicantEmail, 'applicant-title': 'Head of security',
    'applicant-phone': '+31 20 555 0100', 'org-name': 'Applicant Networks B.V.', 'org-short': 'Applicant_Networks',
    resources: `AS13335\n1.1.1.0/24\n192.0.2.0/24\n${domain}`, 'report-email': 'abuse-list@reports.test',
    'ref1-name': 'Rita Reference', 'ref1-email': 'noc@reports.test', 'ref1-phone': '+31 20 555 0199',
    password, password2: password,
  };
  for (const [id, v] of Object.entries(fill)) await page.fill(`#${id}`, v);
  await shot(page, '01-register-form');
  await page.click('#register-submit');
  await page.waitForSelector('#register-done');
  const checks = await page.$$eval('#checks-table tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim())));
  const byValue = Object.fromEntries(checks.map((r) => [r[0], r]));
  check('registration: AS13335 verified against the routing data', byValue['13335']?.[2] === 'verified', JSON.stringify(checks));
  check('registration: 1.1.1.0/24 verified (originated by the claimed ASN)', byValue['1.1.1.0/24']?.[2] === 'verified');
  check('registration: 192.0.2.0/24 unrouted', byValue['192.0.2.0/24']?.[2] === 'unrouted');
  const txt = (byValue[domain]?.[3].match(/"(vantage-verify=[0-9a-f]+)"/) || [])[1];
  check('registration: the domain gets a TXT token to publish', !!txt, byValue[domain]?.[3]);
  await shot(page, '02-register-done');

  // ---- 2. the confirmation mail, through Postfix --------------------------------------------
  const mails = await waitMail(1);
  check('confirmation mail delivered to the applicant\'s Maildir', mails.length === 1);
  const text = mails.length ? mailText(mails[0]) : '';
  const link = (text.match(/(http:\/\/\S+\/register\.html\?confirm=[A-Za-z0-9_.-]+)/) || [])[1];
  check('the mail carries a confirmation link to this server', !!link && link.startsWith(fx.base), text.slice(0, 400));
  await page.goto(link);
  await page.click('#confirm-button');
  await page.waitForFunction(() => /confirmed/.test(document.getElementById('confirm-result').textContent));
  check('confirmation accepted', true);
  await shot(page, '03-confirmed');
  // The link works once.
  await page.goto(link);
  await page.click('#confirm-button');
  await page.waitForFunction(() => document.getElementById('confirm-result').textContent.length > 0);
  check('a confirmation link works only once', /already used/.test(await page.textContent('#confirm-result')));

  // ---- 3. DNS: the applicant publishes the token and checks it --------------------------------
  execFileSync('unbound-control', ['-c', fx.ub_conf, 'local_data', `${domain}. 60 IN TXT "${txt}"`]);
  await signIn(page, 'portal.html', applicantEmail, password);
  await page.waitForSelector('#app-status');
  check('the applicant sees the application queued', (await page.getAttribute('#app-status', 'data-status')) === 'queued');
  await page.click('#check-dns');
  await page.waitForFunction((d) => [...document.querySelectorAll('#app-resources-table tbody tr')]
    .some((r) => r.cells[0].textContent === d && r.cells[2].textContent === 'verified'), domain);
  check('the TXT token is found through the configured resolver', true);
  await shot(page, '04-applicant-dns-verified');

  // ---- 4. the operator approves --------------------------------------------------------------
  const { ctx: octx, page: op } = await newPage();
  await signIn(op, 'console.html', 'ops', fx.ops_password);
  await op.waitForSelector('#queue-table');
  const queue = await op.$$eval('#queue-table tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim())));
  check('the console queue lists the application', queue.length === 1 && queue[0][3] === 'Applicant Networks B.V.' && queue[0][2] === 'queued', JSON.stringify(queue));
  await op.click('#queue-table tbody tr th button');
  await op.waitForSelector('#application-status');
  const res = await op.$$eval('#application-resources-table tbody tr', (rows) => rows.map((r) => [r.cells[0].textContent, r.cells[2].textContent]));
  check('the console shows every claim verified or unrouted', res.length === 4 && res.every(([, v]) => v === 'verified' || v === 'unrouted'), JSON.stringify(res));
  await shot(op, '05-console-application');
  await op.click('#approve');
  await op.waitForFunction(() => document.getElementById('application-status')?.dataset.status === 'approved');
  check('the operator approved', true);
  await op.click('#tab-audit');
  await op.waitForSelector('#audit-table');
  const audit = await op.$$eval('#audit-table tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim())));
  check('the audit log shows who approved', audit.some((r) => r[2] === 'ops' && r[4] === 'application.approve'), JSON.stringify(audit.slice(0, 3)));
  check('the audit chain is intact', (await op.getAttribute('#audit-chain', 'data-intact')) === 'true');
  await shot(op, '06-console-audit');
  const approvedMail = await waitMail(2);
  check('the applicant got the approval mail', approvedMail.length === 2 && /approved/.test(mailText(approvedMail[1])));

  // ---- 5. the organisation portal ------------------------------------------------------------
  await page.goto(`${fx.base}/portal.html`);
  await page.waitForSelector('#portal-who');
  check('the applicant is now an organisation user', (await page.getAttribute('#portal-who', 'data-role')) === 'org'
    && (await page.getAttribute('#portal-who', 'data-org')) === 'Applicant_Networks');
  const cookies = await actx.cookies();
  const sess = cookies.find((c) => c.name === 'vantage_session');
  check('session cookie is Secure, HttpOnly, SameSite=Strict', sess && sess.secure && sess.httpOnly && sess.sameSite === 'Strict', JSON.stringify(sess));
  await page.click('#tab-recipients');
  await page.fill('#recipient-email', 'soc-team@reports.test');
  await page.click('#recipient-add');
  await page.waitForFunction(() => [...document.querySelectorAll('#recipients-table tbody tr')].some((r) => r.cells[0].textContent === 'soc-team@reports.test'));
  const recipients = await page.$$eval('#recipients-table tbody tr', (rows) => rows.map((r) => r.cells[0].textContent));
  check('recipients: the report address and the added one', JSON.stringify(recipients) === JSON.stringify(['abuse-list@reports.test', 'soc-team@reports.test']), JSON.stringify(recipients));
  await shot(page, '07-portal-recipients');
  await page.click('#tab-pgp');
  await page.fill('#pgp-key', fs.readFileSync(fx.pgp_key_file, 'utf8'));
  await page.click('#pgp-save');
  await page.waitForFunction((fpr) => document.getElementById('pgp-status')?.textContent.includes(fpr), fx.pgp_fpr);
  check('PGP key accepted by GnuPG, fingerprint shown', true);
  await shot(page, '08-portal-pgp');
  await page.click('#tab-networks');
  await page.waitForSelector('#resources-table');
  const nets = await page.$$eval('#resources-table tbody tr', (rows) => rows.map((r) => [r.cells[0].textContent, r.cells[3].textContent]));
  check('networks: the four approved claims', nets.length === 4 && nets.every(([, a]) => a === 'approved'), JSON.stringify(nets));
  await page.click('#tab-keys');
  await page.fill('#key-label', 'call-api test');
  await page.click('#key-issue');
  await page.waitForSelector('#key-config');
  const cfg = await page.textContent('#key-config');
  const key = await page.textContent('#key-value');
  await shot(page, '09-portal-key-issued');
  await page.click('#tab-stats');
  await page.waitForSelector('#org-types-table, #org-types-h');
  await shot(page, '10-portal-statistics');
  await page.click('#tab-remediation');
  await page.waitForSelector('#remediation-asof');
  await shot(page, '11-portal-remediation');

  // ---- 6. the key with a call-api.py style client ---------------------------------------------
  fs.writeFileSync(path.join(fx.home, '.shadowserver.api'), cfg, { mode: 0o600 });
  const run = (method, body) => execFileSync('python3', [fx.client, method, body], { env: { ...process.env, HOME: fx.home }, encoding: 'utf8', timeout: 60000 });
  const pong = JSON.parse(run('test/ping', '{}'));
  check('call-api client: test/ping', typeof pong.pong === 'string', JSON.stringify(pong));
  const info = JSON.parse(run('key/info', '{}'));
  check('call-api client: key/info names the organisation and the key', info[0]?.apikey === key && info[0]?.user === 'Applicant_Networks', JSON.stringify(info));
  const rem = JSON.parse(run('remediation/stats', '{"group": "type"}'));
  check('call-api client: remediation/stats answers', Array.isArray(rem.rows), JSON.stringify(rem));

  // ---- 7. sign-out ends the session -----------------------------------------------------------
  await page.click('#sign-out');
  await page.waitForSelector('#signin-form');
  check('signed out', true);
  await actx.close();
  await octx.close();
} catch (e) {
  check(`no exception (${e.message})`, false, e.stack);
} finally {
  check('no page errors', pageErrors.length === 0, pageErrors.join('\n'));
  check('no request left this machine', nonLocal.length === 0, nonLocal.join(' '));
  await browser.close();
}
console.log(`portal browser test: ${passed} passed, ${failed} failed`);
for (const s of shots) console.log(`screenshot: ${s}`);
process.exit(failed ? 1 : 0);
