// The live alert stream: GET /v1/alerts/stream as a WebSocket. Browsers cannot
// set headers on a WebSocket, so the token travels as the second subprotocol
// ("bearer.<token>"); the server answers with "sentinel.v1". On any close but
// 4401 it reconnects with exponential backoff and ?since=<last seq applied>,
// so the server resumes without gaps (or sends a snapshot with "reset":true).
// The socket and the timers are injected so the logic runs under node:test.

import type { StreamMessage } from './types.js';

export const SUBPROTOCOL = 'sentinel.v1';
export const CLOSE_UNAUTHORISED = 4401;

/** Reconnect delay after `attempt` failures in a row: 250 ms doubling to 5 s, with half of it random. */
export function backoffDelay(attempt: number, random: number): number {
  const base = Math.min(5000, 250 * 2 ** Math.min(attempt, 10));
  return Math.round(base / 2 + (random * base) / 2);
}

/**
 * The stream URL for a page at `pageUrl`, resuming after `since` when given.
 * `stream` names the server run the sequence numbers belong to (from the last
 * snapshot): a restarted server answers a position of another run with a
 * fresh snapshot instead of changes that would not continue it.
 */
export function streamUrl(pageUrl: string, since: number | null, stream: string | null = null): string {
  const u = new URL('v1/alerts/stream', pageUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.hash = '';
  u.search = since === null ? '' : stream ? `?since=${since}&stream=${encodeURIComponent(stream)}` : `?since=${since}`;
  return u.toString();
}

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface StreamHandlers {
  onMessage(msg: StreamMessage): void;
  onState(state: StreamState, detail: string): void;
  /** Close 4401: the token was refused. No reconnect follows. */
  onUnauthorized(reason: string): void;
  /** The last seq applied, or null before the first snapshot (then no ?since). */
  sinceSeq(): number | null;
  /** The stream id of the last snapshot (sent with ?since=), when known. */
  streamId?(): string | null;
  /** Called after several attempts in a row that never opened (a refused handshake looks like this). */
  onNeverOpened?(attempts: number): void;
}

/** The part of the browser's WebSocket this module uses. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface StreamDeps {
  createSocket(url: string, protocols: string[]): SocketLike;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
  now(): number;
}

export interface StreamOptions {
  /** Send {"op":"ping"} this often; a socket silent for two intervals is closed and reopened. */
  pingIntervalMs: number;
}

export class LiveStream {
  private socket: SocketLike | null = null;
  private stopped = true;
  private attempt = 0;
  private neverOpened = 0;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private lastMessageAt = 0;
  /** Connections made so far (the first one and every reconnect). */
  connections = 0;
  /** The URL of the latest connection (tests read the ?since= of a resume). */
  lastUrl = '';

  constructor(
    private readonly pageUrl: string,
    private readonly token: string,
    private readonly handlers: StreamHandlers,
    private readonly deps: StreamDeps,
    private readonly options: StreamOptions = { pingIntervalMs: 15000 },
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onclose = s.onmessage = s.onerror = s.onopen = null;
      s.close(1000, 'page closed the stream');
    }
    this.handlers.onState('stopped', '');
  }

  /**
   * Drops the connection and reconnects at once; the caller's sinceSeq()
   * decides whether that resumes or asks for a fresh snapshot (null).
   */
  resync(reason: string): void {
    if (this.stopped) return;
    const s = this.socket;
    this.socket = null;
    this.clearTimers();
    if (s) {
      s.onclose = s.onmessage = s.onerror = s.onopen = null;
      s.close(4000, reason);
    }
    this.handlers.onState('reconnecting', reason);
    this.connect();
  }

  /** Sends a client message when the socket is open; false otherwise. */
  send(message: object): boolean {
    if (!this.socket || this.socket.readyState !== 1) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) this.deps.clearTimeout(this.retryTimer);
    if (this.pingTimer !== null) this.deps.clearTimeout(this.pingTimer);
    this.retryTimer = this.pingTimer = null;
  }

  private connect(): void {
    this.retryTimer = null;
    const url = streamUrl(this.pageUrl, this.handlers.sinceSeq(), this.handlers.streamId?.() ?? null);
    this.lastUrl = url;
    this.connections++;
    this.handlers.onState(this.connections === 1 ? 'connecting' : 'reconnecting', 'connecting');
    let socket: SocketLike;
    try {
      socket = this.deps.createSocket(url, [SUBPROTOCOL, `bearer.${this.token}`]);
    } catch (e) {
      // The constructor throws on a token that is not a valid subprotocol.
      this.stopped = true;
      this.handlers.onUnauthorized(`the token cannot be sent to the stream (${(e as Error).message})`);
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.neverOpened = 0;
      this.lastMessageAt = this.deps.now();
      this.schedulePing();
    };
    socket.onmessage = (ev) => {
      this.lastMessageAt = this.deps.now();
      let msg: StreamMessage;
      try {
        msg = JSON.parse(String(ev.data)) as StreamMessage;
      } catch {
        console.warn('stream: a message that is not JSON was ignored');
        return;
      }
      // A message proves the server took us: the next failure starts the backoff over.
      this.attempt = 0;
      if (msg.type !== 'pong') {
        this.handlers.onState('live', '');
        this.handlers.onMessage(msg);
      }
    };
    socket.onerror = () => {
      // Always followed by onclose, which decides what happens next.
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.clearTimers();
      if (this.stopped) return;
      if (ev.code === CLOSE_UNAUTHORISED) {
        this.stopped = true;
        this.handlers.onUnauthorized(ev.reason || 'the stream refused the token');
        return;
      }
      if (!opened) {
        this.neverOpened++;
        if (this.neverOpened >= 3 && this.handlers.onNeverOpened) this.handlers.onNeverOpened(this.neverOpened);
        if (this.stopped) return;
      }
      const delay = backoffDelay(this.attempt++, this.deps.random());
      const why = ev.reason ? `${ev.reason} (${ev.code})` : `closed (${ev.code})`;
      this.handlers.onState('reconnecting', `${why}; retry in ${(delay / 1000).toFixed(1)} s`);
      this.retryTimer = this.deps.setTimeout(() => this.connect(), delay);
    };
  }

  private schedulePing(): void {
    this.pingTimer = this.deps.setTimeout(() => {
      this.pingTimer = null;
      const s = this.socket;
      if (!s || this.stopped) return;
      if (this.deps.now() - this.lastMessageAt > 2 * this.options.pingIntervalMs) {
        // Half-open connection (no pong, no data): force the reconnect path.
        s.close(4000, 'no answer to ping');
        s.onclose?.({ code: 4000, reason: 'no answer to ping' });
        return;
      }
      this.send({ op: 'ping' });
      this.schedulePing();
    }, this.options.pingIntervalMs);
  }
}
