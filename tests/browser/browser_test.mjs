// keepdav's browser page (issue 14) in headless Chromium, driven by puppeteer-core. Run by
// browser_test.sh, which makes the served tree, the two users and the server; this program
// drives the browser, checks what the page shows against the contract (webdav/assets/README.md:
// its ids, classes, attributes and events only) and checks every action on the server's disk.
// Prints "ok N - ..." / "not ok N - ..." lines and exits 1 when any check failed.
//
// node browser_test.mjs --url=URL --root=DIR --tmp=DIR --artifacts=DIR --access-log=FILE
//   --chromium=PATH --chromium-pid-file=FILE --writer=USER:PASS --reader=USER:PASS
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)=(.*)$/s.exec(a);
  if (!m) throw new Error(`bad argument ${a}`);
  return [m[1], m[2]];
}));
for (const need of ['url', 'root', 'tmp', 'artifacts', 'writer', 'reader']) {
  if (!args[need]) throw new Error(`missing --${need}=`);
}
const baseUrl = new URL(args.url);
const origin = baseUrl.origin;
const root = args.root;
const account = (s) => {
  const i = s.indexOf(':');
  return { username: s.slice(0, i), password: s.slice(i + 1) };
};
const writer = account(args.writer);
const reader = account(args.reader);
// Deadlines grow with KEEPDAV_TEST_TIME_FACTOR (a whole number 1..100, else 1), as in
// tests/time_factor.h.
const factor = (() => {
  const v = process.env.KEEPDAV_TEST_TIME_FACTOR;
  if (!v || !/^\d+$/.test(v) || +v < 1 || +v > 100) return 1;
  return +v;
})();
const T = (ms) => ms * factor;
const WAIT = T(15000);
const TZ = 'Asia/Kolkata'; // +05:30: local times differ from UTC by a non-whole hour

// ---- TAP-like output ----
let checks = 0;
let failures = 0;
function check(what, ok, detail) {
  checks += 1;
  if (ok) {
    console.log(`ok ${checks} - ${what}`);
  } else {
    failures += 1;
    console.log(`not ok ${checks} - ${what}`);
    if (detail !== undefined) {
      const text = typeof detail === 'string' ? detail : JSON.stringify(detail);
      for (const line of text.split('\n')) console.log(`#   ${line}`);
    }
  }
  return !!ok;
}
const note = (s) => console.log(`# ${s}`);
const same = (what, seen, expected) =>
  check(what, JSON.stringify(seen) === JSON.stringify(expected),
    `expected ${JSON.stringify(expected)}\nseen     ${JSON.stringify(seen)}`);
// Set by the first page: whether browser.js ran. When it did not, the steps that need it fail
// at once instead of each waiting out its deadlines.
let scriptRan = true;
async function step(name, fn, { needsScript = false } = {}) {
  note(`---- ${name}`);
  if (needsScript && !scriptRan) {
    check(`${name}: not tried, browser.js did not run on the first page`, false);
    return;
  }
  try {
    await fn();
  } catch (e) {
    check(`${name}: ran to the end`, false, String(e && e.stack ? e.stack : e).split('\n').slice(0, 4).join('\n'));
  }
}

// ---- the server's disk ----
const onDisk = (rel) => path.join(root, rel);
const exists = (rel) => fs.existsSync(onDisk(rel));
const isDir = (rel) => exists(rel) && fs.statSync(onDisk(rel)).isDirectory();
const isFile = (rel) => exists(rel) && fs.statSync(onDisk(rel)).isFile();
const readDisk = (rel) => fs.readFileSync(onDisk(rel));
// A folder's members as the server should list them: folders first, then by name with ASCII
// letters compared without case (bytes otherwise). Names are Buffers (one is not UTF-8).
function diskListing(relFolder) {
  const dir = Buffer.from(path.join(root, relFolder) + '/');
  const fold = (b) => Buffer.from(b.map((c) => (c >= 0x41 && c <= 0x5a ? c + 32 : c)));
  return fs.readdirSync(dir, { encoding: 'buffer' }).map((name) => {
    const st = fs.statSync(Buffer.concat([dir, name]));
    return { bytes: name, name: name.toString('utf8'), dir: st.isDirectory(), size: st.isDirectory() ? 0 : st.size,
      mtime: Math.floor(st.mtimeMs / 1000), full: Buffer.concat([dir, name]) };
  }).sort((a, b) => (a.dir !== b.dir ? (a.dir ? -1 : 1) : Buffer.compare(fold(a.bytes), fold(b.bytes))));
}
// The URL path's bytes (percent-decoded); what a data-href must decode to.
function pctDecode(s) {
  const out = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(...Buffer.from(s[i], 'utf8'));
    }
  }
  return Buffer.from(out);
}
// Percent-encoded: no space, #, ?, quotes, <, >, non-ASCII or a % that starts no escape.
const wellEncoded = (href) => /^[A-Za-z0-9\-._~!$&()*+,;=:@/%]*$/.test(href) && !/%(?![0-9A-Fa-f]{2})/.test(href);
const sha = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const isoSeconds = (s) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
function timeText(s, timeZone) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit',
    day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(s * 1000))
    .map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}
const kindOf = (e) => (e.dir ? 'folder' : /\.png$/.test(e.name) ? 'image' : /\.txt$/.test(e.name) ? 'text' : null);

// ---- HTTP from Node (raw bytes of the page, downloads without the browser) ----
function httpGet(urlPath, who, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: baseUrl.hostname, port: baseUrl.port, path: urlPath, method: 'GET',
      headers: { Authorization: `Basic ${Buffer.from(`${who.username}:${who.password}`).toString('base64')}`, ...headers } },
    (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(WAIT, () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.end();
  });
}

// ---- the browser ----
const external = [];
const pageErrors = [];
const cspViolations = [];
function watch(page, label) {
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(`${origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:') && u !== 'about:blank') external.push(u);
  });
  page.on('pageerror', (e) => pageErrors.push(`${label}: ${String(e && e.message ? e.message : e).split('\n')[0]}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) cspViolations.push(`${label}: ${m.text()}`);
  });
}
// page.on('dialog'): each expected prompt/confirm is answered in order; anything else is
// dismissed and recorded (an XSS alert() would show here).
function dialogs(page) {
  const queue = [];
  const seen = [];
  page.on('dialog', async (d) => {
    const rec = { type: d.type(), message: d.message(), defaultValue: d.defaultValue() };
    seen.push(rec);
    const want = queue.shift();
    try {
      if (!want || want.type !== d.type()) {
        rec.unexpected = true;
        await d.dismiss();
      } else if (want.answer === false) {
        await d.dismiss();
      } else if (d.type() === 'prompt') {
        await d.accept(want.answer);
      } else {
        await d.accept();
      }
    } catch (e) {
      rec.error = String(e);
    }
  });
  return {
    expect(type, answer) { queue.push({ type, answer }); },
    seen,
    last() { return seen[seen.length - 1]; },
    unexpected() { return seen.filter((d) => d.unexpected); },
    clear() { queue.length = 0; },
  };
}
async function waitTrue(page, fn, arg, ms = WAIT) {
  try {
    await page.waitForFunction(fn, { timeout: ms, polling: 50 }, arg);
    return true;
  } catch (e) {
    if (e && e.name === 'TimeoutError') return false;
    throw e;
  }
}
// After a navigation: waits for browser.js to have made its toolbar (briefly when it never ran).
const scriptOn = (page, id) => waitTrue(page, (sel) => !!document.querySelector(sel), `#toolbar ${id}`, scriptRan ? WAIT : T(1000));
async function pollDisk(pred, ms = WAIT) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(25);
  }
  return pred();
}
// Everything the page shows of its rows.
const rowsOf = (page) => page.$$eval('#listing tbody tr.entry', (rows) => rows.map((r) => {
  const a = r.querySelector('td.name a');
  const size = r.querySelector('td.size');
  const time = r.querySelector('td.mtime time');
  const dl = r.querySelector('td.actions a.download');
  return {
    name: r.dataset.name, href: r.dataset.href, kind: r.dataset.kind, size: r.dataset.size, mtime: r.dataset.mtime,
    hidden: r.hidden, link: a ? a.getAttribute('href') : null, linkAbs: a ? a.href : null,
    text: a && a.querySelector('span') ? a.querySelector('span').textContent : null,
    // The icon: an SVG inlined in the stylesheet, drawn as the link's ::before mask by data-kind.
    icon: a ? (getComputedStyle(a, '::before').maskImage || getComputedStyle(a, '::before').webkitMaskImage || null) : null,
    sizeText: size ? size.textContent.trim() : null, sizeTitle: size ? size.getAttribute('title') : null,
    datetime: time ? time.getAttribute('datetime') : null, timeText: time ? time.textContent.trim() : null,
    actions: [...r.querySelectorAll('td.actions a, td.actions button')].map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`),
    actionsHtml: r.querySelector('td.actions') ? r.querySelector('td.actions').innerHTML.trim() : null,
    download: dl ? { href: dl.getAttribute('href'), abs: dl.href, attr: dl.hasAttribute('download') } : null,
  };
}));
const visibleNames = async (page) => (await rowsOf(page)).filter((r) => !r.hidden).map((r) => r.name);
const rowNames = async (page) => (await rowsOf(page)).map((r) => r.name);
const hasRow = (page, name) => page.evaluate((n) => [...document.querySelectorAll('#listing tbody tr.entry')].some((r) => r.dataset.name === n), name);
async function rowControl(page, name, selector) {
  const h = await page.evaluateHandle((n, s) => {
    const r = [...document.querySelectorAll('#listing tbody tr.entry')].find((x) => x.dataset.name === n);
    return r ? r.querySelector(s) : null;
  }, name, selector);
  const el = h.asElement();
  if (!el) throw new Error(`no ${selector} in the row of ${JSON.stringify(name)}`);
  return el;
}
async function clickInRow(page, name, selector) {
  const el = await rowControl(page, name, selector);
  const row = await el.evaluateHandle((e) => e.closest('tr'));
  await row.asElement().hover();
  await el.click();
}
// Fetches a URL in the page (the browser's own request, with its credentials): status, bytes.
const fetchInPage = (page, url) => page.evaluate(async (u) => {
  const r = await fetch(u);
  const b = new Uint8Array(await r.arrayBuffer());
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return { status: r.status, b64: btoa(s) };
}, url);

// The rows of a folder against its disk listing (order, attributes, cells).
async function checkListing(page, relFolder, label, { js = true, writable = true } = {}) {
  const rows = await rowsOf(page);
  const disk = diskListing(relFolder);
  same(`${label}: one tr.entry per member, folders first, then by name`, rows.map((r) => r.name), disk.map((e) => e.name));
  const folderPath = `/${relFolder.replace(/^\/+|\/+$/g, '')}/`.replace(/^\/\/$/, '/');
  const bad = [];
  for (const e of disk) {
    const r = rows.find((x) => x.name === e.name);
    if (!r) continue;
    const why = [];
    const hrefBytes = pctDecode(r.href || '');
    const wantBytes = Buffer.concat([Buffer.from(folderPath), e.bytes, Buffer.from(e.dir ? '/' : '')]);
    if (!hrefBytes.equals(wantBytes)) why.push(`data-href ${r.href} decodes to ${JSON.stringify(hrefBytes.toString('latin1'))}`);
    if (!wellEncoded(r.href || '')) why.push(`data-href ${r.href} is not percent-encoded`);
    if (r.link !== r.href) why.push(`link href ${r.link} != data-href ${r.href}`);
    if (r.text !== e.name) why.push(`link text ${JSON.stringify(r.text)}`);
    if (String(e.size) !== r.size) why.push(`data-size ${r.size} (disk ${e.size})`);
    if (String(e.mtime) !== r.mtime) why.push(`data-mtime ${r.mtime} (disk ${e.mtime})`);
    const kind = kindOf(e);
    if (kind && r.kind !== kind) why.push(`data-kind ${r.kind} (expected ${kind})`);
    if (!r.icon || !r.icon.startsWith('url("data:image/svg+xml')) why.push(`no icon for kind ${r.kind}: ${r.icon}`);
    if (e.dir) {
      if (r.sizeText !== '') why.push(`folder size cell ${JSON.stringify(r.sizeText)}`);
    } else if (r.sizeTitle !== `${e.size.toLocaleString('en-US')} bytes`) {
      why.push(`size title ${JSON.stringify(r.sizeTitle)}`);
    }
    if (r.datetime !== isoSeconds(e.mtime)) why.push(`time datetime ${r.datetime} (expected ${isoSeconds(e.mtime)})`);
    const wantTime = js ? timeText(e.mtime, TZ) : `${timeText(e.mtime, 'UTC')} UTC`;
    if (r.timeText !== wantTime) why.push(`time text ${JSON.stringify(r.timeText)} (expected ${JSON.stringify(wantTime)})`);
    if (js) {
      const want = [];
      if (!e.dir) want.push('a.download');
      if (r.kind === 'image' || r.kind === 'text') want.push('button.preview');
      if (writable) want.push('button.rename', 'button.move', 'button.delete');
      const got = r.actions.map((x) => x.split('.').slice(0, 2).join('.'));
      if (JSON.stringify([...got].sort()) !== JSON.stringify([...want].sort())) why.push(`actions ${JSON.stringify(r.actions)} (expected ${JSON.stringify(want)})`);
      if (!e.dir && !(r.download && r.download.attr && r.download.href === r.href)) why.push(`a.download ${JSON.stringify(r.download)}`);
    } else if (r.actionsHtml !== '') {
      why.push(`td.actions not empty without JavaScript: ${r.actionsHtml.slice(0, 80)}`);
    }
    if (why.length) bad.push(`${JSON.stringify(e.name)}: ${why.join('; ')}`);
  }
  check(`${label}: every row's data-*, link, icon, size and time match the disk${js ? ' (times in local time)' : ' (times in UTC)'}`, bad.length === 0, bad.join('\n'));
  return rows;
}

async function pageState(page) {
  return page.evaluate(() => ({
    folder: document.body.dataset.folder, writable: document.body.dataset.writable,
    partial: document.body.dataset.partial, user: document.body.dataset.user,
    up: document.querySelector('#listing tbody tr.up td.name a') ? document.querySelector('#listing tbody tr.up td.name a').getAttribute('href') : null,
    upFirst: !!document.querySelector('#listing tbody tr.up') && document.querySelector('#listing tbody tr').classList.contains('up'),
    crumbs: [...document.querySelectorAll('#crumbs a')].map((a) => [a.textContent, a.getAttribute('href')]),
    current: document.querySelector('#crumbs [aria-current=page]') ? document.querySelector('#crumbs [aria-current=page]').textContent : null,
    summary: document.querySelector('#summary') ? document.querySelector('#summary').textContent.trim() : null,
    toolbar: [...document.querySelectorAll('#toolbar input, #toolbar button')].map((e) => `${e.tagName.toLowerCase()}#${e.id}`),
    filter: document.querySelector('#filter') ? { type: document.querySelector('#filter').type, placeholder: document.querySelector('#filter').placeholder } : null,
    uploadInput: document.querySelector('#upload-input') ? { type: document.querySelector('#upload-input').type, multiple: document.querySelector('#upload-input').multiple } : null,
    folderInput: document.querySelector('#upload-folder-input') ? { type: document.querySelector('#upload-folder-input').type, dir: document.querySelector('#upload-folder-input').hasAttribute('webkitdirectory') } : null,
    upIcon: (() => { const a = document.querySelector('#listing tbody tr.up td.name a'); return a ? getComputedStyle(a, '::before').maskImage : null; })(),
    svgElements: document.querySelectorAll('#listing svg').length,
    messages: !!document.querySelector('#messages[role=status][aria-live=polite]'),
  }));
}

// ---------------------------------------------------------------------------------------------
const started = Date.now();
const local = path.join(args.tmp, 'local');
fs.mkdirSync(path.join(local, 'again'), { recursive: true });
fs.mkdirSync(args.artifacts, { recursive: true });
const screenshots = [];

const browser = await puppeteer.launch({
  executablePath: args.chromium || '/usr/bin/chromium',
  headless: true,
  userDataDir: path.join(args.tmp, 'chromium-profile'),
  timeout: T(30000),
  protocolTimeout: T(120000),
  // No sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--no-proxy-server', '--disable-gpu', '--no-first-run',
    '--no-default-browser-check', '--disable-crash-reporter', '--lang=en-US', '--hide-scrollbars'],
});
if (args['chromium-pid-file'] && browser.process()) fs.writeFileSync(args['chromium-pid-file'], `${browser.process().pid}\n`);
note(`browser ${await browser.version()}`);

try {
  const annCtx = await browser.createBrowserContext();
  const page = await annCtx.newPage();
  watch(page, 'ann');
  const dlg = dialogs(page);
  await page.setViewport({ width: 1280, height: 800 });
  await page.emulateTimezone(TZ);
  // The writer logs in once (the browser answers the 401 with these credentials), then the
  // interception that page.authenticate needs is dropped: as after a person typed the password,
  // the browser sends the cached credentials itself, on this page and on the context's others,
  // so the uploads and the timings see no test machinery in between.
  await page.authenticate(writer);
  const url = (p) => new URL(p, baseUrl).href;
  const defaultUpload = 8 * 1024 * 1024;

  // ---- list ----
  await step('list (/sort/ as ann)', async () => {
    const res = await page.goto(url('/sort/'), { waitUntil: 'load', timeout: WAIT });
    await page.authenticate(null);
    check('GET /sort/ with the writer\'s password answers 200 text/html', res.status() === 200 && /^text\/html/.test(res.headers()['content-type'] || ''),
      `status ${res.status()} ${res.headers()['content-type']}`);
    const csp = res.headers()['content-security-policy'] || '';
    note(`Content-Security-Policy: ${csp}`);
    check('the page has a Content-Security-Policy allowing nothing but the server itself', csp !== '' && !/\*|https?:|unsafe-eval/.test(csp), csp);
    const scripted = await scriptOn(page, '#filter');
    scriptRan = scripted;
    check('browser.js ran (#toolbar has #filter)', scripted);
    const st = await pageState(page);
    same('body data-folder, data-writable, data-partial, data-user', [st.folder, st.writable, st.partial, st.user], ['/sort/', 'true', 'true', writer.username]);
    same('breadcrumbs: Home link, then the current folder', [st.crumbs, st.current], [[['Home', '/']], 'sort']);
    same('tr.up links to the parent folder and comes first', [st.up, st.upFirst], ['/', true]);
    same('#filter is type search with placeholder Filter', st.filter, { type: 'search', placeholder: 'Filter' });
    check('the writable toolbar has #filter, #new-folder, #upload and #upload-folder',
      ['input#filter', 'button#new-folder', 'button#upload', 'button#upload-folder'].every((x) => st.toolbar.includes(x)), st.toolbar);
    same('input#upload-input is a file input with multiple', st.uploadInput, { type: 'file', multiple: true });
    same('input#upload-folder-input is a file input with webkitdirectory', st.folderInput, { type: 'file', dir: true });
    check('#messages is a polite status region', st.messages);
    const rows = await checkListing(page, 'sort', '/sort/');
    const kinds = [...new Set(rows.map((r) => r.kind))];
    const iconOf = new Map(rows.map((r) => [r.kind, r.icon]));
    check('each kind shown has an icon of its own, the same for every row of that kind, and the parent row one too',
      rows.every((r) => r.icon === iconOf.get(r.kind)) && new Set(iconOf.values()).size === iconOf.size &&
      !!st.upIcon && st.upIcon.startsWith('url("data:image/svg+xml') && ![...iconOf.values()].includes(st.upIcon),
      { kinds, up: st.upIcon && st.upIcon.slice(0, 60) });
    check('no element per row for icons (no <svg> in the listing)', st.svgElements === 0, st.svgElements);
    const mid = rows.find((r) => r.name === 'c-mid.bin');
    const big = rows.find((r) => r.name === 'a-big.bin');
    same('human sizes: 1234 bytes is "1.2 KB", 3000 bytes "2.9 KB"', [mid && mid.sizeText, big && big.sizeText], ['1.2 KB', '2.9 KB']);
    same('#summary counts folders, files and bytes', st.summary, '2 folders, 5 files, 4.2 KB');
  });

  // ---- sort ----
  const sortState = () => page.$$eval('#listing thead th[data-sort]', (ths) => ths.map((t) => [t.dataset.sort, t.getAttribute('aria-sort')]));
  const sortCase = async (column, wantAria, wantFiles, label) => {
    await page.click(`#listing thead th[data-sort=${column}]`);
    await waitTrue(page, (a) => document.querySelector(`#listing thead th[data-sort=${a[0]}]`).getAttribute('aria-sort') === a[1], [column, wantAria], T(3000));
    const aria = await sortState();
    same(`sort by ${column} (${label}): aria-sort=${wantAria} on it only`, aria, ['name', 'size', 'mtime'].map((c) => [c, c === column ? wantAria : null]));
    const names = await rowNames(page);
    const folders = names.slice(0, 2);
    check(`sort by ${column} (${label}): folders stay first`, folders.length === 2 && [...folders].sort().join() === ['Zeta', 'alpha'].sort().join(), names);
    same(`sort by ${column} (${label}): file order`, names.slice(2), wantFiles);
    const upFirst = await page.evaluate(() => document.querySelector('#listing tbody tr').classList.contains('up'));
    check(`sort by ${column} (${label}): tr.up stays first`, upFirst);
  };
  await step('sort', async () => {
    same('no column has aria-sort before a click', await sortState(), [['name', null], ['size', null], ['mtime', null]]);
    await sortCase('size', 'ascending', ['B-small.bin', 'n2.txt', 'n10.txt', 'c-mid.bin', 'a-big.bin'], 'first click');
    await sortCase('size', 'descending', ['a-big.bin', 'c-mid.bin', 'n10.txt', 'n2.txt', 'B-small.bin'], 'second click');
    await sortCase('mtime', 'ascending', ['a-big.bin', 'n10.txt', 'c-mid.bin', 'n2.txt', 'B-small.bin'], 'first click');
    await sortCase('name', 'ascending', ['a-big.bin', 'B-small.bin', 'c-mid.bin', 'n2.txt', 'n10.txt'], 'first click, numeric');
    await sortCase('name', 'descending', ['n10.txt', 'n2.txt', 'c-mid.bin', 'B-small.bin', 'a-big.bin'], 'second click');
  }, { needsScript: true });

  // ---- filter ----
  await step('filter', async () => {
    const before = (await pageState(page)).summary;
    await page.click('#filter');
    await page.type('#filter', 'MID');
    await waitTrue(page, () => [...document.querySelectorAll('#listing tbody tr.entry')].filter((r) => !r.hidden).length === 1, null, T(3000));
    const rows = await rowsOf(page);
    same('typing "MID" in #filter leaves only c-mid.bin visible (case ignored)', rows.filter((r) => !r.hidden).map((r) => r.name), ['c-mid.bin']);
    check('the other rows have the hidden attribute', rows.filter((r) => r.name !== 'c-mid.bin').every((r) => r.hidden));
    check('tr.up is not filtered away', await page.evaluate(() => !document.querySelector('#listing tbody tr.up').hidden));
    const after = (await pageState(page)).summary;
    check('#summary then says how many are shown (changed, mentions 1)', after !== before && /\b1\b/.test(after || ''), { before, after });
    await page.click('#filter', { clickCount: 3 });
    await page.keyboard.press('Backspace');
    await page.type('#filter', 'n1');
    await waitTrue(page, () => [...document.querySelectorAll('#listing tbody tr.entry')].filter((r) => !r.hidden).length === 1, null, T(3000));
    same('"n1" leaves only n10.txt', await visibleNames(page), ['n10.txt']);
    await page.click('#filter', { clickCount: 3 });
    await page.keyboard.press('Backspace');
    await waitTrue(page, () => [...document.querySelectorAll('#listing tbody tr.entry')].every((r) => !r.hidden), null, T(3000));
    same('clearing #filter shows every row again', (await visibleNames(page)).length, 7);
    same('#summary is back to the whole folder', (await pageState(page)).summary, before);
    // "/" focuses the filter.
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.keyboard.press('/');
    check('"/" focuses #filter', await page.evaluate(() => document.activeElement && document.activeElement.id === 'filter'));
  }, { needsScript: true });

  // ---- keyboard ----
  await step('keyboard', async () => {
    await page.goto(url('/sort/'), { waitUntil: 'load', timeout: WAIT });
    await scriptOn(page, '#filter');
    const first = await rowControl(page, 'alpha', 'td.name a');
    await first.focus();
    await page.keyboard.press('ArrowDown');
    const focused = () => page.evaluate(() => {
      const r = document.activeElement && document.activeElement.closest('tr.entry');
      return r && document.activeElement.matches('td.name a') ? r.dataset.name : null;
    });
    same('ArrowDown moves the focus to the next row\'s name link', await focused(), 'Zeta');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    same('ArrowUp moves it back', await focused(), 'Zeta');
    await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: WAIT }), page.keyboard.press('Enter')]);
    same('Enter follows the focused link', new URL(page.url()).pathname, '/sort/Zeta/');
  }, { needsScript: true });

  // ---- upload ----
  const smallA = path.join(local, 'up-small-1.txt');
  const smallB = path.join(local, 'up small 2 é.txt');
  const bigFile = path.join(local, 'up-big.bin');
  fs.writeFileSync(smallA, 'small one\n');
  fs.writeFileSync(smallB, crypto.randomBytes(5000));
  fs.writeFileSync(bigFile, crypto.randomBytes(50 * 1024 * 1024));
  await step('upload three files (one of 50 MB)', async () => {
    await page.goto(url('/work/'), { waitUntil: 'load', timeout: WAIT });
    await scriptOn(page, '#upload');
    await checkListing(page, 'work', '/work/ before the actions');
    await page.evaluate(() => {
      window.__progress = [];
      window.__refreshed = 0;
      document.addEventListener('keepdav-upload-progress', (e) => window.__progress.push({ ...e.detail }));
      document.addEventListener('keepdav-refreshed', () => { window.__refreshed += 1; });
    });
    // The button opens the file input.
    const [chooser] = await Promise.all([page.waitForFileChooser({ timeout: T(5000) }), page.click('#upload')]);
    check('button#upload opens a file chooser for several files', chooser.isMultiple());
    await chooser.cancel();

    const input = await page.$('#upload-input');
    let partialSeen = false;
    const watcher = setInterval(() => { if (exists('work/up-big.bin.partial')) partialSeen = true; }, 10);
    const t0 = Date.now();
    await input.uploadFile(smallA, smallB, bigFile);
    const done = await waitTrue(page, () => {
      const u = [...document.querySelectorAll('#uploads div.upload')];
      return u.length >= 3 && u.every((d) => ['done', 'failed', 'cancelled'].includes(d.dataset.state));
    }, null, T(120000));
    clearInterval(watcher);
    note(`the three uploads took ${Date.now() - t0} ms`);
    const ups = await page.$$eval('#uploads div.upload', (us) => us.map((d) => ({
      name: d.querySelector('span.name') ? d.querySelector('span.name').textContent : null, state: d.dataset.state || null,
      value: d.querySelector('progress') ? d.querySelector('progress').value : null, max: d.querySelector('progress') ? d.querySelector('progress').max : null,
      status: d.querySelector('span.status') ? d.querySelector('span.status').textContent : null, cancel: !!d.querySelector('button.cancel'),
    })));
    check('the three uploads ended', done, ups);
    same('div.upload[data-state=done] for all three', ups.map((u) => [u.name, u.state]).sort(),
      [['up small 2 é.txt', 'done'], ['up-big.bin', 'done'], ['up-small-1.txt', 'done']]);
    check('each div.upload has span.name, progress, span.status and button.cancel', ups.length === 3 && ups.every((u) => u.name !== null && u.max !== null && u.status !== null && u.cancel), ups);
    const bigUp = ups.find((u) => u.name === 'up-big.bin');
    same('the big file\'s progress: max = its size, value = its size when done', bigUp && [bigUp.max, bigUp.value], [52428800, 52428800]);
    const layout = await page.evaluate(() => {
      const u = document.querySelector('div#uploads');
      const l = document.querySelector('#listing');
      return { total: !!(u && u.querySelector('progress#upload-total')), before: !!(u && l && (u.compareDocumentPosition(l) & Node.DOCUMENT_POSITION_FOLLOWING)) };
    });
    same('div#uploads comes before #listing and holds progress#upload-total', layout, { total: true, before: true });
    for (const [src, name] of [[smallA, 'up-small-1.txt'], [smallB, 'up small 2 é.txt'], [bigFile, 'up-big.bin']]) {
      const rel = `work/${name}`;
      check(`disk: ${name} has the source's bytes`, isFile(rel) && sha(readDisk(rel)) === sha(fs.readFileSync(src)),
        isFile(rel) ? `size ${fs.statSync(onDisk(rel)).size}, source ${fs.statSync(src).size}` : 'missing');
    }
    check('disk: up-big.bin.partial was there during the upload and is gone after it', partialSeen && !exists('work/up-big.bin.partial'), { partialSeen, left: exists('work/up-big.bin.partial') });
    const progress = await page.evaluate(() => window.__progress);
    const big = progress.filter((p) => p.name === 'up-big.bin' || String(p.name).endsWith('/up-big.bin'));
    const loaded = [...new Set(big.map((p) => p.loaded))];
    note(`keepdav-upload-progress: ${progress.length} events, ${big.length} for up-big.bin, ${loaded.length} distinct loaded values: ${loaded.slice(0, 12).join(', ')}${loaded.length > 12 ? ', ...' : ''}`);
    check('keepdav-upload-progress for up-big.bin: several distinct loaded values', loaded.length >= 3, { events: big.length, loaded });
    check('keepdav-upload-progress for up-big.bin: total is its size, loaded reaches it, never above',
      big.length > 0 && big.every((p) => p.total === 52428800 && p.loaded >= 0 && p.loaded <= p.total) && Math.max(...loaded) === 52428800,
      big.slice(-3));
    check('keepdav-upload-progress came for the small files too', ['up-small-1.txt', 'up small 2 é.txt'].every((n) => progress.some((p) => p.name === n)),
      [...new Set(progress.map((p) => p.name))]);
    // The pieces, as the server saw them.
    const log = args['access-log'] ? fs.readFileSync(args['access-log'], 'utf8') : '';
    const count = (re) => (log.match(re) || []).length;
    const pieces = {
      put: count(/"PUT \/work\/up-big\.bin\.partial HTTP\/1\.1" 20[14] /g),
      patch: count(/"PATCH \/work\/up-big\.bin\.partial HTTP\/1\.1" 20[04] /g),
      move: count(/"MOVE \/work\/up-big\.bin\.partial HTTP\/1\.1" 20[14] /g),
      whole: count(/"PUT \/work\/up-big\.bin HTTP\/1\.1"/g),
      small: count(/"PUT \/work\/up-small-1\.txt HTTP\/1\.1" 201 /g),
    };
    same('access log: 50 MiB went as PUT + 6 PATCH pieces of 8 MiB to up-big.bin.partial, then one MOVE; the small file in one PUT',
      pieces, { put: 1, patch: Math.ceil(52428800 / defaultUpload) - 1, move: 1, whole: 0, small: 1 });
    await waitTrue(page, () => window.__refreshed > 0, null, T(5000));
    check('keepdav-refreshed was dispatched after the uploads', await page.evaluate(() => window.__refreshed > 0));
    const listed = await waitTrue(page, (ns) => ns.every((n) => [...document.querySelectorAll('#listing tbody tr.entry')].some((r) => r.dataset.name === n)),
      ['up-small-1.txt', 'up small 2 é.txt', 'up-big.bin'], T(5000));
    check('the refreshed listing shows the three uploaded files', listed, await rowNames(page));
    const bigRow = (await rowsOf(page)).find((r) => r.name === 'up-big.bin');
    check('the 50 MiB row says 50 MB (title 52,428,800 bytes)', bigRow && /^50(\.0)? MB$/.test(bigRow.sizeText) && bigRow.sizeTitle === '52,428,800 bytes', bigRow);
    const shot = path.join(args.artifacts, 'desktop-light-uploads.png');
    await page.screenshot({ path: shot });
    screenshots.push(shot);
  }, { needsScript: true });

  await step('upload onto an existing name asks to replace it', async () => {
    const again = path.join(local, 'again', 'up-small-1.txt');
    fs.writeFileSync(again, 'small one, replaced\n');
    dlg.expect('confirm', true);
    const n = dlg.seen.length;
    const input = await page.$('#upload-input');
    await input.uploadFile(again);
    const replaced = await pollDisk(() => isFile('work/up-small-1.txt') && readDisk('work/up-small-1.txt').toString() === 'small one, replaced\n');
    const d = dlg.seen[n];
    same('confirm("Replace up-small-1.txt?") was asked', d && [d.type, d.message], ['confirm', 'Replace up-small-1.txt?']);
    check('disk: after the confirm, up-small-1.txt has the new bytes', replaced, isFile('work/up-small-1.txt') ? readDisk('work/up-small-1.txt').toString() : 'missing');
    await waitTrue(page, () => [...document.querySelectorAll('#uploads div.upload')].every((u) => ['done', 'failed', 'cancelled'].includes(u.dataset.state)), null, T(10000));
    dlg.clear();
  }, { needsScript: true });

  // ---- actions ----
  const refreshedAfter = async (before) => waitTrue(page, (b) => window.__refreshed > b, before, WAIT);
  const refreshed = () => page.evaluate(() => window.__refreshed || 0);

  await step('create a folder', async () => {
    const r0 = await refreshed();
    dlg.expect('prompt', 'new folder é #1');
    await page.click('#new-folder');
    const d = dlg.last();
    same('prompt("New folder name")', d && [d.type, d.message], ['prompt', 'New folder name']);
    await refreshedAfter(r0);
    check('the new folder is listed', await waitTrue(page, (n) => [...document.querySelectorAll('#listing tbody tr.entry')].some((r) => r.dataset.name === n && r.dataset.kind === 'folder'), 'new folder é #1'));
    check('disk: work/new folder é #1/ is a folder', isDir('work/new folder é #1'));
  }, { needsScript: true });

  await step('rename', async () => {
    const r0 = await refreshed();
    dlg.expect('prompt', 'renamed #1 é.txt');
    await clickInRow(page, 'rename-me.txt', 'button.rename');
    const d = dlg.last();
    same('prompt("New name", old name)', d && [d.type, d.message, d.defaultValue], ['prompt', 'New name', 'rename-me.txt']);
    await refreshedAfter(r0);
    const ok = await waitTrue(page, () => {
      const ns = [...document.querySelectorAll('#listing tbody tr.entry')].map((r) => r.dataset.name);
      return ns.includes('renamed #1 é.txt') && !ns.includes('rename-me.txt');
    });
    check('the listing shows the new name, not the old', ok, await rowNames(page));
    check('disk: renamed #1 é.txt has the bytes, rename-me.txt is gone',
      isFile('work/renamed #1 é.txt') && readDisk('work/renamed #1 é.txt').toString() === 'rename me\n' && !exists('work/rename-me.txt'));
  }, { needsScript: true });

  await step('rename onto an existing name fails (Overwrite: F)', async () => {
    dlg.expect('prompt', 'keep-b.txt');
    await clickInRow(page, 'keep-a.txt', 'button.rename');
    const shown = await waitTrue(page, () => !!document.querySelector('#messages p.error'));
    const text = await page.evaluate(() => (document.querySelector('#messages p.error') ? document.querySelector('#messages p.error').textContent : null));
    check('#messages gets a p.error with the status code (412)', shown && /412/.test(text || ''), text);
    check('disk: keep-b.txt kept its bytes and keep-a.txt is still there',
      readDisk('work/keep-b.txt').toString() === 'b stays\n' && isFile('work/keep-a.txt') && readDisk('work/keep-a.txt').toString() === 'a\n');
  }, { needsScript: true });

  await step('move', async () => {
    let r0 = await refreshed();
    dlg.expect('prompt', '/work/dest/');
    await clickInRow(page, 'move-me.txt', 'button.move');
    let d = dlg.last();
    same('prompt("Move to folder", ...)', d && [d.type, d.message], ['prompt', 'Move to folder']);
    note(`the move prompt's default: ${JSON.stringify(d && d.defaultValue)}`);
    await refreshedAfter(r0);
    check('the moved file left the listing', await waitTrue(page, () => ![...document.querySelectorAll('#listing tbody tr.entry')].some((r) => r.dataset.name === 'move-me.txt')));
    check('disk: work/dest/move-me.txt has the bytes, work/move-me.txt is gone',
      isFile('work/dest/move-me.txt') && readDisk('work/dest/move-me.txt').toString() === 'move me\n' && !exists('work/move-me.txt'));
    r0 = await refreshed();
    dlg.expect('prompt', '/work/dest');
    await clickInRow(page, 'move-me-2.txt', 'button.move');
    d = dlg.last();
    await refreshedAfter(r0);
    check('a folder path without its trailing slash works too (listing)', await waitTrue(page, () => ![...document.querySelectorAll('#listing tbody tr.entry')].some((r) => r.dataset.name === 'move-me-2.txt')));
    check('disk: work/dest/move-me-2.txt is there, work/move-me-2.txt is gone', isFile('work/dest/move-me-2.txt') && !exists('work/move-me-2.txt'));
  }, { needsScript: true });

  await step('delete', async () => {
    dlg.expect('confirm', false);
    await clickInRow(page, 'keep-a.txt', 'button.delete');
    let d = dlg.last();
    same('confirm("Delete keep-a.txt?")', d && [d.type, d.message], ['confirm', 'Delete keep-a.txt?']);
    await sleep(300);
    check('disk: dismissing the confirm deletes nothing', isFile('work/keep-a.txt') && await hasRow(page, 'keep-a.txt'));
    let r0 = await refreshed();
    dlg.expect('confirm', true);
    await clickInRow(page, 'delete-me.txt', 'button.delete');
    await refreshedAfter(r0);
    check('the deleted file left the listing', await waitTrue(page, () => ![...document.querySelectorAll('#listing tbody tr.entry')].some((r) => r.dataset.name === 'delete-me.txt')));
    check('disk: work/delete-me.txt is gone', !exists('work/delete-me.txt'));
    r0 = await refreshed();
    dlg.expect('confirm', true);
    await clickInRow(page, 'delete-dir', 'button.delete');
    d = dlg.last();
    same('confirm("Delete delete-dir and everything in it?") for a folder', d && [d.type, d.message], ['confirm', 'Delete delete-dir and everything in it?']);
    await refreshedAfter(r0);
    check('the deleted folder left the listing', await waitTrue(page, () => ![...document.querySelectorAll('#listing tbody tr.entry')].some((r) => r.dataset.name === 'delete-dir')));
    check('disk: work/delete-dir and everything in it is gone', !exists('work/delete-dir'));
    await checkListing(page, 'work', '/work/ after the actions');
    same('no dialog came unasked', dlg.unexpected(), []);
  }, { needsScript: true });

  // ---- preview ----
  await step('preview an image and a text', async () => {
    await page.goto(url('/images/'), { waitUntil: 'load', timeout: WAIT });
    await scriptOn(page, '#filter');
    await checkListing(page, 'images', '/images/');
    await clickInRow(page, 'pixel.png', 'button.preview');
    const shown = await waitTrue(page, () => {
      const d = document.querySelector('dialog#preview');
      const img = d && d.querySelector('img');
      return d && d.open && img && img.complete && img.naturalWidth > 0;
    });
    const img = await page.evaluate(() => {
      const d = document.querySelector('dialog#preview');
      const i = d && d.querySelector('img');
      return { open: !!(d && d.open), modal: !!(d && d.matches(':modal')), w: i ? i.naturalWidth : null, h: i ? i.naturalHeight : null, close: !!(d && d.querySelector('button#preview-close')) };
    });
    check('dialog#preview opens modal with the 16x16 PNG loaded in an img', shown && img.open && img.modal && img.w === 16 && img.h === 16, img);
    const shot = path.join(args.artifacts, 'desktop-light-preview.png');
    await page.screenshot({ path: shot });
    screenshots.push(shot);
    check('dialog#preview has button#preview-close', img.close);
    await page.click('button#preview-close');
    check('button#preview-close closes it', await waitTrue(page, () => !document.querySelector('dialog#preview').open, null, T(3000)));
    await clickInRow(page, 'notes.txt', 'button.preview');
    const textShown = await waitTrue(page, (want) => {
      const d = document.querySelector('dialog#preview');
      return d && d.open && d.querySelector('pre') && d.querySelector('pre').textContent === want;
    }, readDisk('images/notes.txt').toString());
    const pre = await page.evaluate(() => {
      const p = document.querySelector('dialog#preview pre');
      return p ? { text: p.textContent, children: p.children.length } : null;
    });
    check('a text opens in a pre with its exact text (textContent: no markup made from it)',
      textShown && pre && pre.text === readDisk('images/notes.txt').toString() && pre.children === 0, pre);
    await page.keyboard.press('Escape');
    check('Escape closes the preview', await waitTrue(page, () => !document.querySelector('dialog#preview').open, null, T(3000)));
  }, { needsScript: true });

  // ---- escaping ----
  await step('names that need escaping (/escape/)', async () => {
    const res = await page.goto(url('/escape/'), { waitUntil: 'load', timeout: WAIT });
    check('GET /escape/ answers 200', res.status() === 200, res.status());
    await scriptOn(page, '#filter');
    const rows = await checkListing(page, 'escape', '/escape/');
    const disk = diskListing('escape');
    same('the name that is not UTF-8 shows with U+FFFD for each bad byte', rows.some((r) => r.name === 'bad-\uFFFD-\uFFFD.txt'), true);
    const wrong = [];
    for (const e of disk.filter((x) => !x.dir)) {
      const r = rows.find((x) => x.name === e.name);
      if (!r || !r.download) { wrong.push(`${e.name}: no row or no a.download`); continue; }
      const got = await fetchInPage(page, r.download.abs);
      const want = fs.readFileSync(e.full);
      if (got.status !== 200 || !Buffer.from(got.b64, 'base64').equals(want)) wrong.push(`${e.name}: ${r.download.abs} -> ${got.status}, ${Buffer.from(got.b64, 'base64').length} bytes`);
    }
    check('each file\'s a.download fetches its exact bytes in the browser', wrong.length === 0, wrong.join('\n'));
    check('no element was made from a name (no img, no alert)', await page.evaluate(() => document.querySelectorAll('img').length === 0) && dlg.unexpected().length === 0, dlg.unexpected());
    const raw = await httpGet('/escape/', writer, { Accept: 'text/html' });
    const html = raw.body.toString('utf8');
    const stray = [...html.matchAll(/<(?![A-Za-z/!])/g)].map((m) => html.slice(Math.max(0, m.index - 20), m.index + 20));
    check('the raw HTML has no unescaped < (each < opens a tag)', stray.length === 0, stray);
    check('the raw HTML has no <img (the name <img src=x onerror=alert(1)>.txt stays text)', !/<img[\s>/]/i.test(html));
    const amps = [...html.matchAll(/&(?!(#\d+|#x[0-9A-Fa-f]+|[A-Za-z]+);)/g)].map((m) => html.slice(Math.max(0, m.index - 20), m.index + 20));
    check('the raw HTML has no unescaped &', amps.length === 0, amps);
  });

  // ---- the read-only user ----
  await step('the read-only user\'s page (rob)', async () => {
    const robCtx = await browser.createBrowserContext();
    const rob = await robCtx.newPage();
    watch(rob, 'rob');
    const robDlg = dialogs(rob);
    await rob.setViewport({ width: 1280, height: 800 });
    await rob.emulateTimezone(TZ);
    await rob.authenticate(reader);
    const res = await rob.goto(url('/'), { waitUntil: 'load', timeout: WAIT });
    check('rob logs in with Basic credentials: GET / answers 200', res.status() === 200, res.status());
    await scriptOn(rob, '#filter');
    let st = await pageState(rob);
    check('the user\'s root has no tr.up', st.up === null && !(await rob.$('#listing tbody tr.up')));
    await rob.goto(url('/work/'), { waitUntil: 'load', timeout: WAIT });
    await scriptOn(rob, '#filter');
    st = await pageState(rob);
    same('body data-writable="false", data-user="rob"', [st.writable, st.user], ['false', reader.username]);
    same('the read-only toolbar has only the filter', st.toolbar.filter((x) => x !== 'input#upload-input' && x !== 'input#upload-folder-input'), ['input#filter']);
    const absent = await rob.evaluate(() => ['#new-folder', '#upload', '#upload-folder', '#upload-input', '#upload-folder-input', 'button.rename', 'button.move', 'button.delete']
      .filter((s) => document.querySelector(s)));
    same('no #new-folder, #upload, #upload-folder or their inputs, no button.rename/move/delete', absent, []);
    await checkListing(rob, 'work', 'rob\'s /work/', { writable: false });
    const rows = await rowsOf(rob);
    const files = rows.filter((r) => r.kind !== 'folder');
    check('every file row has a download link', files.length > 0 && files.every((r) => r.download && r.download.attr && r.download.href === r.href), files.map((r) => [r.name, r.download]));
    const one = files.find((r) => r.name === 'up small 2 é.txt') || files[0];
    const got = await fetchInPage(rob, one.download.abs);
    check(`rob's download of ${one.name} gets its bytes`, got.status === 200 && Buffer.from(got.b64, 'base64').equals(readDisk(`work/${one.name}`)), got.status);
    await rob.goto(url('/images/'), { waitUntil: 'load', timeout: WAIT });
    await scriptOn(rob, '#filter');
    check('rob may still preview (button.preview on pixel.png)', !!(await rob.evaluate(() => !![...document.querySelectorAll('#listing tr.entry')].find((r) => r.dataset.name === 'pixel.png')?.querySelector('button.preview'))));
    const put = await rob.evaluate(async () => (await fetch('/work/rob-was-here.txt', { method: 'PUT', body: 'x' })).status);
    check('disk: a PUT as rob is refused (403) and writes nothing', put === 403 && !exists('work/rob-was-here.txt'), put);
    same('no dialog on rob\'s pages', robDlg.seen, []);
    await robCtx.close();
  });

  // ---- without JavaScript ----
  await step('the page without JavaScript', async () => {
    const nojs = await annCtx.newPage();
    watch(nojs, 'no-js');
    await nojs.setJavaScriptEnabled(false);
    await nojs.setViewport({ width: 1280, height: 800 });
    await nojs.goto(url('/escape/'), { waitUntil: 'load', timeout: WAIT });
    const st = await pageState(nojs);
    check('the script did not run (#toolbar empty)', st.toolbar.length === 0 && st.filter === null, st.toolbar);
    const rows = await checkListing(nojs, 'escape', 'no-JS /escape/', { js: false });
    const wrong = [];
    for (const e of diskListing('escape').filter((x) => !x.dir)) {
      const r = rows.find((x) => x.name === e.name);
      if (!r) { wrong.push(`${e.name}: not listed`); continue; }
      const u = new URL(r.linkAbs);
      const got = await httpGet(u.pathname, writer);
      if (got.status !== 200 || !got.body.equals(fs.readFileSync(e.full))) wrong.push(`${e.name}: ${u.pathname} -> ${got.status}, ${got.body.length} bytes`);
    }
    check('no-JS: every file link (as the browser resolved it) downloads its exact bytes', wrong.length === 0, wrong.join('\n'));
    const dirName = 'dir #?%';
    const link = await rowControl(nojs, dirName, 'td.name a');
    await Promise.all([nojs.waitForNavigation({ waitUntil: 'load', timeout: WAIT }), link.click()]);
    const inner = await pageState(nojs);
    same('no-JS: clicking the folder "dir #?%" opens it', [pctDecode(new URL(nojs.url()).pathname).toString(), inner.current], ['/escape/dir #?%/', dirName]);
    await checkListing(nojs, 'escape/dir #?%', 'no-JS /escape/dir #?%/', { js: false });
    await nojs.goto(url('/sort/'), { waitUntil: 'load', timeout: WAIT });
    const sorted = await checkListing(nojs, 'sort', 'no-JS /sort/', { js: false });
    const sz = (n) => (sorted.find((r) => r.name === n) || {}).sizeText;
    same('no-JS: human sizes are in the page (c-mid.bin 1.2 KB, a-big.bin 2.9 KB)', [sz('c-mid.bin'), sz('a-big.bin')], ['1.2 KB', '2.9 KB']);
    await nojs.close();
  });

  // ---- 10,000 files ----
  // Time to the first tr.entry (a MutationObserver set before the page's own scripts) and to the
  // load event (the HTML, the CSS and the deferred script all done), from the navigation's
  // start; two loads with the script (the better one is judged, so one hiccup of a shared
  // machine does not fail it; both are printed), then one without it for reference.
  await step('a folder of 10,000 files', async () => {
    const measure = async (js) => {
      const p = await annCtx.newPage();
      watch(p, 'many');
      await p.setViewport({ width: 1280, height: 800 });
      if (!js) await p.setJavaScriptEnabled(false);
      await p.evaluateOnNewDocument(() => {
        const observer = new MutationObserver(() => {
          if (window.__firstRow === undefined && document.querySelector('tr.entry')) {
            window.__firstRow = performance.now();
            observer.disconnect();
          }
        });
        observer.observe(document, { childList: true, subtree: true });
      });
      await p.goto(url('/many/'), { waitUntil: 'load', timeout: T(60000) });
      const m = await p.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const rows = document.querySelectorAll('#listing tbody tr.entry');
        return { firstByte: nav.responseStart, lastByte: nav.responseEnd, firstRow: window.__firstRow,
          domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, rows: rows.length,
          first: rows.length ? rows[0].dataset.name : null, last: rows.length ? rows[rows.length - 1].dataset.name : null,
          scripted: !!document.querySelector('#toolbar #filter') };
      });
      if (js && scriptRan) {
        // Rows the script has not enhanced by the load event (it may finish them later).
        await waitTrue(p, () => document.querySelectorAll('#listing tbody tr.entry td.actions a.download').length === 10000, null, T(30000));
        m.enhanced = await p.evaluate(() => performance.now());
        m.downloads = await p.evaluate(() => document.querySelectorAll('#listing tbody tr.entry td.actions a.download').length);
      }
      const ms = (x) => (x === undefined ? 'never' : `${x.toFixed(0)} ms`);
      note(`10,000 files, ${js ? 'with' : 'without'} JavaScript: first byte ${ms(m.firstByte)}, last byte ${ms(m.lastByte)}, first tr.entry ${js ? ms(m.firstRow) : 'not measured (no script)'}, `
        + `DOMContentLoaded ${ms(m.domContentLoaded)}, load event (complete) ${ms(m.load)}${js ? `, all rows with actions by ${ms(m.enhanced)}` : ''}`);
      await p.close();
      return m;
    };
    // Best of three with the script, of two without: one load on this 2-core machine can lose
    // 200 ms to anything else running; the page must be able to do it, not do it every time.
    const runs = [await measure(true), await measure(true), await measure(true)];
    const plains = [await measure(false), await measure(false)];
    const plain = plains.reduce((a, b) => (b.load < a.load ? b : a));
    const m = runs[0];
    same('all 10,000 rows, f00000.txt to f09999.txt, enhanced by the script', [m.rows, m.first, m.last, m.scripted, m.downloads], [10000, 'f00000.txt', 'f09999.txt', true, 10000]);
    same('without JavaScript too, all 10,000 rows', [plain.rows, plain.first, plain.last], [10000, 'f00000.txt', 'f09999.txt']);
    check('the first tr.entry is in the DOM before the page completes (streamed)', runs.every((r) => r.firstRow !== undefined && r.firstRow < r.load), runs);
    const best = runs.reduce((a, b) => (b.load < a.load ? b : a));
    const limit = 1000 * factor;
    console.log(`# 10,000 files: time to first row ${best.firstRow === undefined ? 'never' : best.firstRow.toFixed(0)} ms, time to complete ${best.load.toFixed(0)} ms `
      + `(loads: ${runs.map((r) => `${r.firstRow?.toFixed(0)}/${r.load.toFixed(0)} ms`).join(', ')}; without JavaScript: complete ${plain.load.toFixed(0)} ms); limit ${limit} ms`);
    check(`10,000 files: the page completes (load event) within ${limit} ms (best of three: ${best.load.toFixed(0)} ms)`, best.load <= limit,
      { withScript: runs.map((r) => Math.round(r.load)), withoutScript: plains.map((r) => Math.round(r.load)), firstByte: Math.round(best.firstByte), lastByte: Math.round(best.lastByte) });
    check(`10,000 files without JavaScript: the plain listing completes within ${limit} ms (best of two: ${plain.load.toFixed(0)} ms)`, plain.load <= limit,
      { withoutScript: plains.map((r) => Math.round(r.load)) });
  });

  // ---- screenshots ----
  await step('screenshots, light and dark', async () => {
    const p = await annCtx.newPage();
    watch(p, 'shots');
    await p.emulateTimezone(TZ);
    const background = () => p.evaluate(() => getComputedStyle(document.body).backgroundColor + ' / ' + getComputedStyle(document.documentElement).backgroundColor);
    const colours = {};
    for (const [device, viewport] of [['desktop', { width: 1280, height: 800, deviceScaleFactor: 1 }], ['phone', { width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true }]]) {
      await p.setViewport(viewport);
      for (const scheme of ['light', 'dark']) {
        await p.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
        await p.goto(url('/work/'), { waitUntil: 'load', timeout: WAIT });
        await scriptOn(p, '#filter');
        const file = path.join(args.artifacts, `${device}-${scheme}.png`);
        await p.screenshot({ path: file });
        screenshots.push(file);
        colours[`${device}-${scheme}`] = await background();
        if (device === 'phone' && scheme === 'light') {
          const w = await p.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
          note(`phone: page width ${w[0]} px in a ${w[1]} px viewport${w[0] > w[1] ? ' (scrolls sideways)' : ''}`);
        }
      }
    }
    note(`backgrounds: ${JSON.stringify(colours)}`);
    check('dark mode changes the page\'s background (desktop and phone)', colours['desktop-light'] !== colours['desktop-dark'] && colours['phone-light'] !== colours['phone-dark'], colours);
    const sizes = screenshots.map((f) => (fs.existsSync(f) ? fs.statSync(f).size : 0));
    check('the screenshots are written (PNG, not empty)', sizes.every((s) => s > 1000) && screenshots.every((f) => fs.readFileSync(f).subarray(0, 4).toString('latin1') === '\x89PNG'), sizes);
    await p.close();
  });

  same('no request went anywhere but the server', [...new Set(external)], []);
  same('no JavaScript error on any page', pageErrors, []);
  same('no Content-Security-Policy violation', cspViolations, []);
} catch (e) {
  check('the test ran to the end', false, String(e && e.stack ? e.stack : e));
} finally {
  await browser.close().catch(() => {});
}
for (const f of screenshots) console.log(`# screenshot: ${f}`);
console.log(`# ${checks} checks, ${failures} not ok, ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failures === 0 && checks > 0 ? 0 : 1);
