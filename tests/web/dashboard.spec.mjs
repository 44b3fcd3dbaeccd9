// Dashboard end to end in headless Chromium (Debian `chromium`, driven by playwright-core)
// against a real `vantage serve` loaded by dashboard_test.sh. Every expected number is
// computed here from the store itself (sqlite3 on events.sqlite / reports.sqlite), never from
// the API the pages use.
//
// Usage: node dashboard.spec.mjs FIXTURE.json
//   fixture: {base, web, events_db, reports_db, min_count, from, to, shots,
//             orgs: [{id, short, key, secret}, {…}]}
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const fx = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const require = createRequire(path.join(fx.web, 'package.json'));
const { chromium } = require('playwright-core');

let passed = 0;
let failed = 0;
const failures = [];
function check(name, ok, detail = '') {
  if (ok) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    failures.push(name);
    console.log(`FAIL ${name}${detail ? `\n     ${detail}` : ''}`);
  }
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
function checkSame(name, got, want) {
  check(name, same(got, want), `got  ${JSON.stringify(got).slice(0, 600)}\n     want ${JSON.stringify(want).slice(0, 600)}`);
}

// ---- expected numbers, straight from the store -------------------------------------------
function sql(db, q) {
  const out = execFileSync('sqlite3', ['-readonly', '-json', db, q], { encoding: 'utf8', timeout: 20000 });
  return out.trim() ? JSON.parse(out) : [];
}
const dayNo = (s) => Math.round(Date.parse(`${s}T00:00:00Z`) / 86400000);
const quote = (s) => `'${String(s).replaceAll("'", "''")}'`;
const SEVERITY = ['info', 'low', 'medium', 'high', 'critical'];

// Public statistics: the `stats` rollup, rows below min_count withheld.
function pub({ group, from = fx.from, to = fx.to, type, geo, region }) {
  const col = { day: "date(r.day * 86400, 'unixepoch')", type: 't.name', geo: 'r.geo', region: 'r.region', severity: 'r.severity' }[group];
  let where = `r.day BETWEEN ${dayNo(from)} AND ${dayNo(to)}`;
  if (type) where += ` AND t.name = ${quote(type)}`;
  if (geo) where += ` AND r.geo = ${quote(geo)}`;
  if (region) where += ` AND r.region = ${quote(region)}`;
  const rows = sql(fx.events_db, `SELECT ${col} AS k, sum(r.events) AS n FROM stats r JOIN types t ON t.id = r.type_id
    WHERE ${where} GROUP BY k HAVING n >= ${fx.min_count} ORDER BY k`);
  return rows.map((r) => [group === 'severity' ? SEVERITY[r.k] : r.k, r.n]);
}
function pubDayType({ from = fx.from, to = fx.to }) {
  return sql(fx.events_db, `SELECT date(r.day * 86400, 'unixepoch') AS d, t.name AS k, sum(r.events) AS n FROM stats r
    JOIN types t ON t.id = r.type_id WHERE r.day BETWEEN ${dayNo(from)} AND ${dayNo(to)} GROUP BY d, k
    HAVING n >= ${fx.min_count} ORDER BY d, k`).map((r) => [r.d, r.k, r.n]);
}
// An organisation's own view: its counters (org_stats) and its spool, never thresholded.
function orgTypes(org) {
  return sql(fx.events_db, `SELECT t.name AS k, sum(r.events) AS n FROM org_stats r JOIN types t ON t.id = r.type_id
    WHERE r.org_id = ${org.id} AND r.day BETWEEN ${dayNo(fx.from)} AND ${dayNo(fx.to)} GROUP BY k ORDER BY k`).map((r) => [r.k, r.n]);
}
function orgGeo(org) {
  // The spool's truth: each event's routes (a JSON array of org_id * 4 + filter).
  return sql(fx.events_db, `SELECT e.geo AS k, count(DISTINCT e.id) AS n FROM events e, json_each(e.routes) j
    WHERE j.value / 4 = ${org.id} AND e.day BETWEEN ${dayNo(fx.from)} AND ${dayNo(fx.to)} GROUP BY k ORDER BY k`).map((r) => [r.k, r.n]);
}
function orgReports(org) {
  return fx.orgs.find((o) => o.id === org.id).reports.slice().sort();
}

const sum = (rows) => rows.reduce((a, r) => a + r[r.length - 1], 0);
const num = (s) => Number(String(s).replaceAll(',', ''));
// Binary order, as SQL's ORDER BY sorts text.
const byKey = (rows) => [...rows].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0));

// ---- page helpers ---------------------------------------------------------------------------
async function settled(page, prev = '') {
  await page.waitForFunction((p) => document.body.dataset.rendered && document.body.dataset.rendered !== p &&
    !document.body.hasAttribute('data-loading'), prev, { timeout: 20000 });
}
const rendered = (page) => page.evaluate(() => document.body.dataset.rendered || '');
async function table(page, id) {
  return page.$eval(`#${id}`, (t) => [...(t.tBodies[0]?.rows || [])].map((r) => [...r.cells].map((c) => c.textContent.trim())));
}
async function exportCsv(page, id) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.click(`[data-export="${id}"]`)]);
  return { name: dl.suggestedFilename(), text: fs.readFileSync(await dl.path(), 'utf8') };
}
// The table as displayed, written as CSV the way a reader would copy it (numbers without the
// thousands separators); the export must be exactly this.
async function tableAsCsv(page, id) {
  return page.$eval(`#${id}`, (t) => {
    const f = (s) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
    const cell = (c) => (c.classList.contains('num') ? c.textContent.trim().replaceAll(',', '') : c.textContent.trim());
    const lines = [[...t.tHead.rows[0].cells].map((c) => f(c.textContent.trim())).join(',')];
    for (const r of t.tBodies[0].rows) lines.push([...r.cells].map((c) => f(cell(c))).join(','));
    return `${lines.join('\r\n')}\r\n`;
  });
}
async function a11y(page, where) {
  const problems = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) out.push(`unlabelled ${el.tagName} ${el.id || el.name}`);
    }
    for (const t of document.querySelectorAll('table')) if (!t.caption || !t.caption.textContent.trim()) out.push(`table without caption ${t.id}`);
    if (!document.querySelector('[aria-live]')) out.push('no aria-live region');
    return out;
  });
  checkSame(`${where}: every input labelled, every table captioned, live region present`, problems, []);
}
async function shot(page, name) {
  fs.mkdirSync(fx.shots, { recursive: true });
  await page.screenshot({ path: path.join(fx.shots, `${name}.png`), fullPage: true });
}

// ---- the run --------------------------------------------------------------------------------
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'vantage-dash-profile-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
  acceptDownloads: true,
});
const apiBodies = [];
const pageErrors = [];
const nonLocal = [];
try {
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(20000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) && !['data:', 'blob:'].includes(u.protocol)) nonLocal.push(r.url());
  });
  page.on('response', async (r) => {
    if (r.url().includes('/dash/api/')) {
      try {
        apiBodies.push(await r.text());
      } catch {
        // A body the page already discarded (navigation) cannot be read; the rest suffice.
      }
    }
  });
  const q = `from=${fx.from}&to=${fx.to}`;

  // Overview: totals per day, top report types, severity split; threshold note.
  await page.goto(`${fx.base}/index.html?${q}`);
  await settled(page);
  const daily = pub({ group: 'day' });
  const total = Number(await page.getAttribute('#total', 'data-value'));
  check('overview: total events equals the store (rows below min_count withheld)', total === sum(daily) && total > 0,
    `page ${total}, store ${sum(daily)}`);
  checkSame('overview: events per day table equals the store', (await table(page, 'daily-table')).map((r) => [r[0], num(r[1])]), daily);
  const types = pub({ group: 'type' });
  const shownTypes = (await table(page, 'types-table')).map((r) => [r[0], num(r[2])]);
  const wantTop = [...types].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
  checkSame('overview: top report types equal the store', shownTypes, wantTop);
  // Tags: the tag rollup, untagged events ('' tag) left out of the comparison.
  const tagsWant = sql(fx.events_db, `SELECT tag AS k, sum(events) AS n FROM stats_tags WHERE day BETWEEN ${dayNo(fx.from)} AND ${dayNo(fx.to)}
    AND tag != '' GROUP BY tag HAVING n >= ${fx.min_count}`).map((r) => [r.k, r.n]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const tagsShown = (await table(page, 'tags-table')).filter((r) => r[0] !== '(no tag)').map((r) => [r[0], num(r[1])]);
  check('overview: top tags are shown', tagsShown.length > 0 && tagsWant.length > 0);
  checkSame('overview: top tags equal the store', tagsShown, tagsWant.slice(0, tagsShown.length));
  checkSame('overview: severity split equals the store', byKey((await table(page, 'severity-table')).map((r) => [r[0], num(r[1])])),
    byKey(pub({ group: 'severity' })));
  const note = await page.textContent('#threshold');
  check('overview: threshold note names min_count', note.includes(`below ${fx.min_count} `), note);
  const dailyCsv = await exportCsv(page, 'daily-table');
  check('overview: CSV export equals the daily table', dailyCsv.text === (await tableAsCsv(page, 'daily-table')), dailyCsv.text.slice(0, 200));
  await a11y(page, 'overview');
  await shot(page, 'overview');
  // A severity filter: the total follows, the URL carries it, and the tag picker is disabled.
  let prev = await rendered(page);
  await page.check('#f-severity input[value="critical"]');
  await settled(page, prev);
  const critical = sql(fx.events_db, `SELECT date(day * 86400, 'unixepoch') AS k, sum(events) AS n FROM stats WHERE severity = 4
    AND day BETWEEN ${dayNo(fx.from)} AND ${dayNo(fx.to)} GROUP BY k HAVING n >= ${fx.min_count}`).map((r) => [r.k, r.n]);
  check('overview: severity filter in the URL', new URL(page.url()).searchParams.get('severity') === 'critical', page.url());
  check('overview: critical-only total equals the store', Number(await page.getAttribute('#total', 'data-value')) === sum(critical),
    `page ${await page.getAttribute('#total', 'data-value')}, store ${sum(critical)}`);
  check('overview: the tag picker is disabled while a severity is chosen', await page.$eval('#f-tag', (e) => e.disabled));
  // Without a query the page shows the 30 days ending on the newest day: all of the data here.
  await page.goto(`${fx.base}/`);
  await settled(page);
  check('overview: the default view (no query) shows the same total', Number(await page.getAttribute('#total', 'data-value')) === total);

  // Map: choropleth per country; a type filter changes the map and the URL; clicking a
  // country shows its regions and time series.
  await page.goto(`${fx.base}/map.html?${q}`);
  await settled(page);
  const geos = pub({ group: 'geo' });
  const mapCounts = await page.$$eval('#map-svg [data-geo]', (els) => Object.fromEntries(els.map((e) => [e.dataset.geo, Number(e.dataset.count)])));
  const onMap = geos.filter(([g]) => g in mapCounts);
  check('map: most countries of the data have an outline', onMap.length >= Math.min(geos.length, 3) && onMap.length >= geos.length * 0.8,
    `${onMap.length} of ${geos.length}`);
  checkSame('map: every country\'s colour value equals the store', onMap.map(([g]) => [g, mapCounts[g]]), onMap);
  const withheldGeos = sql(fx.events_db, `SELECT r.geo AS g, sum(r.events) AS n FROM stats r WHERE r.day BETWEEN ${dayNo(fx.from)} AND ${dayNo(fx.to)}
    GROUP BY g HAVING n < ${fx.min_count}`).filter((r) => r.g in mapCounts);
  check('map: countries below min_count are shown as withheld (0)', withheldGeos.every((r) => mapCounts[r.g] === 0),
    JSON.stringify(withheldGeos.filter((r) => mapCounts[r.g] !== 0)));
  checkSame('map: countries table equals the store', byKey((await table(page, 'countries-table')).map((r) => [r[0].match(/\(([A-Z0-9]{2})\)$/)?.[1] ?? r[0], num(r[1])])), byKey(geos));
  const mapTotalBefore = await page.getAttribute('#map', 'data-total');

  // The filter: the report type whose per-country split differs most from the whole.
  const typeNames = types.map((t) => t[0]);
  const pick = typeNames.find((t) => pub({ group: 'geo', type: t }).length >= 2) || typeNames[0];
  prev = await rendered(page);
  await page.selectOption('#f-type', [pick]);
  await settled(page, prev);
  check('map: type filter is in the URL', new URL(page.url()).searchParams.get('type') === pick, page.url());
  const geosT = pub({ group: 'geo', type: pick });
  const mapCountsT = await page.$$eval('#map-svg [data-geo]', (els) => Object.fromEntries(els.map((e) => [e.dataset.geo, Number(e.dataset.count)])));
  checkSame(`map: after filtering on ${pick}, every country equals the store`, geosT.filter(([g]) => g in mapCountsT).map(([g]) => [g, mapCountsT[g]]),
    geosT.filter(([g]) => g in mapCountsT));
  check('map: the map changed with the filter', (await page.getAttribute('#map', 'data-total')) !== mapTotalBefore || types.length === 1);
  const cc = [...geosT].filter(([g]) => g in mapCountsT).sort((a, b) => b[1] - a[1])[0]?.[0];
  check('map: a clickable country exists for the filter', Boolean(cc));
  if (cc) {
    prev = await rendered(page);
    await page.click(`#map-svg [data-geo="${cc}"]`);
    await settled(page, prev);
    const url = new URL(page.url());
    check('map: clicking a country puts it in the URL (and keeps the filter)', url.searchParams.get('geo') === cc && url.searchParams.get('type') === pick, page.url());
    const ccDaily = pub({ group: 'day', type: pick, geo: cc });
    check(`map: ${cc}'s time series equals the store`, Number(await page.getAttribute('#country-daily-chart', 'data-total')) === sum(ccDaily),
      `chart ${await page.getAttribute('#country-daily-chart', 'data-total')}, store ${sum(ccDaily)}`);
    checkSame(`map: ${cc}'s daily table equals the store`, (await table(page, 'country-daily-table')).map((r) => [r[0], num(r[1])]), ccDaily);
    const regions = pub({ group: 'region', type: pick, geo: cc });
    const shownRegions = (await page.$('#regions-table')) ? (await table(page, 'regions-table')).map((r) => [r[0] === '(unknown)' ? '' : r[0], num(r[1])]) : [];
    checkSame(`map: ${cc}'s regions equal the store`, byKey(shownRegions), byKey(regions));
    const regionsCsv = regions.length ? await exportCsv(page, 'regions-table') : null;
    if (regionsCsv) check('map: regions CSV export equals the table', regionsCsv.text === (await tableAsCsv(page, 'regions-table')));
    // The region filter: a control once a country is chosen, listing its regions.
    const region = regions.filter(([r]) => r).sort((a, b) => b[1] - a[1])[0]?.[0];
    check('map: the region control appears with the country', Boolean(await page.$('#f-region')));
    if (region) {
      await page.waitForFunction((r) => [...document.querySelectorAll('#f-region option')].some((o) => o.value === r), region);
      prev = await rendered(page);
      await page.selectOption('#f-region', region);
      await settled(page, prev);
      check('map: the region is in the URL', new URL(page.url()).searchParams.get('region') === region, page.url());
      const rDaily = pub({ group: 'day', type: pick, geo: cc, region });
      check(`map: ${cc}/${region}'s time series equals the store`, Number(await page.getAttribute('#country-daily-chart', 'data-total')) === sum(rDaily),
        `chart ${await page.getAttribute('#country-daily-chart', 'data-total')}, store ${sum(rDaily)}`);
      prev = await rendered(page);
      await page.goBack();
      await settled(page, prev);
    }
  }
  await a11y(page, 'map');
  await shot(page, 'map');

  // Back and forward restore the views from the URL.
  prev = await rendered(page);
  await page.goBack();
  await settled(page, prev);
  check('map: Back returns to the unselected view', !new URL(page.url()).searchParams.get('geo') && !(await page.$('#regions-table')));

  // Time series: stacked by report type; export; the range picker.
  await page.goto(`${fx.base}/series.html?${q}`);
  await settled(page);
  const cells = pubDayType({});
  const chartTotal = Number(await page.getAttribute('#series-chart', 'data-total'));
  check('series: stacked chart total equals the store', chartTotal === sum(cells), `chart ${chartTotal}, store ${sum(cells)}`);
  const st = await table(page, 'series-table');
  check('series: table Total column adds up to the chart', st.reduce((a, r) => a + num(r[r.length - 1]), 0) === chartTotal);
  const perDay = new Map();
  for (const [d, , n] of cells) perDay.set(d, (perDay.get(d) || 0) + n);
  check('series: every day\'s total equals the store', st.every((r) => num(r[r.length - 1]) === (perDay.get(r[0]) || 0)));
  const seriesCsv = await exportCsv(page, 'series-table');
  check('series: CSV export equals the table shown', seriesCsv.text === (await tableAsCsv(page, 'series-table')), seriesCsv.text.slice(0, 300));
  check('series: CSV has one line per day plus the header', seriesCsv.text.trim().split('\r\n').length === st.length + 1);
  prev = await rendered(page);
  await page.click('.presets button[data-days="7"]');
  await settled(page, prev);
  const from7 = new URL(page.url()).searchParams.get('from');
  check('series: the 7-day preset sets the range in the URL and redraws 7 days',
    Boolean(from7) && (await page.getAttribute('#series-chart', 'data-days')) === '7', `${page.url()} days=${await page.getAttribute('#series-chart', 'data-days')}`);
  const cells7 = pubDayType({ from: from7, to: fx.to });
  check('series: the 7-day chart equals the store', Number(await page.getAttribute('#series-chart', 'data-total')) === sum(cells7));
  // A tag filter: the chart follows the tag rollup, and severities are disabled.
  const tag = tagsWant.find(([t]) => t !== 'synthetic')?.[0] || tagsWant[0][0];
  await page.goto(`${fx.base}/series.html?${q}`);
  await settled(page);
  prev = await rendered(page);
  await page.selectOption('#f-tag', tag);
  await settled(page, prev);
  const tagCells = sql(fx.events_db, `SELECT date(r.day * 86400, 'unixepoch') AS d, t.name AS k, sum(r.events) AS n FROM stats_tags r
    JOIN types t ON t.id = r.type_id WHERE r.tag = ${quote(tag)} AND r.day BETWEEN ${dayNo(fx.from)} AND ${dayNo(fx.to)}
    GROUP BY d, k HAVING n >= ${fx.min_count}`);
  check(`series: tag filter (${tag}) in the URL`, new URL(page.url()).searchParams.get('tag') === tag, page.url());
  check(`series: the ${tag} chart equals the store`, Number(await page.getAttribute('#series-chart', 'data-total')) === tagCells.reduce((a, r) => a + r.n, 0),
    `chart ${await page.getAttribute('#series-chart', 'data-total')}, store ${tagCells.reduce((a, r) => a + r.n, 0)}`);
  check('series: severities are disabled while a tag is chosen', await page.$eval('#f-severity', (e) => e.disabled));
  await page.goto(`${fx.base}/series.html?from=2020-01-01&to=${fx.to}`);
  await page.waitForFunction(() => !document.getElementById('error').hidden);
  check('series: a range over two years is refused with a message', (await page.textContent('#error')).includes('at most'));
  await page.goto(`${fx.base}/series.html?${q}`);
  await settled(page);
  await a11y(page, 'series');
  await shot(page, 'series');

  // Organisation view: each organisation sees its own numbers and reports, never the other's.
  const [orgA, orgB] = fx.orgs;
  await page.goto(`${fx.base}/org.html?${q}`);
  await page.waitForSelector('#login');
  await page.fill('#org-key', orgA.key);
  await page.fill('#org-secret', 'not-the-secret');
  await page.click('#login button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0);
  check('org: a wrong secret is refused with a message', !(await page.$('#org-who')), await page.textContent('#login-error'));
  for (const [me, other] of [[orgA, orgB], [orgB, orgA]]) {
    if (await page.$('#sign-out')) {
      await page.click('#sign-out');
      await page.waitForSelector('#login');
    }
    prev = await rendered(page);
    await page.fill('#org-key', me.key);
    await page.fill('#org-secret', me.secret);
    await page.click('#login button[type=submit]');
    await settled(page, prev);
    check(`org ${me.short}: signed in as itself`, (await page.getAttribute('#org-who', 'data-org')) === me.short);
    check(`org ${me.short}: key and secret are not in the URL`, !page.url().includes(me.key) && !page.url().includes(me.secret));
    const want = orgTypes(me);
    checkSame(`org ${me.short}: events per report type equal its own counters`,
      byKey((await table(page, 'org-types-table')).map((r) => [r[0], num(r[2])])), want);
    check(`org ${me.short}: total equals its own counters`, Number(await page.getAttribute('#total', 'data-value')) === sum(want));
    checkSame(`org ${me.short}: countries equal its own events`, byKey((await table(page, 'org-geo-table')).map((r) => [r[0].match(/\(([A-Z0-9]{2})\)$/)?.[1] ?? '', num(r[1])])),
      byKey(orgGeo(me)));
    const orgMap = await page.$$eval('#map-svg [data-geo]', (els) => Object.fromEntries(els.map((e) => [e.dataset.geo, Number(e.dataset.count)])));
    checkSame(`org ${me.short}: its map equals its own events`, byKey(Object.entries(orgMap).filter(([, n]) => n > 0)),
      byKey(orgGeo(me).filter(([g]) => g in orgMap)));
    const files = (await page.$('#org-reports-table')) ? (await table(page, 'org-reports-table')).map((r) => r[0]).sort() : [];
    checkSame(`org ${me.short}: reports list equals its own built reports`, files, orgReports(me));
    const links = await page.$$eval('#org-reports-table a', (as) => as.map((a) => a.getAttribute('href')));
    check(`org ${me.short}: every report has a download link`, links.length === files.length && links.every((l) => /^\/dl\/\S+/.test(l)), JSON.stringify(links.slice(0, 3)));
    if (links.length) {
      const r = await page.request.get(`${fx.base}${links[0]}`);
      const body = await r.text();
      check(`org ${me.short}: its first report downloads`, r.ok() && body.length > 0, `HTTP ${r.status()}`);
    }
    const subs = (await page.$('#org-subscriptions-table')) ? (await table(page, 'org-subscriptions-table')).map((r) => r[0]) : [];
    checkSame(`org ${me.short}: subscriptions list exactly its own`, subs, [`misp-${me.short}`]);
    const text = await page.textContent('main');
    const leaks = [other.short, ...orgReports(other)].filter((s) => text.includes(s));
    checkSame(`org ${me.short}: nothing of ${other.short} appears on the page`, leaks, []);
    const typesCsv = await exportCsv(page, 'org-types-table');
    check(`org ${me.short}: CSV export equals the table`, typesCsv.text === (await tableAsCsv(page, 'org-types-table')));
    if (me === orgA) {
      await a11y(page, 'org');
      await shot(page, 'org');
    }
  }
  // Without Web Crypto (plain HTTP from another host) the sign-in is disabled with a TLS hint.
  const insecure = await context.newPage();
  await insecure.addInitScript(() => Object.defineProperty(window.crypto, 'subtle', { value: undefined }));
  await insecure.goto(`${fx.base}/org.html`);
  await insecure.waitForSelector('#login');
  const tlsMsg = await insecure.textContent('#login-error');
  check('org: without Web Crypto the page asks for TLS and disables sign-in',
    tlsMsg.includes('TLS') && (await insecure.$eval('#org-key', (e) => e.disabled)), tlsMsg);
  await insecure.close();
  const stored = await page.evaluate(() => Object.keys(sessionStorage));
  check('org: credentials are kept in sessionStorage only', stored.length === 1 && (await page.evaluate(() => Object.keys(localStorage).length)) === 0);

  // Phone width: one column, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [name, url] of [['phone-overview', 'index.html'], ['phone-map', 'map.html']]) {
    await page.goto(`${fx.base}/${url}?${q}`);
    await settled(page);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    check(`${name}: no horizontal overflow at 390px (${width}px)`, width <= 390);
    await shot(page, name);
  }

  // Privacy: no stored IP address ever appears in an API answer.
  const ips = sql(fx.events_db, 'SELECT DISTINCT ip FROM events ORDER BY random() LIMIT 300').map((r) => r.ip).filter(Boolean);
  const all = apiBodies.join('\n');
  const leaked = ips.filter((ip) => all.includes(`"${ip}"`));
  check(`privacy: none of ${ips.length} stored IP addresses in ${apiBodies.length} API answers`, ips.length > 0 && apiBodies.length > 10 && leaked.length === 0,
    leaked.slice(0, 5).join(' '));
  checkSame('no requests left the loopback', nonLocal, []);
  checkSame('no script errors in the pages', pageErrors, []);
} catch (e) {
  failed++;
  console.log(`FAIL unexpected: ${e.stack || e}`);
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
if (failures.length) console.log(`failed: ${failures.join('; ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
