// Times, confidences and provenance as the intel pages show them. Pure: the
// time zone comes in as an offset function (minutes east of UTC at an
// instant), the browser's own by default, so tests fix it.

import type { DedupRule } from './types.js';

/** Minutes east of UTC at the instant `utcMs` (the browser's zone: -getTimezoneOffset()). */
export type OffsetFn = (utcMs: number) => number;

export const localOffset: OffsetFn = (ms) => -new Date(ms).getTimezoneOffset();
export const utcOffset: OffsetFn = () => 0;

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The wall-clock fields of `ms` in the zone: a Date whose UTC getters read local time. */
function wall(ms: number, offset: OffsetFn): Date {
  return new Date(ms + offset(ms) * 60000);
}

/** "YYYY-MM-DD" (the zone's calendar day), "–" for null. */
export function formatDate(ms: number | null | undefined, offset: OffsetFn = localOffset): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const d = wall(ms, offset);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** "YYYY-MM-DD HH:MM", "–" for null. */
export function formatTime(ms: number | null | undefined, offset: OffsetFn = localOffset): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const d = wall(ms, offset);
  return `${formatDate(ms, offset)} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
}

/** The value of an <input type="datetime-local">: "YYYY-MM-DDTHH:MM", "" for null. */
export function toDateTimeLocal(ms: number | null | undefined, offset: OffsetFn = localOffset): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  return formatTime(ms, offset).replace(' ', 'T');
}

/** The UTC instant of a wall-clock time in the zone (the offset taken at that instant, so DST days work). */
function wallToUtc(wallMs: number, offset: OffsetFn): number {
  let t = wallMs - offset(wallMs) * 60000;
  t = wallMs - offset(t) * 60000;
  return t;
}

/** "YYYY-MM-DD" -> the instant that day starts in the zone; null when it is not a real date. */
export function parseDate(s: string, offset: OffsetFn = localOffset): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const w = Date.UTC(y, mo - 1, d);
  const check = new Date(w);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  return wallToUtc(w, offset);
}

/** "YYYY-MM-DDTHH:MM[:SS]" (datetime-local) -> the instant in the zone; null when it does not parse. */
export function parseDateTimeLocal(s: string, offset: OffsetFn = localOffset): number | null {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s.trim());
  if (!m) return null;
  const day = parseDate(m[1]!, utcOffset);
  const [h, mi, sec] = [Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
  if (day === null || h > 23 || mi > 59 || sec > 59) return null;
  return wallToUtc(day + ((h * 60 + mi) * 60 + sec) * 1000, offset);
}

/** The start of the zone's day after the one holding `ms`. */
export function nextDayStart(dayStartMs: number, offset: OffsetFn = localOffset): number {
  // Past a DST change a day is 23 or 25 hours: step a day and a half, then round down.
  return dayStart(dayStartMs + 36 * 3600000, offset);
}

/** The start of the zone's day holding `ms`. */
export function dayStart(ms: number, offset: OffsetFn = localOffset): number {
  return parseDate(formatDate(ms, offset), offset) ?? ms;
}

/** The time as precise as the extraction knew it: "2024-03-05" for a day, "about ..." for a span. */
export function formatWhen(ms: number | null, precision: string, offset: OffsetFn = localOffset): string {
  if (ms === null || precision === 'none') return 'unknown';
  switch (precision) {
    case 'day':
      return formatDate(ms, offset);
    case 'approx':
      return `about ${formatDate(ms, offset)}`;
    default:
      return formatTime(ms, offset);
  }
}

/** A confidence as two decimals ("0.72"), "–" when missing. */
export function formatConfidence(c: number | null | undefined): string {
  if (c === null || c === undefined || !Number.isFinite(c)) return '–';
  return c.toFixed(2);
}

const RULE_TEXT: Record<DedupRule, string> = {
  none: 'new (no earlier article matched)',
  canonical_url: 'same canonical URL',
  title: 'similar title',
  fingerprint: 'same content fingerprint',
  entity: 'same date, place and actors',
};

/** How the deduplicator matched an article, in words. */
export function dedupText(d: { rule: string; article: number | null; incident: number | null; score: number }): string {
  const rule = RULE_TEXT[d.rule as DedupRule] ?? d.rule;
  if (d.rule === 'none') return rule;
  const what = [d.article !== null ? `article ${d.article}` : '', d.incident !== null ? `incident ${d.incident}` : '']
    .filter(Boolean)
    .join(', ');
  const score = Number.isFinite(d.score) ? ` (score ${d.score.toFixed(2)})` : '';
  return `${rule}${score}${what ? `: matched ${what}` : ''}`;
}

/** How a source joined an incident ("via" of the incident's sources). */
export function viaText(via: string): string {
  return via === 'none' ? 'first report' : (RULE_TEXT[via as DedupRule] ?? via);
}

/** A district name as the API writes it ("ENGLEWOOD"), else "no district". */
export function districtText(d: string | null | undefined): string {
  return d ? d : 'no district';
}

/** An incident type for people: "sexual_assault" -> "sexual assault". */
export function typeText(t: string): string {
  return t ? t.replace(/_/g, ' ') : 'unknown type';
}

/** "Approve item 7 failed: <the server's words>" for the error banner. */
export function failureText(what: string, err: unknown): string {
  const status = (err as { status?: unknown } | null)?.status;
  const msg = err instanceof Error ? err.message : String(err);
  const code = typeof status === 'number' && status > 0 ? ` (${status})` : '';
  return `${what} failed${code}: ${msg}`;
}
