// The page's copy of the alert queue: a map keyed by alert_id, fed by the
// stream's snapshot and changes (and by the answers of ack/feedback calls),
// ordered exactly as the server orders it. No DOM here: unit-tested in Node.

import type { AlertChange, Priority, StoredAlert } from './types.js';

/** One alert with the times the ordering and the countdown need, parsed once. */
export interface Entry {
  alert: StoredAlert;
  receivedMs: number;
  dueMs: number | null;
}

const PRIORITY_RANK: Record<Priority, number> = { P0: 0, P1: 1, P2: 2, P3: 3 };

export function priorityRank(p: string): number {
  return PRIORITY_RANK[p as Priority] ?? 4;
}

/** Milliseconds of an RFC 3339 time, or NaN for null/garbage. */
export function parseTime(s: string | null | undefined): number {
  return s ? Date.parse(s) : NaN;
}

export function makeEntry(alert: StoredAlert): Entry {
  const due = parseTime(alert.ack_due);
  return { alert, receivedMs: parseTime(alert.received_at), dueMs: Number.isNaN(due) ? null : due };
}

/**
 * The server's queue order (src/alerts/alert_store.h): P0 before P3; within a
 * band the higher score first; then the newer received_at first; then the
 * smaller alert_id (ids are ASCII, so code-unit order is byte order).
 */
export function compareEntries(a: Entry, b: Entry): number {
  const pa = priorityRank(a.alert.priority);
  const pb = priorityRank(b.alert.priority);
  if (pa !== pb) return pa - pb;
  if (a.alert.score !== b.alert.score) return b.alert.score - a.alert.score;
  const ra = Number.isNaN(a.receivedMs) ? -Infinity : a.receivedMs;
  const rb = Number.isNaN(b.receivedMs) ? -Infinity : b.receivedMs;
  if (ra !== rb) return rb - ra;
  return a.alert.alert_id < b.alert.alert_id ? -1 : a.alert.alert_id > b.alert.alert_id ? 1 : 0;
}

const OPERATOR_ACK = ['acked_at', 'acked_by', 'ack_late'] as const;
const OPERATOR_VERDICT = ['verdict', 'verdict_at', 'verdict_by', 'verdict_note'] as const;

function copyFields<K extends keyof StoredAlert>(to: StoredAlert, from: StoredAlert, keys: readonly K[]): void {
  for (const k of keys) to[k] = from[k];
}

/**
 * Combines what the page holds with a newer view of the same alert. The
 * pipeline record comes from the higher revision (the incoming one on a tie:
 * stream changes arrive in order). An acknowledgement, once made, stays, and
 * the later verdict wins, as on the server; so an ack call's answer and the
 * stream's changes can arrive in either order without the row flickering back.
 */
export function mergeAlert(current: StoredAlert | undefined, incoming: StoredAlert): StoredAlert {
  if (!current) return incoming;
  const out: StoredAlert =
    current.revision > incoming.revision
      ? { ...current, ...pickOperator(incoming) }
      : { ...incoming };
  if (current.acked_at && !out.acked_at) copyFields(out, current, OPERATOR_ACK);
  const vc = parseTime(current.verdict_at);
  const vo = parseTime(out.verdict_at);
  if (!Number.isNaN(vc) && (Number.isNaN(vo) || vc > vo)) copyFields(out, current, OPERATOR_VERDICT);
  return out;
}

function pickOperator(a: StoredAlert): Partial<StoredAlert> {
  const out: Partial<StoredAlert> = {};
  for (const k of [...OPERATOR_ACK, ...OPERATOR_VERDICT]) (out as Record<string, unknown>)[k] = a[k];
  return out;
}

/** What one applied message changed, for the views to update only that. */
export interface ApplyResult {
  /** The whole set was replaced (snapshot). */
  reset: boolean;
  changed: Set<string>;
  removed: Set<string>;
}

export class AlertState {
  private readonly entries = new Map<string, Entry>();
  private sortedCache: { version: number; alerts: Entry[]; trend: Entry[] } | null = null;
  /** The last sequence number applied (0 before the first snapshot). */
  seq = 0;
  hasSnapshot = false;
  /** Changes whose seq was not last seq + 1 (should stay 0: the server resumes without gaps). */
  gaps = 0;
  /** Rises on every applied change; views compare it to skip work. */
  version = 0;

  get size(): number {
    return this.entries.size;
  }

  get(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  applySnapshot(seq: number, alerts: StoredAlert[]): ApplyResult {
    const removed = new Set(this.entries.keys());
    this.entries.clear();
    const changed = new Set<string>();
    for (const a of alerts) {
      this.entries.set(a.alert_id, makeEntry(a));
      changed.add(a.alert_id);
      removed.delete(a.alert_id);
    }
    this.seq = seq;
    this.hasSnapshot = true;
    this.version++;
    return { reset: true, changed, removed };
  }

  /**
   * True when `changes` can only come from a different sequence (the server
   * restarted with an empty queue): a server resuming after our last seq never
   * sends a change at or below it. The caller then asks for a fresh snapshot.
   */
  isFromOtherSequence(changes: readonly AlertChange[]): boolean {
    const first = changes[0];
    return this.hasSnapshot && first !== undefined && first.seq <= this.seq;
  }

  /** Applies stream changes in order; ones at or below the last seq are skipped. */
  applyChanges(changes: AlertChange[]): ApplyResult {
    const result: ApplyResult = { reset: false, changed: new Set(), removed: new Set() };
    for (const c of changes) {
      if (c.seq <= this.seq) continue;
      if (this.hasSnapshot && c.seq !== this.seq + 1) this.gaps++;
      this.seq = c.seq;
      const id = c.alert.alert_id;
      if (c.kind === 'evict') {
        if (this.entries.delete(id)) {
          result.removed.add(id);
          result.changed.delete(id);
        }
        continue;
      }
      this.entries.set(id, makeEntry(mergeAlert(this.entries.get(id)?.alert, c.alert)));
      result.changed.add(id);
      result.removed.delete(id);
    }
    if (result.changed.size || result.removed.size) this.version++;
    return result;
  }

  /** The answer of an ack or feedback call (the stream's change may come before or after it). */
  applyLocal(alert: StoredAlert): ApplyResult {
    const merged = mergeAlert(this.entries.get(alert.alert_id)?.alert, alert);
    this.entries.set(alert.alert_id, makeEntry(merged));
    this.version++;
    return { reset: false, changed: new Set([alert.alert_id]), removed: new Set() };
  }

  /** Alerts (status "alert") and trend-watch items, each in queue order. Cached per version. */
  sorted(): { alerts: Entry[]; trend: Entry[] } {
    if (this.sortedCache && this.sortedCache.version === this.version) return this.sortedCache;
    const alerts: Entry[] = [];
    const trend: Entry[] = [];
    for (const e of this.entries.values()) (e.alert.status === 'trend_watch' ? trend : alerts).push(e);
    alerts.sort(compareEntries);
    trend.sort(compareEntries);
    this.sortedCache = { version: this.version, alerts, trend };
    return this.sortedCache;
  }
}
