// Status page for the whole pipeline: plain DOM and SVG, ES modules, no framework, no build.
import { access, storedKey, storeKey } from './api.js';
import {
  countsChanged,
  initBlobs,
  loadCounts,
  loadPage,
  onBlobEvent,
  refreshSoon,
  refreshView,
  renderCounts,
} from './blobs.js';
import { initDeadLetters, loadDeadLetters, setSubscriptions, showDeadLetters } from './dead-letters.js';
import { $, report, showBanner } from './dom.js';
import { listen, onKeyChanged, streamLive } from './events.js';
import { initObjects, loadObjects, refreshObjects } from './objects.js';
import { initOverview, loadPipeline, onPipelineEvent } from './overview.js';
import { initScan, onScanEvent } from './scan.js';
import { loadSinks, sinksRunning, startSinks, stopSinks } from './sinks.js';

/**
 * How often the rows on display are read again. Live events only reach pages of the replica that consumed
 * them (`ingestion-results` is one subscription shared by all replicas) and some changes publish nothing
 * (`ingesting`), so the page re-reads its current views rather than trusting the stream to be complete.
 */
const VIEW_REFRESH_MS = 5000;
let lastDeadLetters = '';
/** What this server offers besides the blobs (its `ready` event says; a view it lacks is hidden). */
const offers = { pipeline: false, objects: false };

function loadAll() {
  loadCounts().catch(report);
  loadPage().catch(report);
  if (offers.objects) loadObjects().catch(report);
  if (offers.pipeline) {
    loadPipeline()
      .then(() => loadDeadLetters())
      .catch(report);
  }
}

function showOffered(event) {
  offers.pipeline = event.pipeline === true;
  offers.objects = event.objects === true;
  for (const id of ['overview', 'dead-letters']) $(id).hidden = !offers.pipeline;
  $('objects').hidden = !offers.objects;
  for (const a of document.querySelectorAll('.views a')) a.hidden = $(a.hash.slice(1))?.hidden ?? false;
}

function onPipeline(pipeline) {
  onPipelineEvent(pipeline);
  setSubscriptions(pipeline.stages);
  // A dead letter came or went (a poison message, a replay): the list on display is read again.
  const key = JSON.stringify(pipeline.stages.map((s) => s.deadLetter));
  if (key !== lastDeadLetters) {
    lastDeadLetters = key;
    loadDeadLetters().catch(report);
  }
}

function dispatch(type, event) {
  if (type === 'ready') {
    showBanner('');
    showOffered(event);
    if (event.localSinks) startSinks();
    else if (sinksRunning()) stopSinks();
    loadAll();
  } else if (type === 'counts') {
    const changed = countsChanged(event.counts);
    renderCounts(event.counts);
    // Changes made elsewhere (another replica, the ingester) surface only as new counts.
    if (changed) refreshSoon();
  } else if (type === 'blob') {
    onBlobEvent(event);
  } else if (type === 'scan') {
    onScanEvent(event.scan);
  } else if (type === 'pipeline') {
    onPipeline(event.pipeline);
  }
}

function initAccess() {
  const signedIn = () => {
    $('key-clear').hidden = !storedKey();
    $('access-summary').textContent = storedKey() ? 'Signed in (key)' : 'Access key';
  };
  $('key-input').value = storedKey();
  signedIn();
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    storeKey($('key-input').value.trim());
    signedIn();
    $('access').open = false;
    showBanner('');
    access.denied = false;
    onKeyChanged();
    loadAll();
    loadSinks();
  });
  $('key-clear').addEventListener('click', () => {
    storeKey('');
    $('key-input').value = '';
    signedIn();
  });
}

function init() {
  initScan();
  initBlobs();
  initDeadLetters();
  initObjects(showDeadLetters);
  initOverview(showDeadLetters);
  initAccess();
  listen(dispatch);
  setInterval(() => {
    refreshView(streamLive());
    if (offers.objects) refreshObjects();
  }, VIEW_REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    refreshView(streamLive());
    if (offers.objects) refreshObjects();
    loadSinks();
  });
}

init();
