// The incident filters: their state, the request they make and their place in
// the address bar's fragment (so a filtered view can be reopened). Pure.

import { localOffset, nextDayStart, parseDate, type OffsetFn } from './format.js';

export interface IncidentFilter {
  /** First day shown, "YYYY-MM-DD" in the page's zone; "" for no lower bound. */
  from: string;
  /** Last day shown (inclusive), "YYYY-MM-DD"; "" for no upper bound. */
  to: string;
  types: string[];
  districts: string[];
  statuses: string[];
}

export const MAX_INCIDENTS = 500;

export function emptyFilter(): IncidentFilter {
  return { from: '', to: '', types: [], districts: [], statuses: [] };
}

/** The filter's problems, in words; empty when it can be sent. */
export function filterErrors(f: IncidentFilter, offset: OffsetFn = localOffset): string[] {
  const errors: string[] = [];
  const from = f.from ? parseDate(f.from, offset) : null;
  const to = f.to ? parseDate(f.to, offset) : null;
  if (f.from && from === null) errors.push(`from: "${f.from}" is not a date (YYYY-MM-DD)`);
  if (f.to && to === null) errors.push(`to: "${f.to}" is not a date (YYYY-MM-DD)`);
  if (from !== null && to !== null && from > to) errors.push('from is after to');
  return errors;
}

/** The [from, to) instants of the filter's days: to is the start of the day after the last. */
export function filterBounds(f: IncidentFilter, offset: OffsetFn = localOffset): { from: number | null; to: number | null } {
  const from = f.from ? parseDate(f.from, offset) : null;
  const last = f.to ? parseDate(f.to, offset) : null;
  return { from, to: last === null ? null : nextDayStart(last, offset) };
}

function list(values: readonly string[]): string {
  return [...new Set(values.map((v) => v.trim()).filter(Boolean))].map(encodeURIComponent).join(',');
}

/**
 * GET path of the incidents the filter selects. `to` is sent as the last
 * millisecond of the last day, which is right whether the server reads it as
 * inclusive or exclusive.
 */
export function incidentsPath(f: IncidentFilter, limit = MAX_INCIDENTS, offsetRows = 0, offset: OffsetFn = localOffset): string {
  const { from, to } = filterBounds(f, offset);
  const parts: string[] = [];
  if (from !== null) parts.push(`from=${from}`);
  if (to !== null) parts.push(`to=${to - 1}`);
  const types = list(f.types);
  if (types) parts.push(`type=${types}`);
  const districts = list(f.districts);
  if (districts) parts.push(`district=${districts}`);
  const statuses = list(f.statuses);
  if (statuses) parts.push(`status=${statuses}`);
  parts.push(`limit=${limit}`, `offset=${offsetRows}`);
  return `v1/intel/incidents?${parts.join('&')}`;
}

/** The filter as fragment parameters (from, to, type, district, status); empty ones are left out. */
export function filterToParams(f: IncidentFilter): URLSearchParams {
  const p = new URLSearchParams();
  if (f.from) p.set('from', f.from);
  if (f.to) p.set('to', f.to);
  if (f.types.length) p.set('type', f.types.join(','));
  if (f.districts.length) p.set('district', f.districts.join(','));
  if (f.statuses.length) p.set('status', f.statuses.join(','));
  return p;
}

/** The filter in fragment parameters (what filterToParams wrote, or a hand-made link). */
export function filterFromParams(p: URLSearchParams): IncidentFilter {
  const split = (k: string) => (p.get(k) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return {
    from: (p.get('from') ?? '').trim(),
    to: (p.get('to') ?? '').trim(),
    types: split('type'),
    districts: split('district').map((d) => d.toUpperCase()),
    statuses: split('status'),
  };
}
