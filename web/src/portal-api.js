// The portal's JSON API client (docs/portal.md): GET /portal/api/session, then POSTs of JSON
// objects to /portal/api/<endpoint> with the CSRF token the server handed out. The session
// itself is an HttpOnly cookie this code never sees.
import { ApiError } from './api.js';

let csrf = '';

async function answer(resp) {
  let body = null;
  try {
    body = await resp.json();
  } catch {
    // Reported by status below.
  }
  if (body && typeof body.csrf === 'string') csrf = body.csrf;
  if (!resp.ok) {
    const err = new ApiError(body && typeof body.error === 'string' ? body.error : `HTTP ${resp.status}`, resp.status);
    err.body = body || {};
    throw err;
  }
  if (body === null) throw new ApiError('The server sent an answer that is not JSON', resp.status);
  return body;
}

export async function session() {
  let resp;
  try {
    resp = await fetch('/portal/api/session', { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(`Cannot reach the server (${e.message})`, 0);
  }
  return answer(resp);
}

export async function call(endpoint, body = {}) {
  if (!csrf) await session();
  let resp;
  try {
    resp = await fetch(`/portal/api/${endpoint}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(`Cannot reach the server (${e.message})`, 0);
  }
  return answer(resp);
}
