// Builds the dashboard's static assets into web/dist/ (run at set-up time by
// scripts/install-deps.sh, or by hand: `cd web && npm ci && node build.mjs`).
//
// - app.js / app.css: one minified bundle (esbuild) shared by every page.
// - index.html, map.html, series.html, remediation.html, org.html, and the portal's
//   portal.html, register.html, console.html: the pages, from one template so the header,
//   navigation and live regions are identical everywhere.
// - world.json: the world map, projected here once (d3-geo, Equal Earth) into SVG path strings
//   keyed by ISO 3166-1 alpha-2 code, so the browser ships neither TopoJSON nor a projection.
//   Countries too small for the 1:110m outlines are taken from the 1:50m set as dots at their
//   centroid, so every country that appears in the data can be clicked.
import * as esbuild from 'esbuild';
import { geoEqualEarth, geoPath, geoCentroid } from 'd3-geo';
import { feature } from 'topojson-client';
import countries from 'i18n-iso-countries';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
// `node build.mjs --out DIR` builds elsewhere (the browser test builds its own copy, so it
// always tests the current sources without touching web/dist).
const outArg = process.argv.indexOf('--out');
const dist = outArg > 0 && process.argv[outArg + 1] ? path.resolve(process.argv[outArg + 1]) : path.join(here, 'dist');
const tmp = `${dist}.tmp`;

countries.registerLocale(require('i18n-iso-countries/langs/en.json'));

function buildWorld() {
  const width = 960, height = 470;
  const load = (f) => JSON.parse(fs.readFileSync(require.resolve(`world-atlas/${f}`), 'utf8'));
  const coarse = feature(load('countries-110m.json'), load('countries-110m.json').objects.countries);
  const fine = feature(load('countries-50m.json'), load('countries-50m.json').objects.countries);
  const projection = geoEqualEarth().fitSize([width, height], { type: 'Sphere' });
  const pathGen = geoPath(projection).digits(1);
  const out = { width, height, sphere: pathGen({ type: 'Sphere' }), countries: {} };
  const code = (f) => (f.id ? countries.numericToAlpha2(f.id) : undefined);
  for (const f of coarse.features) {
    const cc = code(f);
    const d = pathGen(f);
    // Features without an ISO code (e.g. Kosovo, N. Cyprus) are drawn as plain land.
    if (!cc) { out.land = (out.land || '') + (d || ''); continue; }
    if (!d) continue;
    const prev = out.countries[cc];
    out.countries[cc] = { name: countries.getName(cc, 'en') || f.properties.name, d: prev ? prev.d + d : d };
  }
  for (const f of fine.features) {
    const cc = code(f);
    if (!cc || out.countries[cc]) continue;
    const p = projection(geoCentroid(f));
    if (!p) continue;
    out.countries[cc] = { name: countries.getName(cc, 'en') || f.properties.name,
                          dot: [Math.round(p[0] * 10) / 10, Math.round(p[1] * 10) / 10] };
  }
  return out;
}

const PUBLIC_FOOTER = 'Aggregate counts only, never IP addresses. Map outlines: Natural Earth (public domain).';
const PORTAL_FOOTER = 'Signed-in pages: your organisation\'s own data only. Sessions are Secure, HttpOnly cookies; every change is recorded in the audit log.';
const pages = [
  { file: 'index.html', page: 'overview', title: 'Overview' },
  { file: 'map.html', page: 'map', title: 'Map' },
  { file: 'series.html', page: 'series', title: 'Time series' },
  { file: 'remediation.html', page: 'remediation', title: 'Remediation' },
  { file: 'org.html', page: 'org', title: 'Organisation' },
  { file: 'portal.html', page: 'portal', title: 'Portal', footer: PORTAL_FOOTER },
  { file: 'register.html', page: 'register', title: 'Register', footer: PORTAL_FOOTER },
  { file: 'console.html', page: 'console', title: 'Operator console', footer: PORTAL_FOOTER },
];

function html({ page, title, footer = PUBLIC_FOOTER }) {
  const nav = pages.map((p) =>
    `<li><a href="${p.file}" data-nav="${p.page}"${p.page === page ? ' aria-current="page"' : ''}>${p.title}</a></li>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Vantage dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="app.css">
</head>
<body data-page="${page}">
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand" id="site">Vantage</span>
  <nav aria-label="Dashboard pages"><ul>${nav}</ul></nav>
</header>
<main id="main" tabindex="-1">
  <h1>${title}</h1>
  <div id="status" class="status" role="status" aria-live="polite"></div>
  <div id="error" class="error" role="alert" aria-live="assertive" hidden></div>
  <div id="content"><noscript>This dashboard needs JavaScript.</noscript></div>
</main>
<footer>${footer}</footer>
<script type="module" src="app.js"></script>
</body>
</html>
`;
}

fs.rmSync(tmp, { recursive: true, force: true });
fs.mkdirSync(tmp, { recursive: true });
const result = await esbuild.build({
  entryPoints: { app: path.join(here, 'src/app.js') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  outdir: tmp,
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const p of pages) fs.writeFileSync(path.join(tmp, p.file), html(p));
fs.writeFileSync(path.join(tmp, 'world.json'), JSON.stringify(buildWorld()));
// Replace dist/ in one step so a server never serves a half-written tree.
fs.rmSync(dist, { recursive: true, force: true });
fs.renameSync(tmp, dist);
let total = 0;
for (const f of fs.readdirSync(dist).sort()) {
  const n = fs.statSync(path.join(dist, f)).size;
  total += n;
  console.log(`  dist/${f}  ${(n / 1024).toFixed(1)} KiB`);
}
console.log(`web build: ${(total / 1024).toFixed(1)} KiB in ${fs.readdirSync(dist).length} files` +
            ` (${Object.keys(result.metafile.inputs).length} modules bundled)`);
