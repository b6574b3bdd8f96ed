// Countdowns, ages and clock times as the operator reads them. Pure functions.

export type SlaState =
  | { kind: 'none' } // the band has no acknowledgement SLA (P3, trend watch)
  | { kind: 'due'; remainingMs: number }
  | { kind: 'overdue'; overMs: number }
  | { kind: 'acked'; late: boolean };

export function slaState(
  alert: { acked_at: string | null; ack_late: boolean },
  dueMs: number | null,
  nowMs: number,
): SlaState {
  if (alert.acked_at) return { kind: 'acked', late: alert.ack_late };
  if (dueMs === null) return { kind: 'none' };
  const left = dueMs - nowMs;
  return left >= 0 ? { kind: 'due', remainingMs: left } : { kind: 'overdue', overMs: -left };
}

/** "m:ss", "h:mm:ss" past an hour, "Nd h:mm:ss" past a day. Whole seconds, never negative. */
export function clock(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const days = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const ss = String(sec).padStart(2, '0');
  if (days > 0) return `${days}d ${h}:${String(m).padStart(2, '0')}:${ss}`;
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${ss}`;
  return `${m}:${ss}`;
}

export interface SlaText {
  text: string;
  /** CSS class: sla-due, sla-soon (under a fifth of a minute), sla-overdue, sla-acked, sla-late, sla-none. */
  cls: string;
}

/**
 * A countdown rounds up (it shows 1:00 when the minute starts and 0:00 only
 * at the due instant); time overdue rounds down (+0:00 until a full second).
 */
export function formatSla(s: SlaState): SlaText {
  switch (s.kind) {
    case 'none':
      return { text: 'no SLA', cls: 'sla-none' };
    case 'acked':
      return s.late ? { text: 'acked late', cls: 'sla-late' } : { text: 'acked', cls: 'sla-acked' };
    case 'due': {
      const secs = Math.ceil(s.remainingMs / 1000);
      return { text: clock(secs), cls: secs <= 15 ? 'sla-soon' : 'sla-due' };
    }
    case 'overdue':
      return { text: `overdue +${clock(s.overMs / 1000)}`, cls: 'sla-overdue' };
  }
}

/** A short age: "5s", "4m", "3h 02m", "2d 4h". Negative ages (clock skew) read "0s". */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local "YYYY-MM-DD HH:MM:SS" of an RFC 3339 time; the input itself when it does not parse; "–" for null. */
export function formatClockTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = new Date(t);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

/** Milliseconds as the latency table shows them: "0.42", "12.3", "480", "5.2 s". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms >= 10000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

/** A count with thin thousands separators: 1234567 -> "1 234 567". */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const neg = n < 0;
  const digits = String(Math.round(Math.abs(n)));
  const groups: string[] = [];
  for (let i = digits.length; i > 0; i -= 3) groups.unshift(digits.slice(Math.max(0, i - 3), i));
  return (neg ? '-' : '') + groups.join('\u2009');
}
