// The dashboard's JSON API client: public GETs under /dash/api/, and the organisation view's
// POSTs signed like Shadowserver's api2 (HMAC2 = hex HMAC-SHA256(secret, exact raw body)).
// Keys and secrets never go into a URL or a log line.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function answer(resp) {
  let body = null;
  try {
    body = await resp.json();
  } catch {
    // A non-JSON answer (proxy error page, truncated body) is reported by status below.
  }
  if (!resp.ok) {
    const msg = body && typeof body.error === 'string' ? body.error : `HTTP ${resp.status}`;
    throw new ApiError(msg, resp.status);
  }
  if (body === null) throw new ApiError('The server sent an answer that is not JSON', resp.status);
  return body;
}

export async function get(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const qs = q.toString();
  let resp;
  try {
    resp = await fetch(`/dash/api/${path}${qs ? `?${qs}` : ''}`, { headers: { Accept: 'application/json' } });
  } catch (e) {
    throw new ApiError(`Cannot reach the server (${e.message})`, 0);
  }
  return answer(resp);
}

// crypto.subtle exists only in secure contexts (HTTPS, or http://localhost / 127.0.0.1).
export function canSign() {
  return typeof crypto !== 'undefined' && crypto.subtle && typeof crypto.subtle.importKey === 'function';
}

export const TLS_NEEDED =
  'This browser cannot sign requests here: the Web Crypto API is only available over HTTPS ' +
  '(or on localhost). Ask the operator to enable TLS for the dashboard (api TLS certificate ' +
  'and key), then open it with https://.';

async function hmacHex(secret, body) {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' },
                                            false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(body)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function orgPost(path, creds, params = {}) {
  if (!canSign()) throw new ApiError(TLS_NEEDED, 0);
  const payload = { apikey: creds.key };
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') payload[k] = v;
  const body = JSON.stringify(payload);
  const mac = await hmacHex(creds.secret, body);
  let resp;
  try {
    resp = await fetch(`/dash/api/org/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', HMAC2: mac },
      body,
    });
  } catch (e) {
    throw new ApiError(`Cannot reach the server (${e.message})`, 0);
  }
  return answer(resp);
}
