// The scan card: starts a scan and follows its progress.
import { api } from './api.js';
import { $, el, report, showBanner } from './dom.js';

const state = {
  /** The scan on the card. */
  scanId: null,
  /**
   * The scan this page started: the card keeps it (running, then its result) until the next *Scan now*;
   * other scans (scheduled, other pages) show in the note under it instead of taking the card.
   */
  ownScanId: null,
};

const TRIGGER = { manual: 'started by hand', schedule: 'scheduled' };

export function renderScan(scan) {
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
  const mine = scan.scanId === state.ownScanId ? 'started from this page' : TRIGGER[scan.trigger] || scan.trigger;
  box.replaceChildren(
    el(
      'div',
      { class: `scan-status scan-${scan.state}` },
      running ? el('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
      el('strong', { text: title }),
      el('span', {
        class: 'muted',
        text: ` ${mine ? `${mine} · ` : ''}${scan.scanId}${scan.prefix ? ` · prefix “${scan.prefix}”` : ''}`,
      }),
    ),
    el('ul', { class: 'scan-counts' }, ...parts.map(([k, v]) => el('li', {}, el('b', { text: String(v) }), ` ${k}`))),
    ...(scan.error ? [el('p', { class: 'error-text', text: scan.error })] : []),
  );
  $('scan-button').disabled = running;
  $('scan-button').textContent = running ? 'Scanning…' : 'Scan now';
}

/** A scan event from the stream: the page's own scan keeps the card; without one, the newest running scan takes it. */
export function onScanEvent(scan) {
  const own = state.ownScanId;
  if (own && own !== scan.scanId) {
    renderOther(scan);
    return;
  }
  if (!state.scanId || state.scanId === scan.scanId || scan.state === 'running') {
    state.scanId = scan.scanId;
    renderScan(scan);
  }
}

/** Another scan while the card shows this page's own: one line under it. */
function renderOther(scan) {
  const note = $('scan-other');
  const what = TRIGGER[scan.trigger] || scan.trigger;
  const done = scan.state === 'running' ? 'running' : scan.state;
  note.textContent = `Also: a ${what} scan ${done} (${scan.scanId}, ${scan.counts.queued} queued).`;
  note.hidden = false;
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
    const id = status === 409 ? body.details?.scanId : body.scanId;
    if (status === 409) showBanner('Another scan is running on this server; following it.');
    state.scanId = id;
    state.ownScanId = status === 409 ? null : id;
    $('scan-other').hidden = true;
    const scan = await api(`/scans/${id}`);
    renderScan(scan.body);
  } catch (err) {
    report(err);
    $('scan-button').disabled = false;
  }
}

export function initScan() {
  $('scan-form').addEventListener('submit', startScan);
}
