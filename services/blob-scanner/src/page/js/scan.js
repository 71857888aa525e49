// The scan card: starts a scan and follows its progress.
import { api } from './api.js';
import { $, el, report, showBanner } from './dom.js';

const state = {
  /** The scan on the card. */
  scanId: null,
  /** The scan this page started, while it runs: other scans' events do not take the card from it. */
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

/** A scan event from the stream: the card follows the page's own scan until it ends, else the newest running one. */
export function onScanEvent(scan) {
  const own = state.ownScanId;
  if (own && own !== scan.scanId) return;
  if (own && scan.state !== 'running') state.ownScanId = null;
  if (!state.scanId || state.scanId === scan.scanId || scan.state === 'running' || own === scan.scanId) {
    state.scanId = scan.scanId;
    renderScan(scan);
  }
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
    const scan = await api(`/scans/${id}`);
    if (scan.body.state !== 'running' && state.ownScanId === id) state.ownScanId = null;
    renderScan(scan.body);
  } catch (err) {
    report(err);
    $('scan-button').disabled = false;
  }
}

export function initScan() {
  $('scan-form').addEventListener('submit', startScan);
}
