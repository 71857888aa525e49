// Status page for blob-scanner: plain DOM, no framework, no build. Data is only ever inserted as text.

const STATUSES = ['queued', 'ingesting', 'succeeded', 'failed', 'skipped', 'unknown', 'new'];
const KEY_STORAGE = 'logferry.accessKey';
/**
 * How often the rows on display are read again. Live events only reach pages of the replica that consumed
 * them (`ingestion-results` is one subscription shared by all replicas) and some changes publish nothing
 * (`ingesting`), so the page re-reads its current view rather than trusting the stream to be complete.
 */
const VIEW_REFRESH_MS = 5000;
/** How often the "Sinks (local stand-ins)" panel reads the stand-ins' counts again (local runs only). */
const SINKS_REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);

const state = {
  filter: { status: '', prefix: '', pageSize: 50 },
  /** Continuation tokens of the pages before the current one; the current page's token is last. */
  tokens: [undefined],
  next: null,
  rows: new Map(),
  scanId: null,
  refreshTimer: null,
  counts: null,
  /** Bumped by every read of the table; a read answered after a newer one started is dropped. */
  viewSeq: 0,
  viewRefreshing: false,
  /** The last periodic refresh failed (its banner is cleared by the next one that succeeds). */
  refreshFailed: false,
  /** The API refused our credentials: no periodic reads until a key is saved or the stream is back. */
  denied: false,
  /** Periodic reads of GET /local/sinks, only while the server says it has local stand-ins. */
  sinksTimer: null,
  sinksReading: false,
};

// ---- credentials -------------------------------------------------------------------------------

function authHeaders() {
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (!key) return {};
  // A pasted Entra token goes as a bearer token, anything else as the API key.
  if (/^bearer\s+/i.test(key)) return { Authorization: `Bearer ${key.replace(/^bearer\s+/i, '')}` };
  return { 'X-Api-Key': key };
}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...authHeaders(), ...(init.headers || {}) } });
  if (res.status === 401 || res.status === 403) {
    if (!state.denied) {
      showBanner('Access denied. Enter an API key or a bearer token under “Access key”.');
      $('access').open = true;
    }
    state.denied = true;
    throw new Error(`HTTP ${res.status}`);
  }
  state.denied = false;
  const body = res.headers.get('content-type')?.includes('application/json') ? await res.json() : null;
  if (!res.ok && res.status !== 409) throw new Error(body?.error ? `${body.error}` : `HTTP ${res.status}`);
  return { status: res.status, body };
}

function showBanner(text) {
  const banner = $('banner');
  banner.textContent = text;
  banner.hidden = !text;
}

// ---- formatting --------------------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.includes('-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function time(iso) {
  if (!iso) return el('span', { class: 'muted', text: '—' });
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  const text = sameDay
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
  return el('time', { dateTime: iso, title: d.toISOString(), text });
}

function statusBadge(status) {
  return el('span', { class: `badge status-${status}`, text: status });
}

// ---- counts ------------------------------------------------------------------------------------

function renderCounts(counts) {
  state.counts = counts;
  const list = $('counts');
  list.replaceChildren();
  const total = STATUSES.reduce((n, s) => n + (counts[s] || 0), 0);
  const chip = (label, value, status) => {
    const pressed = state.filter.status === status;
    const button = el(
      'button',
      { type: 'button', class: `chip${status ? ` chip-${status}` : ''}`, 'data-status': status },
      el('span', { class: 'chip-label', text: label }),
      el('span', { class: 'chip-value', text: String(value) }),
    );
    button.setAttribute('aria-pressed', String(pressed));
    button.addEventListener('click', () => {
      $('filter-status').value = pressed ? '' : status;
      applyFilters();
    });
    return el('li', {}, button);
  };
  list.append(chip('All', total, ''));
  for (const s of STATUSES) if (s !== 'new' || counts[s]) list.append(chip(s, counts[s] || 0, s));
}

async function loadCounts() {
  const { body } = await api('/counts');
  $('container-name').textContent = body.container;
  renderCounts(body.counts);
}

// ---- table -------------------------------------------------------------------------------------

function detailsCell(row) {
  const problem = row.status === 'failed' || row.status === 'unknown';
  let summaryText = 'History';
  if (problem) summaryText = [row.errorCode, row.failureStatus].filter(Boolean).join(' · ') || 'Error details';
  else if (row.lastError) summaryText = 'Reason';
  const details = el('details', { class: problem ? 'details problem' : 'details' });
  const summary = el('summary', { class: 'details-toggle', text: summaryText });
  const body = el('div', { class: 'details-body' });
  if (row.lastError) body.append(el('p', { class: 'error-text', text: row.lastError }));
  const meta = el('dl', { class: 'meta' });
  const add = (k, v) =>
    v !== undefined && v !== null && v !== '' && meta.append(el('dt', { text: k }), el('dd', { text: String(v) }));
  add('Size', `${Number(row.size).toLocaleString()} bytes`);
  add('ETag', row.etag);
  add('Source id', row.sourceId);
  add('Format', row.format);
  add('Mapping', row.mapping);
  add('Scan', row.scanId);
  body.append(meta);
  const history = el('ol', { class: 'history' }, el('li', { class: 'muted', text: 'Loading history…' }));
  body.append(history);
  details.append(summary, body);
  details.addEventListener('toggle', () => {
    if (details.open) loadHistory(row.blobName, history);
  });
  return el('td', {}, details);
}

async function loadHistory(name, list) {
  try {
    const { body } = await api(`/blobs/${encodeURIComponent(name)}`);
    list.replaceChildren(
      ...body.history
        .slice()
        .reverse()
        .map((h) => el('li', {}, time(h.at), ' ', statusBadge(h.status), h.reason ? ` ${h.reason}` : '')),
    );
  } catch (err) {
    list.replaceChildren(el('li', { class: 'muted', text: `History unavailable: ${err.message}` }));
  }
}

function renderRow(row) {
  const tr = el(
    'tr',
    { 'data-name': row.blobName, 'data-status': row.status },
    el('td', { class: 'name' }, el('span', { class: 'blob-name', text: row.blobName, title: row.blobName })),
    el('td', {}, statusBadge(row.status)),
    el('td', { class: 'num', text: `${row.attempts}${row.maxAttempts ? ` / ${row.maxAttempts}` : ''}` }),
    el('td', {}, row.table ? el('code', { text: row.table }) : el('span', { class: 'muted', text: '—' })),
    el('td', {}, time(row.queuedAt)),
    el('td', {}, time(row.finishedAt)),
    detailsCell(row),
  );
  return tr;
}

/** A row's content as the table shows it (history, present in live events only, is loaded on demand). */
function rowKey(row) {
  return JSON.stringify({ ...row, history: undefined });
}

function shownRow(name) {
  return [...$('blob-rows').children].find((tr) => tr.dataset.name === name);
}

/** The row drawn anew, highlighted, with its details still open if they were (which reloads the history). */
function redrawRow(row, old) {
  const fresh = renderRow(row);
  fresh.classList.add('flash');
  if (old?.querySelector('details')?.open) fresh.querySelector('details').open = true;
  return fresh;
}

/** Shows `rows`, keeping the elements of rows that did not change (no flicker, open details stay open). */
function renderTable(rows) {
  const before = state.rows;
  state.rows = new Map(rows.map((r) => [r.blobName, r]));
  const tbody = $('blob-rows');
  if (rows.length === 0) {
    if (!tbody.querySelector('td.empty')) {
      tbody.replaceChildren(el('tr', {}, el('td', { colSpan: 7, class: 'empty', text: 'No blobs match.' })));
    }
  } else {
    const current = new Map([...tbody.children].filter((tr) => tr.dataset.name).map((tr) => [tr.dataset.name, tr]));
    const next = rows.map((row) => {
      const tr = current.get(row.blobName);
      const old = before.get(row.blobName);
      if (tr && old && rowKey(old) === rowKey(row)) return tr;
      return tr ? redrawRow(row, tr) : renderRow(row);
    });
    const same = next.length === tbody.children.length && next.every((tr, i) => tbody.children[i] === tr);
    if (!same) tbody.replaceChildren(...next);
  }
  const page = state.tokens.length;
  $('page-number').textContent = `Page ${page}`;
  $('prev-page').disabled = page <= 1;
  $('next-page').disabled = !state.next;
  $('table-status').textContent = `${rows.length} blob${rows.length === 1 ? '' : 's'} shown`;
}

async function loadPage() {
  const q = new URLSearchParams();
  const { status, prefix, pageSize } = state.filter;
  if (status) q.set('status', status);
  if (prefix) q.set('prefix', prefix);
  q.set('pageSize', String(pageSize));
  const token = state.tokens[state.tokens.length - 1];
  if (token) q.set('continuationToken', token);
  const seq = ++state.viewSeq;
  const { body } = await api(`/blobs?${q}`);
  // Another filter, page or refresh was asked for meanwhile: its answer is the one to show.
  if (seq !== state.viewSeq) return;
  state.next = body.continuationToken;
  renderTable(body.items);
}

/**
 * Reads the rows on display again (same filter, same page), and the counts while the event stream is down
 * (when it is up the server pushes them). One read at a time; none while the tab is hidden or access denied.
 */
async function refreshView() {
  if (state.viewRefreshing || state.denied || document.hidden) return;
  state.viewRefreshing = true;
  try {
    await loadPage();
    if ($('live').dataset.state !== 'live') await loadCounts();
    if (state.refreshFailed) showBanner('');
    state.refreshFailed = false;
  } catch (err) {
    state.refreshFailed = true;
    report(err);
  } finally {
    state.viewRefreshing = false;
  }
}

function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => loadPage().catch(report), 400);
}

function applyFilters() {
  state.filter = {
    status: $('filter-status').value,
    prefix: $('filter-prefix').value,
    pageSize: Number($('filter-size').value),
  };
  state.tokens = [undefined];
  loadPage().catch(report);
  if (state.counts) renderCounts(state.counts);
}

function matchesFilter(name, status) {
  return (!state.filter.status || state.filter.status === status) && name.startsWith(state.filter.prefix);
}

function onBlobEvent(event) {
  const shown = state.rows.has(event.blobName);
  if (shown && event.row && matchesFilter(event.blobName, event.row.status)) {
    const old = shownRow(event.blobName);
    const same = rowKey(state.rows.get(event.blobName)) === rowKey(event.row);
    state.rows.set(event.blobName, event.row);
    if (old && !same) old.replaceWith(redrawRow(event.row, old));
  } else if (shown || matchesFilter(event.blobName, event.status)) {
    refreshSoon();
  }
}

// ---- scans -------------------------------------------------------------------------------------

function renderScan(scan) {
  const box = $('scan-progress');
  const c = scan.counts;
  const running = scan.state === 'running';
  const title = running ? 'Scan running' : scan.state === 'completed' ? 'Scan completed' : 'Scan failed';
  const parts = [
    ['listed', c.listed],
    ['queued', c.queued],
    ['unchanged', c.unchanged],
    ['skipped', c.skipped],
    ['lost race', c.lostRace],
    ['failed', c.failed],
  ];
  box.replaceChildren(
    el(
      'div',
      { class: `scan-status scan-${scan.state}` },
      running ? el('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
      el('strong', { text: title }),
      el('span', { class: 'muted', text: ` ${scan.scanId}${scan.prefix ? ` · prefix “${scan.prefix}”` : ''}` }),
    ),
    el('ul', { class: 'scan-counts' }, ...parts.map(([k, v]) => el('li', {}, el('b', { text: String(v) }), ` ${k}`))),
    ...(scan.error ? [el('p', { class: 'error-text', text: scan.error })] : []),
  );
  $('scan-button').disabled = running;
  $('scan-button').textContent = running ? 'Scanning…' : 'Scan now';
}

async function startScan(event) {
  event.preventDefault();
  const prefix = $('scan-prefix').value;
  $('scan-button').disabled = true;
  try {
    const { status, body } = await api('/scans', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(prefix ? { prefix } : {}),
    });
    state.scanId = status === 409 ? body.details?.scanId : body.scanId;
    if (status === 409) showBanner('Another scan is running on this server; following it.');
    const scan = await api(`/scans/${state.scanId}`);
    renderScan(scan.body);
  } catch (err) {
    report(err);
    $('scan-button').disabled = false;
  }
}

// ---- sinks (local runs only) ---------------------------------------------------------------------
// The event stream's `ready` says whether this server has local stand-ins (`localSinks`); only then is
// GET /local/sinks read, and the panel shown once it answers 200. A 404 hides it and stops the reads.

async function loadSinks() {
  if (state.sinksTimer === null || state.sinksReading || state.denied || document.hidden) return;
  state.sinksReading = true;
  try {
    const res = await fetch('/local/sinks', { headers: authHeaders() });
    if (res.status === 404) {
      stopSinks();
      return;
    }
    // 401/403: the other reads show the access banner; anything else: the panel says it is not current.
    if (!res.ok) {
      if (!$('sinks').hidden) $('sinks-updated').textContent = `Not updated: HTTP ${res.status}`;
      return;
    }
    const body = await res.json();
    if (state.sinksTimer !== null) renderSinks(body);
  } catch {
    if (!$('sinks').hidden) $('sinks-updated').textContent = 'Not updated: server not answering';
  } finally {
    state.sinksReading = false;
  }
}

function stopSinks() {
  clearInterval(state.sinksTimer);
  state.sinksTimer = null;
  $('sinks').hidden = true;
}

function renderSinks(body) {
  renderSink($('sinks-la-rows'), body.logAnalytics, body.errors?.logAnalytics, 'stream', 'records', 'No records yet.');
  renderSink($('sinks-adx-rows'), body.adx, body.errors?.adx, 'table', 'rows', 'No tables yet.');
  const now = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  $('sinks-updated').textContent = `Updated ${now}`;
  $('sinks').hidden = false;
}

/** One stand-in's list (name → count), keeping the rows whose count did not change; changed ones flash. */
function renderSink(tbody, items, error, nameKey, countKey, emptyText) {
  if (!Array.isArray(items) || items.length === 0) {
    let text = emptyText;
    if (!Array.isArray(items)) text = error ? `Unavailable: ${error}` : 'Not configured in this run.';
    const cls = error ? 'empty unavailable' : 'empty';
    const shown = tbody.children.length === 1 ? tbody.querySelector('td.empty') : null;
    if (shown?.textContent !== text || shown.className !== cls) {
      tbody.replaceChildren(el('tr', {}, el('td', { colSpan: 2, class: cls, text })));
    }
    return;
  }
  const current = new Map([...tbody.children].filter((tr) => tr.dataset.name).map((tr) => [tr.dataset.name, tr]));
  const next = items.map((item) => {
    const name = String(item[nameKey]);
    const count = String(item[countKey]);
    const tr = current.get(name);
    if (tr && tr.dataset.count === count) return tr;
    const fresh = el(
      'tr',
      { 'data-name': name, 'data-count': count },
      el('td', { text: name }),
      el('td', { class: 'num', text: Number(count).toLocaleString() }),
    );
    if (tr) fresh.classList.add('flash');
    return fresh;
  });
  const same = next.length === tbody.children.length && next.every((tr, i) => tbody.children[i] === tr);
  if (!same) tbody.replaceChildren(...next);
}

function startSinks() {
  state.sinksTimer ??= setInterval(loadSinks, SINKS_REFRESH_MS);
  loadSinks();
}

// ---- live events -------------------------------------------------------------------------------
// EventSource cannot send an Authorization or X-Api-Key header, so the stream is read with fetch.

async function listen() {
  const live = $('live');
  for (let delay = 1000; ; delay = Math.min(delay * 2, 15000)) {
    try {
      const res = await fetch('/events', { headers: { ...authHeaders(), Accept: 'text/event-stream' } });
      if (res.status === 401 || res.status === 403) {
        live.dataset.state = 'offline';
        live.textContent = 'Not signed in';
        showBanner('Access denied. Enter an API key or a bearer token under “Access key”.');
        $('access').open = true;
        await waitForKey();
        continue;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      delay = 1000;
      await readStream(res.body, () => {
        live.dataset.state = 'live';
        live.textContent = 'Live';
      });
    } catch {
      /* reconnect below */
    }
    live.dataset.state = 'offline';
    live.textContent = 'Reconnecting…';
    await new Promise((r) => setTimeout(r, delay));
  }
}

let keyChanged = () => {};
function waitForKey() {
  return new Promise((resolve) => {
    keyChanged = resolve;
  });
}

async function readStream(body, onReady) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      let type = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) type = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      if (!data) continue;
      dispatch(type, JSON.parse(data), onReady);
    }
  }
}

function dispatch(type, event, onReady) {
  if (type === 'ready') {
    onReady();
    showBanner('');
    if (event.localSinks) startSinks();
    else if (state.sinksTimer !== null) stopSinks();
    loadCounts().catch(report);
    loadPage().catch(report);
  } else if (type === 'counts') {
    const changed = JSON.stringify(event.counts) !== JSON.stringify(state.counts);
    renderCounts(event.counts);
    // Changes made elsewhere (another replica, the ingester) surface only as new counts.
    if (changed) refreshSoon();
  } else if (type === 'blob') {
    onBlobEvent(event);
  } else if (type === 'scan') {
    if (!state.scanId || state.scanId === event.scan.scanId || event.scan.state === 'running') {
      state.scanId = event.scan.scanId;
      renderScan(event.scan);
    }
  }
}

function report(err) {
  if (!/HTTP 40[13]/.test(err.message)) showBanner(`Something went wrong: ${err.message}`);
}

// ---- wiring ------------------------------------------------------------------------------------

function init() {
  $('scan-form').addEventListener('submit', startScan);
  $('filter-form').addEventListener('submit', (e) => {
    e.preventDefault();
    applyFilters();
  });
  $('filter-status').addEventListener('change', applyFilters);
  $('filter-size').addEventListener('change', applyFilters);
  $('next-page').addEventListener('click', () => {
    if (!state.next) return;
    state.tokens.push(state.next);
    loadPage().catch(report);
  });
  $('prev-page').addEventListener('click', () => {
    if (state.tokens.length <= 1) return;
    state.tokens.pop();
    loadPage().catch(report);
  });
  $('key-input').value = sessionStorage.getItem(KEY_STORAGE) || '';
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('key-input').value.trim();
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
    $('access').open = false;
    showBanner('');
    state.denied = false;
    keyChanged();
    loadCounts().catch(report);
    loadPage().catch(report);
    loadSinks();
  });
  $('key-clear').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORAGE);
    $('key-input').value = '';
  });
  listen();
  setInterval(refreshView, VIEW_REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    refreshView();
    loadSinks();
  });
}

init();
