// A stage's small chart, plain SVG: bars for work finished per sample, a line for the backlog.
import { svg } from './dom.js';

const W = 180;
const H = 44;

export function stageChart(points, unit) {
  const n = Math.max(points.length, 2);
  const step = W / n;
  const maxDone = Math.max(1, ...points.map((p) => p.done ?? 0));
  const maxActive = Math.max(1, ...points.map((p) => p.active ?? 0));
  const bars = points.map((p, i) => {
    const h = ((p.done ?? 0) / maxDone) * (H - 4);
    return svg('rect', {
      x: (i * step).toFixed(1),
      y: (H - h).toFixed(1),
      width: Math.max(step - 0.5, 0.5).toFixed(1),
      height: h.toFixed(1),
      class: 'bar',
    });
  });
  const line = points
    .map(
      (p, i) => `${(i * step + step / 2).toFixed(1)},${(H - 2 - ((p.active ?? 0) / maxActive) * (H - 6)).toFixed(1)}`,
    )
    .join(' ');
  const done = points.reduce((s, p) => s + (p.done ?? 0), 0);
  const label = `${done} ${unit} over the last ${points.length} samples; backlog peaked at ${maxActive === 1 && !points.some((p) => p.active) ? 0 : maxActive}`;
  return svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'chart', role: 'img', 'aria-label': label },
    svg('title', {}, label),
    svg('line', { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, class: 'axis' }),
    ...bars,
    points.length > 1 ? svg('polyline', { points: line, class: 'backlog' }) : null,
  );
}

/**
 * Work finished over the last minute of points, as counted (not extrapolated): `{ total, seconds }` over the
 * time the points cover, at most 60 s; null when the stores could not be read.
 */
export function lastMinute(points, sampleMs) {
  const window = Math.max(1, Math.round(60_000 / sampleMs));
  const recent = points.slice(-window).filter((p) => p.done !== null);
  if (recent.length === 0) return null;
  return { total: recent.reduce((s, p) => s + p.done, 0), seconds: Math.round((recent.length * sampleMs) / 1000) };
}
