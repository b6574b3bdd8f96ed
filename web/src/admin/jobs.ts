// The job board: queue counts and the newest jobs, from GET /v1/intel/jobs
// and then live from the WebSocket /v1/intel/jobs/stream. The stream carries
// {"type":"jobs","queues":[..]} (on connect, then at most four times a second
// while jobs move) and {"type":"job","change":..,"id":..} per transition. It
// has no positions to resume from: on every (re)connect the counts come
// first, and the page reloads the list over REST to fill what it missed.
// The socket and the timers are injected (stream.ts's SocketLike and
// StreamDeps) so the logic runs under node:test.

import { backoffDelay, CLOSE_UNAUTHORISED, type SocketLike, type StreamDeps, type StreamState, SUBPROTOCOL } from '../stream.js';
import { COUNT_NAMES, type JobRow, type JobsAnswer, type JobStreamMessage, QUEUE_NAMES, type QueueCounts } from './types.js';

/** How many jobs the list keeps (the REST list's page is 50). */
export const RECENT_LIMIT = 50;

export interface JobBoard {
  /** Counts per queue name, in the server's order. */
  queues: QueueCounts[];
  /** Newest job first (by id). */
  recent: JobRow[];
}

export function emptyBoard(): JobBoard {
  return { queues: QUEUE_NAMES.map((q) => zeroCounts(q)), recent: [] };
}

function zeroCounts(queue: string): QueueCounts {
  const c = { queue } as QueueCounts;
  for (const k of COUNT_NAMES) c[k] = 0;
  return c;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readCounts(v: unknown): QueueCounts | null {
  if (!isRecord(v) || typeof v.queue !== 'string') return null;
  const c = zeroCounts(v.queue);
  for (const k of COUNT_NAMES) {
    const n = v[k];
    if (typeof n === 'number' && Number.isFinite(n)) c[k] = n;
  }
  return c;
}

function readJob(v: Record<string, unknown>): JobRow | null {
  if (typeof v.id !== 'number' || typeof v.queue !== 'string' || typeof v.state !== 'string') return null;
  const row: JobRow = {
    id: v.id,
    queue: v.queue,
    state: v.state,
    attempts: typeof v.attempts === 'number' ? v.attempts : 0,
    error: typeof v.error === 'string' ? v.error : '',
    updated: typeof v.updated === 'string' ? v.updated : '',
  };
  if (typeof v.run_at === 'string') row.run_at = v.run_at;
  if (typeof v.failure === 'string') row.failure = v.failure;
  if (typeof v.worker === 'string') row.worker = v.worker;
  if (typeof v.dedup_key === 'string') row.dedup_key = v.dedup_key;
  if (typeof v.change === 'string') row.change = v.change;
  return row;
}

/** A stream frame as a message, or null when it is not JSON or not one the page knows (ignored). */
export function parseJobMessage(data: unknown): JobStreamMessage | null {
  let v: unknown;
  try {
    v = JSON.parse(String(data));
  } catch {
    return null;
  }
  if (!isRecord(v)) return null;
  if (v.type === 'jobs') {
    if (!Array.isArray(v.queues)) return null;
    const queues = v.queues.map(readCounts).filter((q): q is QueueCounts => q !== null);
    return { type: 'jobs', queues };
  }
  if (v.type === 'job') {
    if (typeof v.change !== 'string') return null;
    const row = readJob(v);
    return row ? { type: 'job', ...row, change: v.change } : null;
  }
  return null;
}

function mergeQueues(old: QueueCounts[], incoming: QueueCounts[]): QueueCounts[] {
  const out = incoming.map((q) => ({ ...q }));
  // A queue the answer leaves out keeps its row (zeros until it reports).
  for (const q of old) if (!out.some((x) => x.queue === q.queue)) out.push(zeroCounts(q.queue));
  const rank = (name: string) => {
    const i = (QUEUE_NAMES as readonly string[]).indexOf(name);
    return i < 0 ? QUEUE_NAMES.length : i;
  };
  return out.sort((a, b) => rank(a.queue) - rank(b.queue) || (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
}

function upsert(recent: JobRow[], row: JobRow): JobRow[] {
  const rest = recent.filter((j) => j.id !== row.id);
  rest.push(row);
  rest.sort((a, b) => b.id - a.id);
  return rest.slice(0, RECENT_LIMIT);
}

/** The board after GET /v1/intel/jobs: its counts and list replace what was shown. */
export function applyJobsAnswer(board: JobBoard, answer: JobsAnswer): JobBoard {
  const queues = (answer.queues ?? []).map(readCounts).filter((q): q is QueueCounts => q !== null);
  const recent = (answer.recent ?? [])
    .map((j) => (isRecord(j) ? readJob(j) : null))
    .filter((j): j is JobRow => j !== null)
    .sort((a, b) => b.id - a.id)
    .slice(0, RECENT_LIMIT);
  // A job the stream reported after the REST answer was made is newer than the list's copy.
  let merged = recent;
  for (const j of board.recent) {
    const listed = merged.find((x) => x.id === j.id);
    if (j.change && (!listed || j.updated > listed.updated)) merged = upsert(merged, j);
  }
  return { queues: mergeQueues(board.queues, queues), recent: merged };
}

/** The board after one stream message (a new object; the old one is unchanged). */
export function applyJobMessage(board: JobBoard, msg: JobStreamMessage): JobBoard {
  if (msg.type === 'jobs') return { queues: mergeQueues(board.queues, msg.queues), recent: board.recent };
  const { type: _type, ...row } = msg;
  void _type;
  return { queues: board.queues, recent: upsert(board.recent, row) };
}

/** ws(s)://host/…/v1/intel/jobs/stream for a page at `pageUrl`. */
export function jobsStreamUrl(pageUrl: string): string {
  const u = new URL('v1/intel/jobs/stream', pageUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.hash = '';
  u.search = '';
  return u.toString();
}

export interface JobStreamHandlers {
  onMessage(msg: JobStreamMessage): void;
  onState(state: StreamState, detail: string): void;
  /** Close 4401, or a token the browser cannot send: no reconnect follows. */
  onUnauthorized(reason: string): void;
  /** Each (re)connection that opened: the page reloads the list to fill the gap. */
  onOpen?(): void;
  /** Several attempts in a row never opened (a handshake refused with HTTP 401/403 looks like this). */
  onNeverOpened?(attempts: number): void;
}

/**
 * The job stream's connection: subprotocols ["sentinel.v1", "bearer.<token>"],
 * reconnect with backoff (stream.ts's backoffDelay) on any close but 4401.
 * The server does not answer pings on this socket, so there is no liveness
 * timer: a dead TCP connection is noticed when the browser closes it.
 */
export class JobStream {
  private socket: SocketLike | null = null;
  private stopped = true;
  private attempt = 0;
  private neverOpened = 0;
  private retryTimer: unknown = null;
  connections = 0;

  constructor(
    private readonly pageUrl: string,
    private readonly token: string,
    private readonly handlers: JobStreamHandlers,
    private readonly deps: StreamDeps,
  ) {}

  get running(): boolean {
    return !this.stopped;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) this.deps.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onclose = s.onmessage = s.onerror = s.onopen = null;
      s.close(1000, 'page closed the stream');
    }
    this.handlers.onState('stopped', '');
  }

  private connect(): void {
    this.retryTimer = null;
    this.connections++;
    this.handlers.onState(this.connections === 1 ? 'connecting' : 'reconnecting', 'connecting');
    let socket: SocketLike;
    try {
      socket = this.deps.createSocket(jobsStreamUrl(this.pageUrl), [SUBPROTOCOL, `bearer.${this.token}`]);
    } catch (e) {
      this.stopped = true;
      this.handlers.onUnauthorized(`the token cannot be sent to the stream (${(e as Error).message})`);
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.neverOpened = 0;
      this.attempt = 0;
      this.handlers.onState('live', '');
      this.handlers.onOpen?.();
    };
    socket.onmessage = (ev) => {
      const msg = parseJobMessage(ev.data);
      if (msg) this.handlers.onMessage(msg);
    };
    socket.onerror = () => {
      // Always followed by onclose, which decides what happens next.
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (ev.code === CLOSE_UNAUTHORISED) {
        this.stopped = true;
        this.handlers.onState('stopped', 'token refused');
        this.handlers.onUnauthorized(ev.reason || 'the stream refused the token');
        return;
      }
      if (!opened) {
        this.neverOpened++;
        if (this.neverOpened >= 3) this.handlers.onNeverOpened?.(this.neverOpened);
        if (this.stopped) return;
      }
      const delay = backoffDelay(this.attempt++, this.deps.random());
      const why = ev.reason ? `${ev.reason} (${ev.code})` : `closed (${ev.code})`;
      this.handlers.onState('reconnecting', `${why}; retry in ${(delay / 1000).toFixed(1)} s`);
      this.retryTimer = this.deps.setTimeout(() => this.connect(), delay);
    };
  }
}

/** The words of the connection indicator. */
export function streamStateText(state: StreamState, detail: string): string {
  switch (state) {
    case 'live':
      return 'live';
    case 'connecting':
      return 'connecting…';
    case 'reconnecting':
      return detail && detail !== 'connecting' ? `reconnecting: ${detail}` : 'reconnecting…';
    case 'stopped':
      return detail ? `stopped: ${detail}` : 'stopped';
  }
}
