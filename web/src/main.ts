// The command centre: signs in with the token, keeps the alert queue live
// from the stream, and wires the views (queue lists, map, detail, operations).

import './style.css';

import { AlertState, type ApplyResult, type Entry } from './alert_state.js';
import { Api, ApiError } from './api.js';
import { LiveStream, type SocketLike, type StreamState } from './stream.js';
import { formatClockTime, slaState } from './time_format.js';
import { clearToken, isSubprotocolSafe, loadToken, saveToken } from './token.js';
import type { AuditTrail, MapData, QueueStatus, Stats, StoredAlert, StreamMessage, WhoAmI } from './types.js';
import { PRIORITIES } from './types.js';
import { AlertMap } from './ui/alert_map.js';
import { DetailPanel } from './ui/detail_panel.js';
import { byId, setClass, setText, toast } from './ui/dom.js';
import { OpsPanel } from './ui/ops_panel.js';
import { QueueList } from './ui/queue_list.js';

/** Rows drawn per list; the rest are counted under it. */
const LIST_LIMIT = 200;
/** Markers drawn on the map (SVG paths): the top alerts and trend-watch items in queue order. */
const MAP_LIMIT = 1000;
const STATS_INTERVAL_MS = 1000;

interface Session {
  api: Api;
  stream: LiveStream;
  statsTimer: ReturnType<typeof setTimeout> | null;
  running: boolean;
}

let state = new AlertState();
let session: Session | null = null;
let selected: string | null = null;
/** Server clock minus this clock (from /v1/stats "now"), so countdowns match the server's ack_due. */
let clockOffsetMs = 0;
let renderPending = false;
let streamQueue: QueueStatus | null = null;
let statsQueue: QueueStatus | null = null;
let reconnectingSince = 0;
/** Set when the page must connect without ?since= (its sequence is from another server lifetime). */
let wantSnapshot = false;
/** The server run the sequence numbers belong to (the last snapshot's "stream"). */
let streamId: string | null = null;
/** What the server holds (from /v1/stats): the stream's snapshot stops at server.page_max alerts. */
let serverCounts = { alerts: 0, trend: 0 };

const now = () => Date.now() + clockOffsetMs;

// ---- views ----------------------------------------------------------------

const alertList = new QueueList(byId('alert-list'), byId('alert-more'), {
  limit: LIST_LIMIT,
  emptyText: 'No alerts.',
  onSelect: (id) => select(id, true),
});
const trendList = new QueueList(byId('trend-list'), byId('trend-more'), {
  limit: LIST_LIMIT,
  emptyText: 'Nothing on trend watch.',
  onSelect: (id) => select(id, true),
});
const alertMap = new AlertMap(byId('map'), (id) => select(id, false));
const detail = new DetailPanel(byId('detail-col'), {
  ack: async (id) => {
    const a = await act(() => session!.api.post<StoredAlert>(`v1/alerts/${encodeURIComponent(id)}/ack`));
    applyResult(state.applyLocal(a));
    toast(a.ack_late ? `Acknowledged ${id} (late)` : `Acknowledged ${id}`);
  },
  feedback: async (id, verdict, note) => {
    const body: { verdict: string; note?: string } = { verdict };
    if (note) body.note = note;
    const a = await act(() => session!.api.post<StoredAlert>(`v1/alerts/${encodeURIComponent(id)}/feedback`, body));
    applyResult(state.applyLocal(a));
    toast(`Marked ${id} as ${verdict === 'true_positive' ? 'true positive' : 'false positive'}`);
  },
  audit: (id) => act(() => session!.api.get<AuditTrail>(`v1/alerts/${encodeURIComponent(id)}/audit`)),
});
const ops = new OpsPanel(byId('ops'));

/** Runs an operator action; a failure other than 401 (which signs out) is shown and rethrown. */
async function act<T>(fn: () => Promise<T>): Promise<T> {
  if (!session) throw new Error('not signed in');
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) toast((e as Error).message, 'error', 8000);
    throw e;
  }
}

// ---- rendering --------------------------------------------------------------

function scheduleRender(): void {
  if (renderPending) return;
  renderPending = true;
  // requestAnimationFrame pauses in hidden tabs; the timer keeps a wall screen
  // that is not focused up to date within a quarter of a second anyway.
  const run = () => {
    if (!renderPending) return;
    renderPending = false;
    render();
  };
  requestAnimationFrame(run);
  setTimeout(run, 250);
}

function render(): void {
  const t = now();
  const { alerts, trend } = state.sorted();
  alertList.render(alerts, selected, t, serverCounts.alerts);
  trendList.render(trend, selected, t, serverCounts.trend);
  alertMap.update([...alerts.slice(0, MAP_LIMIT), ...trend.slice(0, Math.max(0, MAP_LIMIT - alerts.length))]);
  alertMap.select(selected, false);
  detail.show(selected ? (state.get(selected) ?? null) : null, t);
  setText(byId('alert-count'), `(${Math.max(alerts.length, serverCounts.alerts)})`);
  setText(byId('trend-count'), `(${Math.max(trend.length, serverCounts.trend)})`);
  document.documentElement.dataset.seq = String(state.seq);
  document.documentElement.dataset.gaps = String(state.gaps);
  summarise(alerts, t);
}

function summarise(alerts: readonly Entry[], t: number): void {
  const by: Record<string, number> = { P0: 0, P1: 0, P2: 0, P3: 0 };
  let unacked = 0;
  let overdue = 0;
  for (const e of alerts) {
    by[e.alert.priority] = (by[e.alert.priority] ?? 0) + 1;
    const s = slaState(e.alert, e.dueMs, t);
    if (s.kind !== 'acked') unacked++;
    if (s.kind === 'overdue') overdue++;
  }
  for (const p of PRIORITIES) setText(byId(`count-${p}`), `${p} ${by[p]}`);
  setText(byId('count-unacked'), `${unacked} unacked`);
  const od = byId('count-overdue');
  setText(od, `${overdue} overdue`);
  od.classList.toggle('is-bad', overdue > 0);
}

function applyResult(r: ApplyResult): void {
  if (selected && r.removed.has(selected)) selected = null;
  scheduleRender();
}

function select(id: string | null, pan: boolean): void {
  selected = id;
  alertList.select(id);
  trendList.select(id);
  alertMap.select(id, pan);
  detail.show(id ? (state.get(id) ?? null) : null, now());
}

function tick(): void {
  const t = now();
  alertList.tick(t);
  trendList.tick(t);
  detail.tick(t);
  summarise(state.sorted().alerts, t);
  setText(byId('clock'), formatClockTime(new Date(t).toISOString()).slice(11));
  updateConnBanner();
}
setInterval(tick, 1000);

window.addEventListener('resize', () => alertMap.invalidateSize());

// ---- keyboard -----------------------------------------------------------------

document.addEventListener('keydown', (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || !session) return;
  const target = ev.target as HTMLElement | null;
  if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.isContentEditable)) {
    if (ev.key === 'Escape') target.blur();
    return;
  }
  if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
    const ids = [...alertList.visibleIds(), ...trendList.visibleIds()];
    if (ids.length === 0) return;
    ev.preventDefault();
    const i = selected ? ids.indexOf(selected) : -1;
    const next = i < 0 ? 0 : Math.max(0, Math.min(ids.length - 1, i + (ev.key === 'ArrowDown' ? 1 : -1)));
    select(ids[next] ?? null, true);
  } else if (ev.key === 'a' || ev.key === 'A') {
    if (!selected) return;
    const e = state.get(selected);
    if (e?.alert.acked_at) toast(`${selected} is already acknowledged`);
    else detail.acknowledge();
  } else if (ev.key === 'Escape') {
    detail.closeAudit();
  }
});

// ---- connection status and banners ------------------------------------------

function setConn(s: StreamState, text: string): void {
  const el = byId('conn');
  el.dataset.state = s;
  setText(byId('conn-text'), s === 'live' ? 'live' : s === 'reconnecting' ? 'reconnecting' : s === 'connecting' ? 'connecting' : 'offline');
  el.title = text;
  if (s === 'reconnecting') {
    if (!reconnectingSince) reconnectingSince = Date.now();
    setText(byId('banner-conn'), `Live stream interrupted: ${text}. The queue shown may be out of date.`);
  } else {
    reconnectingSince = 0;
  }
  updateConnBanner();
}

function updateConnBanner(): void {
  // Short blips (a reconnect that succeeds at once) do not flash a banner.
  byId('banner-conn').hidden = !(reconnectingSince && Date.now() - reconnectingSince > 2000);
}

function showQueueStatus(): void {
  // The stream's status message is the freshest word; /v1/stats confirms it every second.
  const q = streamQueue ?? statsQueue;
  const down = !!q && !q.connected;
  const el = byId('banner-queue');
  el.hidden = !down;
  if (down && q) {
    const since = q.down_since ? ` since ${formatClockTime(q.down_since)}` : '';
    setText(
      el,
      `Alert queue outage: ${q.backend === 'redis' ? 'Redis' : q.backend} is unreachable${since}. ` +
        'Alerts are kept here and re-published when it is back; alerts from other sentinel processes do not arrive meanwhile.',
    );
  }
}

function showDegraded(degraded: boolean): void {
  const el = byId('banner-degraded');
  el.hidden = !degraded;
  if (degraded) {
    setText(el, 'Degraded mode: end-to-end latency passed its limit, so enrichment is bypassed until it recovers. Alerts may lack district or site context.');
  }
}

// ---- stream -------------------------------------------------------------------

function onStreamMessage(msg: StreamMessage): void {
  switch (msg.type) {
    case 'snapshot':
      wantSnapshot = false;
      streamId = msg.stream ?? null;
      applyResult(state.applySnapshot(msg.seq, msg.alerts ?? []));
      if (msg.reset) toast('Resynchronised with the server (fresh snapshot)');
      break;
    case 'changes':
      if (state.isFromOtherSequence(msg.changes ?? [])) {
        // The server's sequence started over (a restart without its queue):
        // what this page holds is from before, so take a fresh snapshot.
        wantSnapshot = true;
        session?.stream.resync('the server restarted: fresh snapshot');
        break;
      }
      applyResult(state.applyChanges(msg.changes ?? []));
      break;
    case 'status':
      streamQueue = msg.queue;
      showQueueStatus();
      break;
    case 'error':
      toast(`Stream: ${msg.error}`, 'error');
      break;
    default:
      break;
  }
}

// ---- stats --------------------------------------------------------------------

async function pollStats(s: Session): Promise<void> {
  const started = Date.now();
  const seqBefore = state.hasSnapshot ? state.seq : 0;
  try {
    const stats = await s.api.get<Stats>('v1/stats', 2500);
    if (!s.running) return;
    if (typeof stats.last_seq === 'number' && stats.last_seq < seqBefore && !wantSnapshot) {
      // The server answered after we had applied seqBefore, so in the same
      // queue lifetime its last_seq could not be lower: it restarted empty.
      wantSnapshot = true;
      s.stream.resync('the server restarted: fresh snapshot');
    }
    const serverNow = Date.parse(stats.now);
    if (!Number.isNaN(serverNow)) clockOffsetMs = serverNow - (started + Date.now()) / 2;
    ops.update(stats);
    const counts = { alerts: stats.alerts ?? 0, trend: stats.trend_watch ?? 0 };
    if (counts.alerts !== serverCounts.alerts || counts.trend !== serverCounts.trend) {
      serverCounts = counts;
      scheduleRender();
    }
    statsQueue = stats.queue ?? null;
    if (statsQueue?.connected) streamQueue = null; // the outage is over
    showQueueStatus();
    showDegraded(!!stats.degraded);
    byId('ops').classList.remove('is-stale');
    ops.setStale(null);
  } catch (e) {
    if (!s.running) return;
    byId('ops').classList.add('is-stale');
    ops.setStale(`Figures out of date: ${(e as Error).message}`);
  } finally {
    if (s.running) s.statsTimer = setTimeout(() => void pollStats(s), Math.max(0, STATS_INTERVAL_MS - (Date.now() - started)));
  }
}

// ---- session ----------------------------------------------------------------------

function stopSession(): void {
  const s = session;
  session = null;
  if (!s) return;
  s.running = false;
  if (s.statsTimer) clearTimeout(s.statsTimer);
  s.stream.stop();
}

/** Forgets every alert shown (another token may see other things). */
function resetView(): void {
  wantSnapshot = false;
  state = new AlertState();
  selected = null;
  serverCounts = { alerts: 0, trend: 0 };
  streamQueue = statsQueue = null;
  showQueueStatus();
  showDegraded(false);
  render();
}

function unauthorised(message: string): void {
  if (!session) return;
  stopSession();
  clearToken(sessionStorage);
  resetView();
  showSignIn(`The server refused the token (401): ${message}`);
}

async function startSession(token: string): Promise<void> {
  stopSession();
  hideSignIn();
  const api = new Api(document.baseURI, token, unauthorised);
  const stream = new LiveStream(
    document.baseURI,
    token,
    {
      onMessage: onStreamMessage,
      onState: setConn,
      onUnauthorized: (reason) => unauthorised(reason),
      sinceSeq: () => (state.hasSnapshot && !wantSnapshot ? state.seq : null),
      streamId: () => streamId,
      onNeverOpened: () => {
        // A handshake refused with HTTP 401 closes without a code: ask the REST side.
        void api.get<WhoAmI>('v1/whoami').catch(() => undefined);
      },
    },
    {
      createSocket: (url, protocols) => new WebSocket(url, protocols) as unknown as SocketLike,
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      random: Math.random,
      now: Date.now,
    },
  );
  const s: Session = { api, stream, statsTimer: null, running: true };
  session = s;
  try {
    const me = await api.get<WhoAmI>('v1/whoami');
    setText(byId('whoami'), `${me.name} · ${me.role}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return; // unauthorised() showed the sign-in box
    setText(byId('whoami'), '');
  }
  if (session !== s) return;
  stream.start();
  void pollStats(s);
  api
    .get<MapData>('v1/map', 15000)
    .then((m) => {
      alertMap.setMapData(m);
      detail.setWeights(m.weights);
    })
    .catch((e: Error) => {
      if (!(e instanceof ApiError && e.status === 401)) toast(`Map data unavailable: ${e.message}`, 'error', 8000);
    });
}

// ---- sign-in ------------------------------------------------------------------------

function showSignIn(message: string): void {
  const box = byId('signin');
  box.hidden = false;
  document.body.classList.add('signed-out');
  const err = byId('signin-error');
  err.hidden = !message;
  setText(err, message);
  setText(byId('whoami'), '');
  setConn('stopped', 'signed out');
  const input = byId<HTMLInputElement>('signin-token');
  input.value = '';
  input.focus();
}

function hideSignIn(): void {
  byId('signin').hidden = true;
  document.body.classList.remove('signed-out');
}

byId<HTMLFormElement>('signin-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = byId<HTMLInputElement>('signin-token').value.trim();
  if (!token) return;
  if (!isSubprotocolSafe(token)) {
    const err = byId('signin-error');
    err.hidden = false;
    setText(err, 'That token has characters a token cannot contain (spaces or punctuation); paste it again.');
    return;
  }
  saveToken(sessionStorage, token);
  resetView();
  void startSession(token);
});

byId('signout').addEventListener('click', () => {
  stopSession();
  clearToken(sessionStorage);
  resetView();
  showSignIn('Signed out.');
});

// ---- start ------------------------------------------------------------------------------

function boot(): void {
  setClass(byId('conn'), 'conn');
  render();
  tick();
  const token = loadToken(window.location, window.history, sessionStorage);
  if (!token) {
    showSignIn('');
    return;
  }
  if (!isSubprotocolSafe(token)) {
    clearToken(sessionStorage);
    showSignIn('The token in the link has characters a token cannot contain.');
    return;
  }
  void startSession(token);
}

boot();
