// The S3 objects view (S3 → Log Analytics): every object s3-fetcher saw, with its status, records, bad lines,
// batches and stream; filters and pages like the blobs view; a dead-lettered object links to its dead letter.
import { access, api } from './api.js';
import { $, el, replaceIfChanged, report, statusBadge, time, wirePager } from './dom.js';

const COLUMNS = 7;
const state = {
  filter: { status: '', prefix: '', pageSize: 50 },
  tokens: [undefined],
  next: null,
  seq: 0,
  keys: new Map(),
};
let openDeadLetter = () => {};

const num = (n) => (n === undefined || n === null ? '—' : Number(n).toLocaleString());

function renderRow(o) {
  const details = el('details', { class: o.status === 'dead-lettered' ? 'details problem' : 'details' });
  details.append(el('summary', { class: 'details-toggle', text: o.reason || 'Details' }));
  const body = el('div', { class: 'details-body' });
  if (o.description) body.append(el('p', { class: 'error-text', text: o.description }));
  if (o.status === 'dead-lettered') {
    const link = el('button', { type: 'button', class: 'link', text: 'Show its dead letter' });
    link.addEventListener('click', () => openDeadLetter(o.objectId));
    body.append(el('p', {}, link));
  }
  const meta = el('dl', { class: 'meta' });
  const add = (k, v) =>
    v !== undefined && v !== null && v !== '' && meta.append(el('dt', { text: k }), el('dd', { text: String(v) }));
  add('Source', o.source);
  add('Attempts', o.attempts);
  add('Bad records', o.badRecords);
  add('Dropped (too large)', o.droppedRecords);
  add('Bytes staged', o.rawBytes === undefined ? undefined : num(o.rawBytes));
  add('Records uploaded', o.recordsUploaded);
  body.append(meta);
  if (o.badSamples?.length) {
    body.append(
      el('h4', { class: 'small', text: 'Bad lines (samples)' }),
      el(
        'ul',
        { class: 'samples' },
        ...o.badSamples.map((s) => el('li', {}, el('code', { text: `#${s.position} ${s.reason}` }), ` ${s.detail}`)),
      ),
    );
  }
  if (o.history?.length) {
    body.append(
      el(
        'ol',
        { class: 'history' },
        ...o.history
          .slice()
          .reverse()
          .map((h) => el('li', {}, time(h.at), ' ', statusBadge(h.status), h.detail ? ` ${h.detail}` : '')),
      ),
    );
  }
  details.append(body);
  const cell = (label, ...c) => el('td', { 'data-label': label }, ...c);
  return el(
    'tr',
    { 'data-object': o.objectId, 'data-status': o.status },
    el(
      'td',
      { class: 'name', 'data-label': 'Object' },
      el('span', { class: 'blob-name', text: o.objectId, title: o.objectId }),
    ),
    cell('Status', statusBadge(o.status)),
    el(
      'td',
      { class: 'num', 'data-label': 'Records' },
      num(o.recordCount),
      o.badRecords ? el('span', { class: 'bad-count', text: ` (${o.badRecords} bad)` }) : null,
    ),
    el(
      'td',
      { class: 'num', 'data-label': 'Batches' },
      o.batchCount === undefined ? '—' : `${o.batchesUploaded ?? 0} / ${o.batchCount}`,
    ),
    cell(
      'Stream',
      o.streams?.length ? el('code', { text: o.streams.join(', ') }) : el('span', { class: 'muted', text: '—' }),
    ),
    cell('Updated', time(o.updatedAt)),
    el(
      'td',
      { class: 'details-cell', 'data-label': 'Details' },
      o.status === 'announced' ? el('span', { class: 'muted', text: 'waiting on s3-objects' }) : details,
    ),
  );
}

function render(items) {
  const tbody = $('object-rows');
  if (items.length === 0) {
    if (!tbody.querySelector('td.empty'))
      tbody.replaceChildren(el('tr', {}, el('td', { colSpan: COLUMNS, class: 'empty', text: 'No S3 objects match.' })));
  } else {
    const current = new Map([...tbody.children].filter((tr) => tr.dataset.object).map((tr) => [tr.dataset.object, tr]));
    const keys = new Map();
    const next = items.map((o) => {
      const key = JSON.stringify(o);
      keys.set(o.objectId, key);
      const tr = current.get(o.objectId);
      if (tr && state.keys.get(o.objectId) === key) return tr;
      const fresh = renderRow(o);
      if (tr) {
        fresh.classList.add('flash');
        if (tr.querySelector('details')?.open) fresh.querySelector('details').open = true;
      }
      return fresh;
    });
    state.keys = keys;
    replaceIfChanged(tbody, next);
  }
  $('objects-page').textContent = `Page ${state.tokens.length}`;
  $('objects-prev').disabled = state.tokens.length <= 1;
  $('objects-next').disabled = !state.next;
  $('objects-status').textContent = `${items.length} object${items.length === 1 ? '' : 's'} shown`;
}

export async function loadObjects() {
  const q = new URLSearchParams();
  const { status, prefix, pageSize } = state.filter;
  if (status) q.set('status', status);
  if (prefix) q.set('prefix', prefix);
  q.set('pageSize', String(pageSize));
  const token = state.tokens.at(-1);
  if (token) q.set('continuationToken', token);
  const seq = ++state.seq;
  const { body } = await api(`/objects?${q}`);
  if (seq !== state.seq) return;
  state.next = body.continuationToken;
  render(body.items);
}

export function refreshObjects() {
  if (access.denied || document.hidden) return;
  loadObjects().catch(report);
}

function apply() {
  state.filter = {
    status: $('objects-filter-status').value,
    prefix: $('objects-filter-prefix').value,
    pageSize: Number($('objects-filter-size').value),
  };
  state.tokens = [undefined];
  loadObjects().catch(report);
}

/** `showDeadLetter(objectId)`: opens the dead letters view on the object's message. */
export function initObjects(showDeadLetter) {
  openDeadLetter = async (objectId) => {
    try {
      const { body } = await api(`/objects/${encodeURIComponent(objectId)}`);
      if (body.deadLetter) showDeadLetter(body.deadLetter.subscription, body.deadLetter.messageId);
      else showDeadLetter('s3-objects/s3-fetcher');
    } catch (err) {
      report(err);
    }
  };
  $('objects-filter-form').addEventListener('submit', (e) => {
    e.preventDefault();
    apply();
  });
  $('objects-filter-status').addEventListener('change', apply);
  $('objects-filter-size').addEventListener('change', apply);
  wirePager('objects-prev', 'objects-next', state, loadObjects);
}
