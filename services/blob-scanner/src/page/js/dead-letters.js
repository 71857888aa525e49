// Dead letters per subscription, with replay of one or all: POST /dead-letters/replay runs the same replay as
// `logferry dlq replay` and needs the credential that POST /scans needs.
import { api, post } from './api.js';
import { $, el, report, time } from './dom.js';

const state = { subscription: null, subscriptions: [], highlight: null, busy: false };

/** The subscriptions to choose from (from the overview's data), with their dead-letter counts. */
export function setSubscriptions(stages) {
  state.subscriptions = stages.map((s) => ({ ref: `${s.topic}/${s.subscription}`, deadLetter: s.deadLetter }));
  const select = $('dl-subscription');
  const options = state.subscriptions.map((s) =>
    el('option', { value: s.ref, text: `${s.ref} (${s.deadLetter ?? '?'})` }),
  );
  const keep = select.value;
  if (select.options.length !== options.length || [...select.options].some((o, i) => o.text !== options[i].text)) {
    select.replaceChildren(...options);
    if (keep) select.value = keep;
  }
  if (!state.subscription && state.subscriptions.length) {
    const first = state.subscriptions.find((s) => s.deadLetter) || state.subscriptions[0];
    select.value = first.ref;
    state.subscription = first.ref;
    loadDeadLetters().catch(report);
  }
}

/** Opens the view on one subscription (the overview's and the S3 objects view's links). */
export function showDeadLetters(ref, messageId = null) {
  state.subscription = ref;
  state.highlight = messageId;
  $('dl-subscription').value = ref;
  $('dead-letters').scrollIntoView({ behavior: 'smooth', block: 'start' });
  loadDeadLetters()
    .then(() => $('dead-letters').querySelector('.dl-item.highlight, .dl-item')?.focus())
    .catch(report);
}

export async function loadDeadLetters() {
  if (!state.subscription) return;
  const ref = state.subscription;
  const { body } = await api(`/dead-letters?subscription=${encodeURIComponent(ref)}&max=50`);
  if (ref !== state.subscription) return;
  const list = $('dl-list');
  $('dl-replay-all').disabled = body.messages.length === 0 || state.busy;
  if (body.messages.length === 0) {
    list.replaceChildren(el('li', { class: 'empty', text: `No dead letters in ${ref}.` }));
    return;
  }
  list.replaceChildren(...body.messages.map((m) => renderMessage(m)));
}

function renderMessage(m) {
  const replay = el('button', { type: 'button', class: 'btn btn-small', text: 'Replay' });
  replay.addEventListener('click', () => doReplay({ messageId: m.messageId }));
  const highlighted = state.highlight && state.highlight === m.messageId;
  return el(
    'li',
    { class: `dl-item${highlighted ? ' highlight' : ''}`, 'data-message-id': m.messageId, tabIndex: -1 },
    el(
      'div',
      { class: 'dl-head' },
      el('strong', { class: 'dl-reason', text: m.reason || '(no reason)' }),
      el('span', { class: 'muted small' }, time(m.enqueuedAt), ` · delivered ${m.deliveryCount}×`),
      replay,
    ),
    m.description ? el('p', { class: 'error-text', text: m.description }) : null,
    el('p', { class: 'muted small mono', text: `id ${m.messageId}` }),
    el('pre', { class: 'dl-body', text: m.body }),
  );
}

async function doReplay(what) {
  if (state.busy || !state.subscription) return;
  state.busy = true;
  const status = $('dl-status');
  status.textContent = 'Replaying…';
  status.className = 'dl-status';
  try {
    const { status: code, body } = await post('/dead-letters/replay', { subscription: state.subscription, ...what });
    if (code === 401 || code === 403) {
      status.textContent = `Refused (HTTP ${code}): ${body?.error || 'not authorised'}. Replaying needs the operator's key or role: sign in under “Access key”.`;
      status.className = 'dl-status refused';
      status.setAttribute('role', 'alert');
      return;
    }
    status.removeAttribute('role');
    if (code !== 200) {
      status.textContent = `Replay failed (HTTP ${code}): ${body?.lastError || body?.error || 'unknown error'}`;
      status.className = 'dl-status refused';
      return;
    }
    status.textContent = `Replayed ${body.replayed} message${body.replayed === 1 ? '' : 's'} to ${body.subscription}.`;
    await loadDeadLetters();
  } catch (err) {
    status.textContent = `Replay failed: ${err.message}`;
    status.className = 'dl-status refused';
  } finally {
    state.busy = false;
  }
}

export function initDeadLetters() {
  $('dl-subscription').addEventListener('change', () => {
    state.subscription = $('dl-subscription').value;
    state.highlight = null;
    loadDeadLetters().catch(report);
  });
  $('dl-replay-all').addEventListener('click', () => doReplay({}));
  $('dl-refresh').addEventListener('click', () => loadDeadLetters().catch(report));
}
