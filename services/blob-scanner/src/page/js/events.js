// The live stream. EventSource cannot send an Authorization or X-Api-Key header, so it is read with fetch.
import { askForKey, authHeaders } from './api.js';
import { $ } from './dom.js';

let keyChanged = () => {};
/** Called when a key is saved: a stream waiting for one tries again at once. */
export const onKeyChanged = () => keyChanged();
const waitForKey = () =>
  new Promise((resolve) => {
    keyChanged = resolve;
  });

export const streamLive = () => $('live').dataset.state === 'live';

export async function listen(dispatch) {
  const live = $('live');
  for (let delay = 1000; ; delay = Math.min(delay * 2, 15000)) {
    try {
      const res = await fetch('/events', { headers: { ...authHeaders(), Accept: 'text/event-stream' } });
      if (res.status === 401 || res.status === 403) {
        live.dataset.state = 'offline';
        live.textContent = 'Not signed in';
        askForKey();
        await waitForKey();
        continue;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      delay = 1000;
      await readStream(res.body, (type, data) => {
        if (type === 'ready') {
          live.dataset.state = 'live';
          live.textContent = 'Live';
        }
        dispatch(type, data);
      });
    } catch {
      /* reconnect below */
    }
    live.dataset.state = 'offline';
    live.textContent = 'Reconnecting…';
    await new Promise((r) => setTimeout(r, delay));
  }
}

async function readStream(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      let type = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) type = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      if (data) onEvent(type, JSON.parse(data));
    }
  }
}
