// keepdav's browser page: progressive enhancement of the listing webdav/browser_page.cc renders.
// The contract (ids, classes, events, wording) is webdav/assets/README.md; the browser tests in
// tests/browser/ hold it to that. Plain script, no libraries, loaded with `defer`.
//
// Rules this file keeps, because the page's Content-Security-Policy and the server's escaping
// depend on them:
// - every request URL is built from a row's data-href or the body's data-folder (both already
//   percent-encoded by the server, so names that are not valid UTF-8 still work) plus
//   encodeURIComponent of what the user typed; never from displayed text;
// - untrusted text goes in with textContent; no innerHTML, no inline styles, no eval;
// - a missing feature (dialog, DataTransferItem.webkitGetAsEntry, ...) drops that feature only.
'use strict';

(function () {
  const body = document.body;
  const table = document.getElementById('listing');
  if (!body || !table || !table.tBodies.length) return;

  const PIECE = 8 * 1024 * 1024;           // larger files go in pieces of this size
  const MAX_TRIES = 5;                      // attempts per piece (and per whole small file)
  const PREVIEW_BYTES = 256 * 1024;         // a text preview shows at most this much
  const PARALLEL_UPLOADS = 3;
  const RETRY_STATUSES = new Set([0, 408, 502, 503, 504]);  // a dropped or timed-out connection

  const folder = withSlash(body.dataset.folder || location.pathname);
  const writable = body.dataset.writable === 'true';
  const partialUploads = body.dataset.partial === 'true';
  const home = findHome();
  const canPreview = typeof HTMLDialogElement === 'function' &&
      typeof HTMLDialogElement.prototype.showModal === 'function';

  const summaryEl = document.getElementById('summary');
  let baseSummary = summaryEl ? summaryEl.textContent : '';
  let filterInput = null;
  let sortKey = null;
  let sortDir = 1;

  // ---------------------------------------------------------------- small helpers

  function withSlash(p) { return p.endsWith('/') ? p : p + '/'; }

  // The URL of the user's "/": the first breadcrumb (Home) when it is a link, else (at the
  // user's root, where Home is the current page) the folder itself.
  function findHome() {
    const first = document.querySelector('#crumbs a[href]');
    if (!first) return folder;
    try {
      const path = withSlash(new URL(first.getAttribute('href'), location.href).pathname);
      if (folder.startsWith(path)) return path;
    } catch (e) { /* fall through */ }
    return '/';
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    if (attrs) for (const k of Object.keys(attrs)) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function absolute(path) { return new URL(path, location.href).href; }

  function safeDecode(segment) {
    try { return decodeURIComponent(segment); } catch (e) { return segment; }
  }

  // The last path segment of an href, still percent-encoded ("/a/b%20c/" -> "b%20c").
  function lastSegment(href) {
    const trimmed = href.endsWith('/') ? href.slice(0, -1) : href;
    return trimmed.slice(trimmed.lastIndexOf('/') + 1);
  }

  function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

  // The wording the README fixes for uploads and actions alike.
  const REASONS = {
    403: 'not allowed',
    413: 'too large for this server',
    423: 'locked',
    507: "the server's disk is full",
  };
  function reason(status) {
    if (REASONS[status]) return REASONS[status];
    return status ? String(status) : 'the connection failed';
  }
  // For actions: the status code, and what it means for that method where that is clear.
  function actionReason(status, hints) {
    if (REASONS[status] || !status || !hints || !hints[status]) return reason(status);
    return status + ' (' + hints[status] + ')';
  }

  function showError(text) {
    const box = document.getElementById('messages');
    if (!box) { console.error(text); return; }
    box.appendChild(el('p', { class: 'error' }, text));
    while (box.children.length > 5) box.firstElementChild.remove();
  }

  // A new action's messages replace the last one's (they float over the listing).
  function clearMessages() {
    const box = document.getElementById('messages');
    if (box) box.replaceChildren();
  }

  // A fetch that answers {ok: false, status: 0} instead of throwing when the connection fails.
  async function dav(method, url, headers) {
    try {
      return await fetch(url, { method, headers: headers || {}, credentials: 'same-origin',
                                cache: 'no-store' });
    } catch (e) {
      return { ok: false, status: 0, headers: new Headers(), text: async () => '' };
    }
  }

  // A name the user typed for something in this folder: null when fine, else why not.
  function badName(name) {
    if (name.includes('/')) return 'a name cannot contain "/"';
    if (name === '.' || name === '..' || name.includes('\0')) return 'not a valid name';
    return null;
  }

  // A row's cell of a class, and the first child element of a tag in it. Plain walks: a
  // selector such as tr.querySelector('td.mtime time') ends in a tag name, which Chromium
  // answers by scanning every such element of the document, so 10,000 rows took 1.5 s.
  function cellOf(tr, cls) {
    for (const td of tr.cells) if (td.classList.contains(cls)) return td;
    return null;
  }
  function childOf(parent, tag) {
    if (!parent) return null;
    for (const e of parent.children) if (e.localName === tag) return e;
    return null;
  }

  function entryRows() { return Array.from(table.tBodies[0].querySelectorAll('tr.entry')); }

  function rowInfo(tr) {
    const kind = tr.dataset.kind || 'file';
    return {
      name: tr.dataset.name || '',
      href: tr.dataset.href || '',
      kind,
      isFolder: kind === 'folder',
      size: Number(tr.dataset.size) || 0,
    };
  }

  // ---------------------------------------------------------------- times

  function pad(n) { return String(n).padStart(2, '0'); }

  function localTime(time) {
    const d = new Date(time.getAttribute('datetime'));
    if (isNaN(d.getTime())) return;
    if (!time.title) time.title = time.textContent.trim();  // the UTC text stays on hover
    time.textContent = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) +
        ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }

  // ---------------------------------------------------------------- toolbar

  let uploadInput = null;
  let uploadFolderInput = null;

  function buildToolbar() {
    const bar = document.getElementById('toolbar');
    if (!bar) return;
    filterInput = el('input', { id: 'filter', type: 'search', placeholder: 'Filter',
                                'aria-label': 'Filter by name', title: 'Filter by name (/)',
                                autocomplete: 'off', spellcheck: 'false' });
    filterInput.addEventListener('input', applyFilter);
    filterInput.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && filterInput.value) {
        e.preventDefault();
        filterInput.value = '';
        applyFilter();
      } else if (e.key === 'ArrowDown') {
        const links = visibleLinks();
        if (links.length) { e.preventDefault(); links[0].focus(); }
      }
    });
    bar.appendChild(filterInput);
    if (!writable) return;

    const newFolder = el('button', { id: 'new-folder', type: 'button' }, 'New folder');
    newFolder.addEventListener('click', createFolder);
    const upload = el('button', { id: 'upload', type: 'button' }, 'Upload files');
    const uploadFolder = el('button', { id: 'upload-folder', type: 'button' }, 'Upload folder');
    uploadInput = el('input', { id: 'upload-input', type: 'file', multiple: '', hidden: '',
                                'aria-label': 'Files to upload' });
    uploadFolderInput = el('input', { id: 'upload-folder-input', type: 'file', multiple: '',
                                      webkitdirectory: '', hidden: '',
                                      'aria-label': 'Folder to upload' });
    upload.addEventListener('click', () => uploadInput.click());
    uploadFolder.addEventListener('click', () => uploadFolderInput.click());
    uploadInput.addEventListener('change', () => {
      const files = Array.from(uploadInput.files || []);
      uploadInput.value = '';
      startUploads({ dirs: [], files: files.map((file) => ({ file, path: [file.name] })) });
    });
    uploadFolderInput.addEventListener('change', () => {
      const files = Array.from(uploadFolderInput.files || []);
      uploadFolderInput.value = '';
      startUploads(planFromRelativePaths(files));
    });
    bar.append(newFolder, upload, uploadFolder, uploadInput, uploadFolderInput);
  }

  // ---------------------------------------------------------------- filter and sort

  function applyFilter() {
    const q = filterInput ? filterInput.value.toLowerCase() : '';
    const rows = entryRows();
    let shown = 0;
    for (const tr of rows) {
      const visible = !q || (tr.dataset.name || '').toLowerCase().includes(q);
      tr.hidden = !visible;
      if (visible) shown++;
    }
    if (summaryEl) {
      summaryEl.textContent = q ? shown + ' of ' + rows.length + ' shown' : baseSummary;
    }
  }

  // Intl.Collator with numeric: the comparison of localeCompare(b, undefined, {numeric: true}),
  // made once instead of once per comparison (10,000 rows take some 130,000).
  const collator = typeof Intl === 'object' && Intl.Collator
      ? new Intl.Collator(undefined, { numeric: true })
      : { compare: (a, b) => a.localeCompare(b, undefined, { numeric: true }) };

  function sortRows() {
    if (!sortKey) return;
    const tbody = table.tBodies[0];
    const numeric = sortKey === 'size' || sortKey === 'mtime';
    const keyed = entryRows().map((tr) => ({
      tr,
      folder: tr.dataset.kind === 'folder',
      name: tr.dataset.name || '',
      value: numeric ? Number(tr.dataset[sortKey]) || 0 : 0,
    }));
    keyed.sort((a, b) => {
      if (a.folder !== b.folder) return a.folder ? -1 : 1;  // folders first, either direction
      if (numeric && a.value !== b.value) return (a.value - b.value) * sortDir;
      // Equal sizes or times (all folders have size 0) go by name, ascending.
      return collator.compare(a.name, b.name) * (numeric ? 1 : sortDir);
    });
    // Moved out into a fragment and back in one insertion; the rows that are not entries (the
    // parent folder's) stay on top.
    const frag = document.createDocumentFragment();
    for (const k of keyed) frag.appendChild(k.tr);
    tbody.appendChild(frag);
  }

  function sortBy(th) {
    const key = th.dataset.sort;
    if (sortKey === key) {
      sortDir = -sortDir;
    } else {
      sortKey = key;
      sortDir = 1;
    }
    for (const h of table.querySelectorAll('th[data-sort]')) h.removeAttribute('aria-sort');
    th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
    sortRows();
  }

  function setUpSorting() {
    for (const th of table.querySelectorAll('th[data-sort]')) {
      th.tabIndex = 0;
      th.title = 'Sort by ' + th.textContent.trim().toLowerCase();
      th.addEventListener('click', () => sortBy(th));
      th.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          sortBy(th);
        }
      });
    }
  }

  // ---------------------------------------------------------------- row actions

  // The action elements, made once and cloned for each row (10,000 rows take 45,000 of them).
  const templates = {};
  function fromTemplate(cls, label, name) {
    if (!templates[cls]) {
      templates[cls] = cls === 'download' ? el('a', { class: 'download' }, label)
                                          : el('button', { type: 'button', class: cls }, label);
    }
    const e = templates[cls].cloneNode(true);
    e.setAttribute('aria-label', label + ' ' + name);
    return e;
  }

  // Local time and action buttons for one row (once).
  const decorated = new WeakSet();
  function decorateRow(tr) {
    if (decorated.has(tr) || !tr.classList.contains('entry')) return;
    decorated.add(tr);
    const td = cellOf(tr, 'actions');
    if (!td || td.childElementCount) return;
    const time = childOf(cellOf(tr, 'mtime'), 'time');
    if (time) localTime(time);
    const info = rowInfo(tr);
    const frag = document.createDocumentFragment();
    if (!info.isFolder) {
      const a = fromTemplate('download', 'Download', info.name);
      a.href = info.href;
      a.download = info.name;
      frag.appendChild(a);
    }
    if (canPreview && (info.kind === 'image' || info.kind === 'text')) {
      frag.appendChild(fromTemplate('preview', 'Preview', info.name));
    }
    if (writable) {
      frag.append(fromTemplate('rename', 'Rename', info.name),
                  fromTemplate('move', 'Move', info.name),
                  fromTemplate('delete', 'Delete', info.name));
    }
    td.appendChild(frag);
  }

  // While the page loads, rows are decorated in slices of some 30 ms once it has loaded (the
  // first slice, a screenful and more, a few ms after the load event), so that 10,000 rows do
  // not hold up the load event or the first paint: decorating even the first 200 before it
  // cost 100-200 ms there. A listing replaced later (a refresh) gets its first ROWS_AT_ONCE at
  // once, before keepdav-refreshed, and the rest in slices. A newer tbody stops the slices of
  // the older one.
  const ROWS_AT_ONCE = 200;
  let decorating = 0;

  function decorateRows(tbody) {
    const job = ++decorating;
    const rows = Array.from(tbody.rows);
    const now = document.readyState === 'complete' ? Math.min(rows.length, ROWS_AT_ONCE) : 0;
    for (let i = 0; i < now; i++) decorateRow(rows[i]);
    if (now === rows.length) return;
    let next = now;
    const slice = () => {
      if (job !== decorating) return;
      const until = performance.now() + 30;
      while (next < rows.length && performance.now() < until) decorateRow(rows[next++]);
      if (next < rows.length) setTimeout(slice, 0);
    };
    if (document.readyState === 'complete') setTimeout(slice, 0);
    else window.addEventListener('load', () => setTimeout(slice, 0), { once: true });
  }

  table.addEventListener('click', (e) => {
    const button = e.target.closest('td.actions button');
    if (!button) return;
    const tr = button.closest('tr.entry');
    if (!tr) return;
    if (button.classList.contains('preview')) preview(tr);
    else if (button.classList.contains('rename')) renameEntry(tr);
    else if (button.classList.contains('move')) moveEntry(tr);
    else if (button.classList.contains('delete')) deleteEntry(tr);
  });

  const MOVE_HINTS = { 409: 'the folder does not exist', 412: 'that name is taken' };

  async function renameEntry(tr) {
    if (!writable) return;
    const info = rowInfo(tr);
    const typed = prompt('New name', info.name);
    if (typed === null || typed === '' || typed === info.name) return;
    const bad = badName(typed);
    if (bad) { showError('Could not rename ' + info.name + ': ' + bad); return; }
    clearMessages();
    const dest = folder + encodeURIComponent(typed) + (info.isFolder ? '/' : '');
    const r = await dav('MOVE', info.href, { Destination: absolute(dest), Overwrite: 'F' });
    if (!r.ok) showError('Could not rename ' + info.name + ': ' + actionReason(r.status, MOVE_HINTS));
    else if (tr.contains(document.activeElement)) focusAfterRefresh = dest;
    await refresh();
  }

  // "/x/y/" as the user sees it (decoded, from their root) for a folder URL below home.
  function viewPathOf(url) {
    const segments = url.slice(home.length).split('/').filter(Boolean).map(safeDecode);
    return '/' + segments.map((s) => s + '/').join('');
  }

  // The URL of a folder typed as a path in the user's view ("/x/y", "/x/y/", or relative to
  // this folder, with "." and ".." resolved). Segments typed as the current folder's own ones
  // keep the server's encoding, so a folder whose name is not valid UTF-8 can still be named.
  function folderUrlFromView(text) {
    const current = folder.slice(home.length).split('/').filter(Boolean);
    const decoded = current.map(safeDecode);
    const segs = text.startsWith('/') ? [] : current.slice();
    for (const part of text.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') { segs.pop(); continue; }
      const i = segs.length;
      const onCurrentPath = i < current.length && segs.every((s, k) => s === current[k]);
      segs.push(onCurrentPath && decoded[i] === part ? current[i] : encodeURIComponent(part));
    }
    return home + segs.map((s) => s + '/').join('');
  }

  async function moveEntry(tr) {
    if (!writable) return;
    const info = rowInfo(tr);
    const typed = prompt('Move to folder', viewPathOf(folder));
    if (typed === null || !typed.trim()) return;
    const target = folderUrlFromView(typed.trim());
    const dest = target + lastSegment(info.href) + (info.isFolder ? '/' : '');
    if (dest === info.href) return;
    clearMessages();
    const r = await dav('MOVE', info.href, { Destination: absolute(dest), Overwrite: 'F' });
    if (!r.ok) showError('Could not move ' + info.name + ': ' + actionReason(r.status, MOVE_HINTS));
    await refresh();
  }

  // The first failure a 207 Multi-Status names (424, failed because another did, skipped).
  async function firstFailure(response) {
    let text = '';
    try { text = await response.text(); } catch (e) { return 0; }
    for (const m of text.matchAll(/HTTP\/\d(?:\.\d)?\s+(\d{3})/g)) {
      const code = Number(m[1]);
      if (code >= 400 && code !== 424) return code;
    }
    return 0;
  }

  async function deleteEntry(tr) {
    if (!writable) return;
    const info = rowInfo(tr);
    const question = info.isFolder ? 'Delete ' + info.name + ' and everything in it?'
                                   : 'Delete ' + info.name + '?';
    if (!confirm(question)) return;
    clearMessages();
    const r = await dav('DELETE', info.href, { Depth: 'infinity' });
    if (r.status === 207) {
      const code = await firstFailure(r);
      showError('Could not delete everything in ' + info.name +
                (code ? ': ' + reason(code) : ''));
    } else if (!r.ok) {
      showError('Could not delete ' + info.name + ': ' + reason(r.status));
    }
    await refresh();
  }

  async function createFolder() {
    if (!writable) return;
    const typed = prompt('New folder name');
    if (typed === null || typed === '') return;
    const bad = badName(typed);
    if (bad) { showError('Could not create folder ' + typed + ': ' + bad); return; }
    clearMessages();
    const r = await dav('MKCOL', folder + encodeURIComponent(typed) + '/');
    if (!r.ok) {
      showError('Could not create folder ' + typed + ': ' +
                actionReason(r.status, { 405: 'it exists already',
                                         409: 'this folder is gone' }));
    }
    await refresh();
  }

  // ---------------------------------------------------------------- preview

  let dialog = null;
  let dialogTitle = null;
  let dialogContent = null;
  let previewSeq = 0;

  function ensureDialog() {
    if (dialog) return;
    dialog = el('dialog', { id: 'preview', 'aria-labelledby': 'preview-title' });
    const head = el('div', { class: 'preview-head' });
    dialogTitle = el('h2', { id: 'preview-title' });
    const close = el('button', { id: 'preview-close', type: 'button' }, 'Close');
    close.addEventListener('click', () => dialog.close());
    head.append(dialogTitle, close);
    dialogContent = el('div', { class: 'preview-body' });
    dialog.append(head, dialogContent);
    dialog.addEventListener('close', () => {
      previewSeq++;                      // a text still loading is not shown any more
      dialogContent.replaceChildren();   // and an image stops loading
    });
    // A click on the backdrop (outside the dialog's box) closes it too.
    dialog.addEventListener('click', (e) => {
      if (e.target !== dialog) return;
      const r = dialog.getBoundingClientRect();
      if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) {
        dialog.close();
      }
    });
    body.appendChild(dialog);
  }

  async function preview(tr) {
    if (!canPreview) return;
    const info = rowInfo(tr);
    ensureDialog();
    const seq = ++previewSeq;
    dialogTitle.textContent = info.name;
    dialogContent.replaceChildren();
    if (info.kind === 'image') {
      dialogContent.appendChild(el('img', { src: info.href, alt: info.name }));
      if (!dialog.open) dialog.showModal();
      return;
    }
    const pre = el('pre', { tabindex: '0' }, 'Loading…');
    dialogContent.appendChild(pre);
    if (!dialog.open) dialog.showModal();
    const result = await readStart(info.href, PREVIEW_BYTES);
    if (seq !== previewSeq) return;
    if (result.error) {
      pre.textContent = 'Could not load ' + info.name + ': ' + reason(result.status);
      return;
    }
    pre.textContent = new TextDecoder('utf-8').decode(result.bytes);
    if (info.size > PREVIEW_BYTES) {
      dialogContent.appendChild(el('p', { class: 'preview-note' },
          'The first 256 KiB of ' + info.size.toLocaleString('en-US') + ' bytes.'));
    }
  }

  // The first `limit` bytes of a file: asked for with Range, and cut there if the server sends
  // more (a stream reader stops reading, so a big file is not downloaded whole).
  async function readStart(href, limit) {
    let r;
    try {
      r = await fetch(href, { headers: { Range: 'bytes=0-' + (limit - 1) },
                              credentials: 'same-origin', cache: 'no-store' });
    } catch (e) {
      return { error: true, status: 0 };
    }
    if (!r.ok) return { error: true, status: r.status };
    if (!r.body || !r.body.getReader) {
      return { bytes: new Uint8Array(await r.arrayBuffer()).slice(0, limit) };
    }
    const reader = r.body.getReader();
    const out = new Uint8Array(limit);
    let have = 0;
    try {
      while (have < limit) {
        const { done, value } = await reader.read();
        if (done) break;
        const n = Math.min(value.length, limit - have);
        out.set(value.subarray(0, n), have);
        have += n;
      }
      if (have >= limit) reader.cancel().catch(() => {});
    } catch (e) {
      if (!have) return { error: true, status: 0 };
    }
    return { bytes: out.subarray(0, have) };
  }

  // ---------------------------------------------------------------- keyboard

  function visibleLinks() {
    const links = [];
    for (const tr of table.tBodies[0].rows) {
      if (tr.hidden) continue;
      const a = childOf(cellOf(tr, 'name'), 'a');
      if (a) links.push(a);
    }
    return links;
  }

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    if (dialog && dialog.open) return;
    const t = e.target instanceof Element ? e.target : null;
    const typing = t && t.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]');
    if (typing) return;
    if (e.key === '/' && filterInput) {
      e.preventDefault();
      filterInput.focus();
      filterInput.select();
      return;
    }
    const row = t ? t.closest('#listing tbody tr') : null;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const links = visibleLinks();
      if (!links.length) return;
      let i = row ? links.findIndex((a) => a.closest('tr') === row) : -1;
      if (e.key === 'ArrowDown') {
        i = i < 0 ? 0 : Math.min(i + 1, links.length - 1);
      } else {
        if (i < 0) return;  // not in the listing: let the page scroll
        i = Math.max(i - 1, 0);
      }
      e.preventDefault();
      links[i].focus();
    } else if (e.key === 'Delete' && writable && row && row.classList.contains('entry')) {
      e.preventDefault();
      deleteEntry(row);
    } else if (e.key === 'F2' && writable && row && row.classList.contains('entry')) {
      e.preventDefault();
      renameEntry(row);
    }
    // Enter on a focused name link follows it: the browser does that.
  });

  // ---------------------------------------------------------------- refresh

  let refreshing = null;
  let refreshAgain = false;
  let focusAfterRefresh = null;  // the href of a row to focus once it is listed (a renamed one)

  // Fetches this folder's page again and puts its rows and summary in place of ours, keeping
  // the sort, the filter and (where the row is still there) the keyboard focus. Requests made
  // while one is running are folded into one more run after it.
  function refresh() {
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = (async () => {
      let replaced = false;
      do {
        refreshAgain = false;
        replaced = (await refreshOnce()) || replaced;
      } while (refreshAgain);
      refreshing = null;
      if (replaced) document.dispatchEvent(new CustomEvent('keepdav-refreshed'));
    })();
    return refreshing;
  }

  async function refreshOnce() {
    let r;
    try {
      r = await fetch(folder, { headers: { Accept: 'text/html' }, credentials: 'same-origin',
                                cache: 'no-store' });
    } catch (e) {
      showError('Could not refresh the listing: ' + reason(0));
      return false;
    }
    if (!r.ok) {
      showError('Could not refresh the listing: ' + reason(r.status));
      return false;
    }
    const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
    const fresh = doc.querySelector('#listing tbody');
    if (!fresh) return false;
    const focus = rememberFocus();
    const tbody = document.importNode(fresh, true);
    table.tBodies[0].replaceWith(tbody);
    const summary = doc.getElementById('summary');
    if (summary) baseSummary = summary.textContent;
    decorateRows(tbody);
    sortRows();
    applyFilter();
    restoreFocus(focus);
    return true;
  }

  function rememberFocus() {
    const active = document.activeElement;
    const row = active && active.closest ? active.closest('#listing tbody tr') : null;
    if (!row) return null;
    const links = visibleLinks();
    return { href: row.dataset.href || null, up: row.classList.contains('up'),
             index: links.findIndex((a) => a.closest('tr') === row) };
  }

  function restoreFocus(focus) {
    const wanted = focusAfterRefresh;
    focusAfterRefresh = null;
    if (!focus) return;
    const links = visibleLinks();
    let a = wanted ? links.find((l) => safeDecode(l.closest('tr').dataset.href || '') ===
                                       safeDecode(wanted)) : null;
    if (!a) a = links.find((l) => {
      const tr = l.closest('tr');
      return focus.up ? tr.classList.contains('up') : tr.dataset.href === focus.href;
    });
    if (!a && links.length) a = links[Math.max(0, Math.min(focus.index, links.length - 1))];
    if (a) a.focus();
  }

  // ---------------------------------------------------------------- uploads: what to send

  // A plan is {dirs: [[seg, ...], ...], files: [{file, path: [seg, ..., name]}]}, paths
  // relative to this folder, unencoded.

  function planFromRelativePaths(files) {
    const dirs = new Map();
    const out = [];
    for (const file of files) {
      const rel = (file.webkitRelativePath || file.name).split('/').filter(Boolean);
      for (let i = 1; i < rel.length; i++) {
        const d = rel.slice(0, i);
        dirs.set(d.join('/'), d);
      }
      out.push({ file, path: rel });
    }
    return { dirs: Array.from(dirs.values()), files: out };
  }

  // What was dropped: folders through webkitGetAsEntry (walked for their files and empty
  // folders), plain files otherwise. The items are only readable during the drop event, so
  // everything is taken from them before the first await.
  function readDrop(dt) {
    const taken = [];
    if (dt.items && dt.items.length) {
      for (const item of Array.from(dt.items)) {
        if (item.kind !== 'file') continue;
        const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
        taken.push(entry ? { entry } : { file: item.getAsFile() });
      }
    } else {
      for (const file of Array.from(dt.files || [])) taken.push({ file });
    }
    return (async () => {
      const plan = { dirs: [], files: [] };
      for (const t of taken) {
        if (t.entry) await walkEntry(t.entry, [], plan);
        else if (t.file) plan.files.push({ file: t.file, path: [t.file.name] });
      }
      return plan;
    })();
  }

  async function walkEntry(entry, parents, plan) {
    const path = parents.concat(entry.name);
    if (entry.isFile) {
      try {
        const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
        plan.files.push({ file, path });
      } catch (e) {
        showError('Could not read ' + path.join('/') + ' from the disk');
      }
      return;
    }
    if (!entry.isDirectory) return;
    plan.dirs.push(path);
    const reader = entry.createReader();
    for (;;) {
      let batch;
      try {
        batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
      } catch (e) {
        showError('Could not read the folder ' + path.join('/') + ' from the disk');
        return;
      }
      if (!batch.length) return;
      for (const child of batch) await walkEntry(child, path, plan);
    }
  }

  // ---------------------------------------------------------------- uploads: the panel

  let uploadsBox = null;
  let totalBar = null;
  let totalText = null;
  let runItems = [];       // the files of the current run, for the overall bar
  const queue = [];
  let running = 0;
  let runActive = false;
  let dirTasks = 0;
  let dirJobs = new Map(); // folder URL -> Promise<{ok, status, existed}>, for one run

  function ensureUploadsBox() {
    if (uploadsBox) return;
    uploadsBox = el('div', { id: 'uploads', role: 'region', 'aria-label': 'Uploads' });
    const head = el('div', { class: 'uploads-head' });
    const label = el('label', { for: 'upload-total' }, 'Uploads');
    totalBar = el('progress', { id: 'upload-total', max: '1', value: '0' });
    totalText = el('span', { class: 'total-status' });
    const clear = el('button', { id: 'uploads-clear', type: 'button' }, 'Clear finished');
    clear.addEventListener('click', () => {
      for (const div of uploadsBox.querySelectorAll('div.upload[data-state]')) div.remove();
      if (!uploadsBox.querySelector('div.upload')) {
        uploadsBox.remove();
        uploadsBox = null;
      }
    });
    head.append(label, totalBar, totalText, clear);
    uploadsBox.appendChild(head);
    table.parentNode.insertBefore(uploadsBox, table);
  }

  function makeItem(file, path) {
    ensureUploadsBox();
    const dirSegs = path.slice(0, -1);
    const dirUrl = folder + dirSegs.map((s) => encodeURIComponent(s) + '/').join('');
    const name = path.join('/');
    const item = {
      file, name, size: file.size, dirUrl, nested: dirSegs.length > 0,
      url: dirUrl + encodeURIComponent(path[path.length - 1]),
      partialUrl: null, loaded: 0, state: 'waiting', cancelled: false, finishing: false,
      xhr: null, cleanup: null,
    };
    item.div = el('div', { class: 'upload' });
    const nameEl = el('span', { class: 'name', title: name }, name);
    item.bar = el('progress', { 'aria-label': 'Upload of ' + name });
    if (item.size > 0) item.bar.max = item.size;
    item.bar.value = 0;
    item.status = el('span', { class: 'status' }, 'waiting');
    item.cancelBtn = el('button', { type: 'button', class: 'cancel',
                                    'aria-label': 'Cancel the upload of ' + name }, 'Cancel');
    item.cancelBtn.addEventListener('click', () => cancelItem(item));
    item.div.append(nameEl, item.bar, item.status, item.cancelBtn);
    uploadsBox.appendChild(item.div);
    return item;
  }

  function updateTotal() {
    if (!totalBar) return;
    let max = 0;
    let value = 0;
    let left = 0;
    for (const it of runItems) {
      max += it.size;
      value += it.state === 'waiting' || it.state === 'uploading' ? it.loaded : it.size;
      if (it.state === 'waiting' || it.state === 'uploading') left++;
    }
    totalBar.max = Math.max(max, 1);
    totalBar.value = max ? value : (left ? 0 : 1);
    totalText.textContent = left ? left + ' of ' + runItems.length + ' left'
                                 : runItems.length + (runItems.length === 1 ? ' file' : ' files');
  }

  function setLoaded(item, loaded) {
    item.loaded = loaded;
    item.bar.value = loaded;
    if (item.state === 'uploading' && !item.finishing && item.size) {
      item.status.textContent = Math.floor((loaded * 100) / item.size) + '%';
    }
    document.dispatchEvent(new CustomEvent('keepdav-upload-progress', {
      detail: { name: item.name, loaded, total: item.size } }));
    updateTotal();
  }

  function finish(item, state, text) {
    if (item.state === 'done' || item.state === 'failed' || item.state === 'cancelled') return;
    item.state = state;
    item.status.textContent = text;
    item.cancelBtn.hidden = true;
    if (state === 'done') {
      item.loaded = item.size;
      item.bar.value = item.size > 0 ? item.size : 1;
    }
    item.div.dataset.state = state;
    updateTotal();
  }

  function cancelItem(item) {
    if (item.finishing || item.state === 'done' || item.state === 'failed' ||
        item.state === 'cancelled') {
      return;
    }
    item.cancelled = true;
    finish(item, 'cancelled', 'cancelled');
    if (item.xhr) item.xhr.abort();
    if (item.partialUrl) item.cleanup = removePartial(item.partialUrl);
    schedule();
  }

  // DELETE of a NAME.partial, looked at again shortly after: an aborted request the server was
  // still finishing could otherwise leave it behind.
  async function removePartial(url) {
    await dav('DELETE', url);
    await sleep(300);
    const h = await dav('HEAD', url);
    if (h.ok) await dav('DELETE', url);
  }

  // ---------------------------------------------------------------- uploads: running them

  async function startUploads(planPromise) {
    if (!writable) return;
    const plan = await planPromise;
    if (!plan.files.length && !plan.dirs.length) return;

    // An upload onto an existing name asks first. Names in this folder are known from the
    // listing; files inside a folder that already existed are asked about when they come up.
    const existing = new Map(entryRows().map((tr) => [tr.dataset.name, tr.dataset.kind]));
    const files = plan.files.filter(({ path }) => {
      if (path.length !== 1) return true;
      const kind = existing.get(path[0]);
      return kind === undefined || kind === 'folder' || confirm('Replace ' + path[0] + '?');
    });
    if (!files.length && !plan.dirs.length) return;

    if (!runActive) {
      clearMessages();
      runActive = true;
      runItems = [];
      dirJobs = new Map();
    }
    ensureUploadsBox();
    const box = uploadsBox.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight) uploadsBox.scrollIntoView({ block: 'nearest' });
    for (const { file, path } of files) {
      const item = makeItem(file, path);
      runItems.push(item);
      queue.push(item);
    }
    updateTotal();
    // Folders with no files in them are made too.
    for (const d of plan.dirs) {
      dirTasks++;
      ensureDir(folder + d.map((s) => encodeURIComponent(s) + '/').join(''))
          .finally(() => { dirTasks--; schedule(); });
    }
    schedule();
  }

  function schedule() {
    while (running < PARALLEL_UPLOADS && queue.length) {
      const item = queue.shift();
      if (item.state !== 'waiting') continue;  // cancelled while waiting
      running++;
      uploadItem(item)
          .catch((e) => finish(item, 'failed', String(e && e.message ? e.message : e)))
          .finally(() => { running--; schedule(); });
    }
    if (runActive && running === 0 && queue.length === 0 && dirTasks === 0) {
      runActive = false;
      refresh();
    }
  }

  // Makes the folder at `url` (below this folder) and its parents, each once per run.
  function ensureDir(url) {
    if (url === folder || !url.startsWith(folder)) return Promise.resolve({ ok: true, existed: true });
    let job = dirJobs.get(url);
    if (!job) {
      const parent = url.slice(0, url.slice(0, -1).lastIndexOf('/') + 1);
      job = ensureDir(parent).then(async (p) => {
        if (!p.ok) return { ok: false, status: p.status, inherited: true };
        const r = await dav('MKCOL', url);
        if (r.status === 201) return { ok: true, existed: false };
        if (r.status === 405) return { ok: true, existed: true };  // it is there already
        showError('Could not create folder ' + viewPathOf(url) + ': ' + reason(r.status));
        return { ok: false, status: r.status };
      });
      dirJobs.set(url, job);
    }
    return job;
  }

  async function uploadItem(item) {
    item.state = 'uploading';
    item.status.textContent = 'starting';
    const dir = await ensureDir(item.dirUrl);
    if (item.cancelled) return;
    if (!dir.ok) { finish(item, 'failed', reason(dir.status)); return; }
    if (item.nested && dir.existed) {
      const h = await dav('HEAD', item.url);
      if (item.cancelled) return;
      if (h.ok && !confirm('Replace ' + item.name + '?')) {
        finish(item, 'cancelled', 'not replaced');
        return;
      }
    }
    setLoaded(item, 0);
    const status = partialUploads && item.size > PIECE ? await sendInPieces(item)
                                                        : await sendWhole(item);
    if (item.cancelled) {
      if (item.cleanup) await item.cleanup;
      return;
    }
    if (status >= 200 && status < 300) {
      finish(item, 'done', 'done');
    } else {
      finish(item, 'failed', reason(status));
      if (item.partialUrl) await dav('DELETE', item.partialUrl);  // it will not be resumed
    }
  }

  // One request with XMLHttpRequest, for its upload progress events. Resolves to {status};
  // status 0 when the connection failed or the request was aborted.
  function send(item, method, url, data, headers, base) {
    return new Promise((resolve) => {
      const x = new XMLHttpRequest();
      item.xhr = x;
      x.open(method, url);
      for (const k of Object.keys(headers)) x.setRequestHeader(k, headers[k]);
      x.upload.onprogress = (e) => { if (!item.cancelled) setLoaded(item, base + e.loaded); };
      x.onload = () => resolve({ status: x.status });
      x.onerror = x.ontimeout = x.onabort = () => resolve({ status: 0 });
      x.send(data);
    }).finally(() => { item.xhr = null; });
  }

  function backoff(tries) { return Math.min(500 * 2 ** (tries - 1), 8000); }

  // A file of at most 8 MiB (or any file when partial uploads are off): one PUT, sent again
  // if the connection drops.
  async function sendWhole(item) {
    for (let tries = 1; ; tries++) {
      const r = await send(item, 'PUT', item.url, item.file, {}, 0);
      if (item.cancelled) return 0;
      if (!RETRY_STATUSES.has(r.status) || tries >= MAX_TRIES) return r.status;
      setLoaded(item, 0);
      item.status.textContent = 'connection lost, trying again (' + (tries + 1) + ' of ' +
                                MAX_TRIES + ')';
      await sleep(backoff(tries));
      if (item.cancelled) return 0;
    }
  }

  // A bigger file: 8 MiB pieces into the visible NAME.partial (PUT, then PATCH with
  // X-Update-Range, https://sabre.io/dav/http-patch/), resumed from what a HEAD says arrived
  // after a dropped connection, and finally MOVEd onto NAME, so NAME stays as it was until
  // the upload is whole. No If-Match on the pieces: Chromium itself resends a request whose
  // reused connection closed before any answer, and a PATCH it resent after the first one
  // had arrived would fail a precondition although its bytes are the same.
  async function sendInPieces(item) {
    const size = item.size;
    const partialUrl = item.url + '.partial';
    item.partialUrl = partialUrl;
    let offset = 0;
    let tries = 0;
    while (offset < size) {
      const end = Math.min(offset + PIECE, size);
      const headers = {};
      let method = 'PUT';
      if (offset > 0) {
        method = 'PATCH';
        headers['Content-Type'] = 'application/x-sabredav-partialupdate';
        headers['X-Update-Range'] = 'bytes=' + offset + '-' + (end - 1);
      }
      const r = await send(item, method, partialUrl, item.file.slice(offset, end), headers, offset);
      if (item.cancelled) return 0;
      if (r.status >= 200 && r.status < 300) {
        offset = end;
        tries = 0;
        setLoaded(item, offset);
        continue;
      }
      tries++;
      if (!RETRY_STATUSES.has(r.status) || tries >= MAX_TRIES) return r.status;
      setLoaded(item, offset);
      item.status.textContent = 'connection lost, resuming (' + (tries + 1) + ' of ' +
                                MAX_TRIES + ')';
      await sleep(backoff(tries));
      if (item.cancelled) return 0;
      const h = await dav('HEAD', partialUrl);
      if (item.cancelled) return 0;
      const before = offset;
      if (h.status === 404) {
        offset = 0;                       // nothing arrived: start again with a PUT
      } else if (h.ok) {
        const length = h.headers.get('Content-Length');
        const arrived = length === null ? NaN : Number(length);
        if (Number.isInteger(arrived) && arrived >= 0 && arrived <= size) {
          offset = arrived;
        }
      }
      // else the HEAD failed too: the same piece again (a PATCH of a range is idempotent).
      if (offset > before) tries = 0;  // the piece did arrive, only its answer was lost
      setLoaded(item, offset);
    }
    // Everything is there: NAME.partial replaces NAME. Not cancellable any more.
    item.finishing = true;
    item.cancelBtn.disabled = true;
    item.status.textContent = 'finishing';
    for (let t = 1; ; t++) {
      const m = await dav('MOVE', partialUrl, { Destination: absolute(item.url), Overwrite: 'T' });
      if (m.status === 404 && t > 1) {
        // An earlier MOVE whose answer was lost may have done it.
        const h = await dav('HEAD', item.url);
        if (h.ok && Number(h.headers.get('Content-Length')) === size) return 204;
      }
      if (!RETRY_STATUSES.has(m.status) || t >= MAX_TRIES) return m.status;
      await sleep(backoff(t));
    }
  }

  // ---------------------------------------------------------------- drag and drop

  let dragDepth = 0;

  function carriesFiles(e) {
    const types = e.dataTransfer && e.dataTransfer.types;
    return !!types && Array.from(types).includes('Files');
  }

  function endDrag() {
    dragDepth = 0;
    body.classList.remove('dragging');
  }

  document.addEventListener('dragenter', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    if (!writable) return;
    dragDepth++;
    body.classList.add('dragging');
  });
  document.addEventListener('dragover', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();  // also on a read-only page: a drop must not open the file instead
    e.dataTransfer.dropEffect = writable ? 'copy' : 'none';
    if (writable) body.classList.add('dragging');
  });
  document.addEventListener('dragleave', (e) => {
    if (!carriesFiles(e)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0 || !e.relatedTarget) endDrag();
  });
  document.addEventListener('dragend', endDrag);
  document.addEventListener('drop', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    endDrag();
    if (writable) startUploads(readDrop(e.dataTransfer));
  });

  // ---------------------------------------------------------------- start

  buildToolbar();
  setUpSorting();
  decorateRows(table.tBodies[0]);
})();
