// The bearer token: handed over in the URL fragment (#token=...), which
// browsers never send to servers, so it stays out of access logs; then kept in
// sessionStorage (this tab only) and removed from the address bar.

const STORAGE_KEY = 'sentinel.token';

/** Splits "#token=abc&x=1" into the token and the rest of the fragment ("#x=1", or "" when nothing is left). */
export function takeTokenFromHash(hash: string): { token: string | null; rest: string } {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!raw) return { token: null, rest: '' };
  const params = new URLSearchParams(raw);
  const token = params.get('token');
  if (token === null) return { token: null, rest: hash };
  params.delete('token');
  const rest = params.toString();
  return { token: token.trim() || null, rest: rest ? `#${rest}` : '' };
}

/**
 * True when the token can travel as a WebSocket subprotocol ("bearer.<token>"):
 * subprotocols are HTTP tokens (RFC 7230 tchar), and the browser refuses others.
 */
export function isSubprotocolSafe(token: string): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(token);
}

export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Reads the fragment's token (storing it), else the stored one; cleans the address bar. */
export function loadToken(loc: Location, hist: History, storage: TokenStorage): string | null {
  const { token, rest } = takeTokenFromHash(loc.hash);
  if (token) {
    storage.setItem(STORAGE_KEY, token);
  }
  if (token !== null || loc.hash !== rest) {
    hist.replaceState(hist.state, '', loc.pathname + loc.search + rest);
  }
  return token ?? storage.getItem(STORAGE_KEY);
}

export function saveToken(storage: TokenStorage, token: string): void {
  storage.setItem(STORAGE_KEY, token);
}

export function clearToken(storage: TokenStorage): void {
  storage.removeItem(STORAGE_KEY);
}
