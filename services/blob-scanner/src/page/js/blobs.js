// The blobs view (Blob → Data Explorer): counts per status, the table with filters and pages, live rows.
import { access, api } from './api.js';
import { $, el, replaceIfChanged, report, showBanner, statusBadge, time, wirePager } from './dom.js';

const STATUSES = ['queued', 'ingesting', 'succeeded', 'failed', 'skipped', 'unknown', 'new'];
/** Attempts mean something only while a blob can still be (re)tried. */
const ATTEMPTED = new Set(['queued', 'ingesting', 'failed', 'unknown']);
const COLUMNS = 7;

const state = {
  filter: { status: '', prefix: '', pageSize: 50 },
  /** Continuation tokens of the pages before the current one; the current page's token is last. */
  tokens: [undefined],
  next: null,
  rows: new Map(),
  refreshTimer: null,
  counts: null,
  /** Bumped by every read of the table; a read answered after a newer one started is dropped. */
  viewSeq: 0,
  viewRefreshing: false,
  /** The last periodic refresh failed (its banner is cleared by the next one that succeeds). */
  refreshFailed: false,
};

export function renderCounts(counts) {
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

export function countsChanged(counts) {
  return JSON.stringify(counts) !== JSON.stringify(state.counts);
}

export async function loadCounts() {
  const { body } = await api('/counts');
  $('container-name').textContent = body.container;
  renderCounts(body.counts);
}

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
  return el('td', { class: 'details-cell', 'data-label': 'Details' }, details);
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

function attempts(row) {
  if (!ATTEMPTED.has(row.status)) return el('span', { class: 'muted', text: '—', title: `${row.attempts} attempt(s)` });
  return `${row.attempts}${row.maxAttempts ? ` / ${row.maxAttempts}` : ''}`;
}

function renderRow(row) {
  const cell = (label, ...content) => el('td', { 'data-label': label }, ...content);
  return el(
    'tr',
    { 'data-name': row.blobName, 'data-status': row.status },
    el(
      'td',
      { class: 'name', 'data-label': 'Name' },
      el('span', { class: 'blob-name', text: row.blobName, title: row.blobName }),
    ),
    cell('Status', statusBadge(row.status)),
    el('td', { class: 'num', 'data-label': 'Attempts' }, attempts(row)),
    cell('Target table', row.table ? el('code', { text: row.table }) : el('span', { class: 'muted', text: '—' })),
    cell('Queued', time(row.queuedAt)),
    cell('Finished', time(row.finishedAt)),
    detailsCell(row),
  );
}

/** A row's content as the table shows it (history, present in live events only, is loaded on demand). */
const rowKey = (row) => JSON.stringify({ ...row, history: undefined });
const shownRow = (name) => [...$('blob-rows').children].find((tr) => tr.dataset.name === name);

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
      tbody.replaceChildren(el('tr', {}, el('td', { colSpan: COLUMNS, class: 'empty', text: 'No blobs match.' })));
    }
  } else {
    const current = new Map([...tbody.children].filter((tr) => tr.dataset.name).map((tr) => [tr.dataset.name, tr]));
    const next = rows.map((row) => {
      const tr = current.get(row.blobName);
      const old = before.get(row.blobName);
      if (tr && old && rowKey(old) === rowKey(row)) return tr;
      return tr ? redrawRow(row, tr) : renderRow(row);
    });
    replaceIfChanged(tbody, next);
  }
  const page = state.tokens.length;
  $('page-number').textContent = `Page ${page}`;
  $('prev-page').disabled = page <= 1;
  $('next-page').disabled = !state.next;
  $('table-status').textContent = `${rows.length} blob${rows.length === 1 ? '' : 's'} shown`;
}

export async function loadPage() {
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
export async function refreshView(streamLive) {
  if (state.viewRefreshing || access.denied || document.hidden) return;
  state.viewRefreshing = true;
  try {
    await loadPage();
    if (!streamLive) await loadCounts();
    if (state.refreshFailed) showBanner('');
    state.refreshFailed = false;
  } catch (err) {
    state.refreshFailed = true;
    report(err);
  } finally {
    state.viewRefreshing = false;
  }
}

export function refreshSoon() {
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

const matchesFilter = (name, status) =>
  (!state.filter.status || state.filter.status === status) && name.startsWith(state.filter.prefix);

export function onBlobEvent(event) {
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

export function initBlobs() {
  $('filter-form').addEventListener('submit', (e) => {
    e.preventDefault();
    applyFilters();
  });
  $('filter-status').addEventListener('change', applyFilters);
  $('filter-size').addEventListener('change', applyFilters);
  wirePager('prev-page', 'next-page', state, loadPage);
}
