// The pipeline overview: six services and four topics as the flows they make up, each subscription with its
// backlog, dead letters and throughput chart, the sinks, and each service's readiness. Live from `pipeline` events.
import { api } from './api.js';
import { lastMinute, stageChart } from './chart.js';
import { $, el } from './dom.js';

/** How the services and topics connect (who publishes and who consumes comes with the data). */
const LANES = [
  {
    title: 'S3 → Log Analytics',
    steps: [
      { service: 'sqs-poller', note: 'SQS notifications' },
      { topic: 's3-objects' },
      { service: 's3-fetcher', note: 'stages batches' },
      { topic: 'staged-batches' },
      { service: 'la-uploader' },
      { sink: 'logAnalytics', title: 'Log Analytics', name: 'stream', count: 'records', unit: 'records uploaded' },
    ],
  },
  {
    title: 'Blob → Data Explorer',
    steps: [
      { service: 'blob-scanner', note: 'scans the container' },
      { topic: 'ingest-requests' },
      { service: 'adx-ingester', note: 'also staged-batches' },
      { sink: 'adx', title: 'Data Explorer', name: 'table', count: 'blobs', unit: 'blobs ingested' },
      { service: 'completion-checker', note: 'reads ADX reports' },
      { topic: 'ingestion-results' },
    ],
  },
];

const state = { pipeline: null, history: {} };
let onDeadLetters = () => {};

export async function loadPipeline() {
  const { body } = await api('/pipeline');
  state.history = body.history || {};
  renderPipeline(body);
}

/** A `pipeline` event: the newest sample, appended to each stage's points. */
export function onPipelineEvent(pipeline) {
  for (const [ref, point] of Object.entries(pipeline.latest || {})) {
    state.history[ref] ??= [];
    const points = state.history[ref];
    if (points.at(-1)?.at !== point.at) points.push(point);
    if (points.length > 180) points.shift();
  }
  renderPipeline(pipeline);
}

function renderPipeline(p) {
  state.pipeline = p;
  const lanes = LANES.map((lane) =>
    el(
      'section',
      { class: 'lane', 'aria-label': lane.title },
      el('h3', { class: 'lane-title', text: lane.title }),
      el('ol', { class: 'flow' }, ...lane.steps.map((step) => el('li', { class: 'flow-step' }, renderStep(step, p)))),
    ),
  );
  // Redrawn on every sample: a keyboard user's focus on a stage's button is put back where it was.
  const focused = document.activeElement?.closest?.('#pipeline-lanes [data-subscription]')?.dataset.subscription;
  $('pipeline-lanes').replaceChildren(...lanes);
  if (focused)
    $('pipeline-lanes')
      .querySelector(`[data-subscription="${CSS.escape(focused)}"] button`)
      ?.focus();
  const errors = Object.values(p.errors || {}).filter(Boolean);
  $('pipeline-updated').textContent = p.sampledAt
    ? `Sampled ${new Date(p.sampledAt).toLocaleTimeString()}${errors.length ? ` · ${errors.join('; ')}` : ''}`
    : 'Waiting for the first sample…';
}

function renderStep(step, p) {
  if (step.service) {
    const r = p.services.find((s) => s.service === step.service) || { ready: null };
    const ready = r.ready === true ? 'ready' : r.ready === false ? 'not ready' : 'unknown';
    return el(
      'div',
      { class: 'node service', 'data-service': step.service, 'data-ready': String(r.ready) },
      el('span', { class: `dot dot-${ready.replace(' ', '-')}`, title: r.detail || ready, 'aria-hidden': 'true' }),
      el('strong', { text: step.service }),
      el('span', { class: 'muted small', text: `${ready}${r.detail && r.ready === false ? ` (${r.detail})` : ''}` }),
      step.note ? el('span', { class: 'muted small', text: step.note }) : null,
    );
  }
  if (step.sink) return renderSink(step, p);
  const topic = p.topics.find((t) => t.name === step.topic);
  const stages = p.stages.filter((s) => s.topic === step.topic);
  return el(
    'div',
    { class: 'node topic', 'data-topic': step.topic },
    el(
      'span',
      { class: 'topic-name' },
      el('span', { class: 'muted small', text: 'topic ' }),
      el('code', { text: step.topic }),
    ),
    topic?.publishers?.length
      ? el('span', { class: 'muted small', text: `from ${topic.publishers.join(', ')}` })
      : null,
    ...stages.map((s) => renderStage(s, p)),
  );
}

/** How many items each sink box lists by name; the rest are in the total. */
const SINK_ITEMS_SHOWN = 5;

/**
 * A sink's box: what the status table says it accepted (la-uploader's uploaded batches, the blobs settled in
 * ADX), per stream or table; in a local run also what the stand-in itself holds, as a cross-check.
 */
function renderSink(step, p) {
  const items = p.sinks?.[step.sink];
  const total = Array.isArray(items) ? sumOf(items, step.count) : null;
  const local = p.localSinks?.[step.sink];
  const localTotal = Array.isArray(local) ? sumOf(local, step.sink === 'adx' ? 'rows' : 'records') : null;
  return el(
    'div',
    {
      class: 'node sink-node',
      'data-sink': step.sink,
      'data-total': total === null ? '' : String(total),
      'data-local-total': localTotal === null ? '' : String(localTotal),
    },
    el('strong', { text: step.title }),
    el('span', {
      class: 'small',
      text: total === null ? 'not read yet' : `${total.toLocaleString()} ${step.unit}`,
    }),
    Array.isArray(items) && items.length > 0
      ? el(
          'ul',
          { class: 'sink-items muted small' },
          ...items.slice(0, SINK_ITEMS_SHOWN).map((item) =>
            el('li', {
              'data-name': item[step.name],
              text: `${item[step.name]}: ${item[step.count].toLocaleString()}`,
            }),
          ),
          items.length > SINK_ITEMS_SHOWN ? el('li', { text: `and ${items.length - SINK_ITEMS_SHOWN} more` }) : null,
        )
      : null,
    localTotal === null
      ? null
      : el('span', {
          class: 'muted small',
          text: `stand-in holds ${localTotal.toLocaleString()} ${step.sink === 'adx' ? 'rows' : 'records'}`,
        }),
  );
}

const sumOf = (items, key) => items.reduce((sum, item) => sum + (Number(item[key]) || 0), 0);

function renderStage(s, p) {
  const ref = `${s.topic}/${s.subscription}`;
  const points = state.history[ref] || [];
  const recent = lastMinute(points, p.sampleMs);
  const dl = s.deadLetter ?? null;
  const dlButton = el('button', {
    type: 'button',
    class: `link dl-count${dl ? ' has-dl' : ''}`,
    text: dl === null ? '? dead-lettered' : `${dl} dead-lettered`,
    title: 'Show these dead letters',
  });
  dlButton.addEventListener('click', () => onDeadLetters(ref));
  return el(
    'div',
    {
      class: 'stage',
      'data-subscription': ref,
      'data-active': s.active === null ? '' : String(s.active),
      'data-dead-letter': dl === null ? '' : String(dl),
    },
    el('span', { class: 'stage-name' }, '→ ', el('strong', { text: s.subscription })),
    el(
      'span',
      { class: 'stage-counts' },
      el('span', { text: s.active === null ? '? active' : `${s.active} active` }),
      ' · ',
      dlButton,
    ),
    stageChart(points, s.unit),
    el('span', {
      class: 'muted small stage-rate',
      text: recent === null ? `${s.unit}: not measured` : `${recent.total} ${s.unit} in the last ${recent.seconds} s`,
    }),
  );
}

export function initOverview(showDeadLetters) {
  onDeadLetters = showDeadLetters;
}
