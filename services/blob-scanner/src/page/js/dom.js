// DOM helpers shared by every view. Data is only ever inserted as text.

export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, ...children) {
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

/** An SVG element (the overview's drawing and charts). */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export function time(iso) {
  if (!iso) return el('span', { class: 'muted', text: '—' });
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  const text = sameDay
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
  return el('time', { dateTime: iso, title: d.toISOString(), text });
}

export function statusBadge(status) {
  return el('span', { class: `badge status-${status}`, text: status });
}

export function showBanner(text) {
  const banner = $('banner');
  banner.textContent = text;
  banner.hidden = !text;
}

export function report(err) {
  if (!/HTTP 40[13]/.test(err.message)) showBanner(`Something went wrong: ${err.message}`);
}

/** Replaces `parent`'s children only when the new ones differ (keeps focus and open details). */
export function replaceIfChanged(parent, next) {
  const same = next.length === parent.children.length && next.every((n, i) => parent.children[i] === n);
  if (!same) parent.replaceChildren(...next);
}

/**
 * Previous/next buttons over continuation tokens: `tokens` holds the pages' tokens (the first is undefined),
 * `next` the token of the page after the current one; `load()` reads the current page.
 */
export function wirePager(prevId, nextId, paging, load) {
  $(nextId).addEventListener('click', () => {
    if (!paging.next) return;
    paging.tokens.push(paging.next);
    load().catch(report);
  });
  $(prevId).addEventListener('click', () => {
    if (paging.tokens.length <= 1) return;
    paging.tokens.pop();
    load().catch(report);
  });
}
