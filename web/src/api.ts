// REST calls with the bearer token. A 401 anywhere hands control back to the
// sign-in box (through onUnauthorized); other failures are thrown as ApiError
// with the server's {"error": "..."} text.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The server's error text from a JSON body {"error": ...}, else the body or the status text. */
export function errorText(status: number, statusText: string, body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown; message?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (typeof j.message === 'string') return j.message;
  } catch {
    // not JSON: fall through
  }
  const trimmed = body.trim();
  if (trimmed && trimmed.length <= 200) return trimmed;
  return `${status} ${statusText}`.trim();
}

export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly onUnauthorized: (message: string) => void,
  ) {}

  url(path: string): string {
    return new URL(path.replace(/^\//, ''), this.baseUrl).toString();
  }

  get<T>(path: string, timeoutMs = 5000): Promise<T> {
    return this.call<T>('GET', path, undefined, timeoutMs);
  }

  post<T>(path: string, body?: unknown, timeoutMs = 5000): Promise<T> {
    return this.call<T>('POST', path, body, timeoutMs);
  }

  private async call<T>(method: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.token}`,
      Accept: 'application/json',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), timeoutMs);
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctrl.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (e) {
      throw new ApiError(0, ctrl.signal.aborted ? `${method} ${path}: no answer in ${timeoutMs} ms` : `${method} ${path}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    const text = await res.text();
    if (res.status === 401) {
      const msg = errorText(res.status, res.statusText, text);
      this.onUnauthorized(msg);
      throw new ApiError(401, msg);
    }
    if (!res.ok) throw new ApiError(res.status, errorText(res.status, res.statusText, text));
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, `${method} ${path}: the answer is not JSON`);
    }
  }
}
