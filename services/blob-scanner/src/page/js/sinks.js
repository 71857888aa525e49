// "Sinks (local stand-ins)": the event stream's `ready` says whether this server has local stand-ins
// (`localSinks`); only then is GET /local/sinks read, and the panel shown once it answers 200. A 404 hides
// it and stops the reads.
import { access, authHeaders } from './api.js';
import { $, el, replaceIfChanged } from './dom.js';

/** How often the panel reads the stand-ins' counts again (local runs only). */
const SINKS_REFRESH_MS = 3000;
const state = { timer: null, reading: false };

export async function loadSinks() {
  if (state.timer === null || state.reading || access.denied || document.hidden) return;
  state.reading = true;
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
    if (state.timer !== null) renderSinks(body);
  } catch {
    if (!$('sinks').hidden) $('sinks-updated').textContent = 'Not updated: server not answering';
  } finally {
    state.reading = false;
  }
}

export function stopSinks() {
  clearInterval(state.timer);
  state.timer = null;
  $('sinks').hidden = true;
}

export function startSinks() {
  state.timer ??= setInterval(loadSinks, SINKS_REFRESH_MS);
  loadSinks();
}

export const sinksRunning = () => state.timer !== null;

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
  replaceIfChanged(tbody, next);
}
