// Credentials and API calls. The key (or `Bearer <token>`) lives in sessionStorage, this tab only.
import { $, showBanner } from './dom.js';

const KEY_STORAGE = 'logferry.accessKey';
export const access = {
  /** The API refused our credentials: no periodic reads until a key is saved or the stream is back. */
  denied: false,
};

export const storedKey = () => sessionStorage.getItem(KEY_STORAGE) || '';
export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

export function authHeaders() {
  const key = storedKey();
  if (!key) return {};
  // A pasted Entra token goes as a bearer token, anything else as the API key.
  if (/^bearer\s+/i.test(key)) return { Authorization: `Bearer ${key.replace(/^bearer\s+/i, '')}` };
  return { 'X-Api-Key': key };
}

export function askForKey(text = 'Access denied. Enter an API key or a bearer token under “Access key”.') {
  showBanner(text);
  $('access').open = true;
}

export async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...authHeaders(), ...(init.headers || {}) } });
  if (res.status === 401 || res.status === 403) {
    if (!access.denied) askForKey();
    access.denied = true;
    throw new Error(`HTTP ${res.status}`);
  }
  access.denied = false;
  const body = res.headers.get('content-type')?.includes('application/json') ? await res.json() : null;
  if (!res.ok && res.status !== 409) throw new Error(body?.error ? `${body.error}` : `HTTP ${res.status}`);
  return { status: res.status, body };
}

/** JSON POST; the answer's status is the caller's to read (a refused replay is shown, not thrown). */
export async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { ...authHeaders(), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = res.headers.get('content-type')?.includes('application/json') ? await res.json() : null;
  return { status: res.status, body: json };
}
