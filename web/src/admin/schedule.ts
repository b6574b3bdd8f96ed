// A feed's fetch schedule: the form's amount and unit to schedule_s, and back
// to words. Pure. The server accepts 60 s to 30 days (docs/INTEL_API.md); the
// page checks the same range so the admin sees the reason before a request.

export const SCHEDULE_UNITS = { minutes: 60, hours: 3600, days: 86400 } as const;
export type ScheduleUnit = keyof typeof SCHEDULE_UNITS;

export const MIN_SCHEDULE_S = 60;
export const MAX_SCHEDULE_S = 30 * 86400;

export type ScheduleResult = { ok: true; seconds: number } | { ok: false; error: string };

/** "90" minutes -> 5400 s; whole positive numbers only, inside [60 s, 30 days]. */
export function parseSchedule(amount: string, unit: string): ScheduleResult {
  const factor = (SCHEDULE_UNITS as Record<string, number>)[unit];
  if (factor === undefined) return { ok: false, error: `schedule: unknown unit "${unit}" (minutes, hours or days)` };
  const text = amount.trim();
  if (!/^\d+$/.test(text)) return { ok: false, error: 'schedule: expected a whole number' };
  const seconds = Number(text) * factor;
  if (seconds < MIN_SCHEDULE_S) return { ok: false, error: 'schedule: at least 1 minute' };
  if (seconds > MAX_SCHEDULE_S) return { ok: false, error: 'schedule: at most 30 days' };
  return { ok: true, seconds };
}

/** 3600 -> "1 h", 5400 -> "90 min", 86400 -> "1 d", 90 -> "90 s": the largest unit that divides it. */
export function formatSchedule(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '–';
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** How far `ms` is from `now`, in words: "in 5 min", "3 h ago", "now". */
export function relativeTime(ms: number | null | undefined, now: number): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  const d = ms - now;
  const a = Math.abs(d);
  if (a < 1000) return 'now';
  let text: string;
  if (a < 60000) text = `${Math.round(a / 1000)} s`;
  else if (a < 3600000) text = `${Math.round(a / 60000)} min`;
  else if (a < 86400000) text = `${Math.round(a / 3600000)} h`;
  else text = `${Math.round(a / 86400000)} d`;
  return d > 0 ? `in ${text}` : `${text} ago`;
}
