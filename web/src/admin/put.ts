// PUT with the bearer token, for PUT /v1/intel/triage. The shared Api class
// (api.ts) has GET and POST only and keeps its token private; this mirrors
// its call (same headers, timeout, ApiError with the server's text) for the
// one PUT, and hands a 401 to `onUnauthorized` as Api does.

import { ApiError, errorText } from '../api.js';

export async function putJson<T>(
  url: string,
  token: string,
  body: unknown,
  onUnauthorized: (message: string) => void,
  timeoutMs = 5000,
): Promise<T> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: ctrl.signal,
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError(0, ctrl.signal.aborted ? `PUT ${url}: no answer in ${timeoutMs} ms` : `PUT ${url}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  const text = await res.text();
  if (res.status === 401) {
    const msg = errorText(res.status, res.statusText, text);
    onUnauthorized(msg);
    throw new ApiError(401, msg);
  }
  if (!res.ok) throw new ApiError(res.status, errorText(res.status, res.statusText, text));
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, `PUT ${url}: the answer is not JSON`);
  }
}
