// The queue's request and paging. Pure.

import type { StateFilter } from './types.js';
import { STATE_FILTERS } from './types.js';

export const PAGE_SIZE = 50;

/** GET path of one page of the queue (oldest first, as the server orders it). */
export function curationPath(state: StateFilter, limit: number, offset: number): string {
  const s = STATE_FILTERS.includes(state) ? state : 'open';
  return `v1/intel/curation?state=${s}&limit=${Math.max(1, Math.floor(limit))}&offset=${Math.max(0, Math.floor(offset))}`;
}

/** "1–50 of 120", "0 of 0". */
export function pageLabel(offset: number, shown: number, total: number): string {
  if (shown === 0) return `0 of ${total}`;
  return `${offset + 1}–${offset + shown} of ${total}`;
}

/** The offset of the page `delta` pages away, kept inside [0, last page]. */
export function pageOffset(offset: number, delta: number, limit: number, total: number): number {
  const last = total > 0 ? Math.floor((total - 1) / limit) * limit : 0;
  return Math.max(0, Math.min(last, offset + delta * limit));
}

/**
 * The item to select after the list changed: the same one when it is still
 * there, else the one now at the old position (the next in the queue after a
 * decision removed it), else the last; null on an empty list.
 */
export function reselect(ids: readonly number[], previous: number | null, previousIndex: number): number | null {
  if (ids.length === 0) return null;
  if (previous !== null && ids.includes(previous)) return previous;
  const i = Math.max(0, Math.min(ids.length - 1, previousIndex));
  return ids[i] ?? null;
}

export type KeyCommand = 'next' | 'prev' | 'approve' | 'reject' | 'escape';

/** The command of a key press on the page; null when it is not one or belongs to a text field. */
export function keyCommand(
  ev: { key: string; ctrlKey: boolean; metaKey: boolean; altKey: boolean },
  inTextField: boolean,
): KeyCommand | null {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return null;
  if (ev.key === 'Escape') return 'escape';
  if (inTextField) return null;
  switch (ev.key) {
    case 'j':
    case 'ArrowDown':
      return 'next';
    case 'k':
    case 'ArrowUp':
      return 'prev';
    case 'a':
      return 'approve';
    case 'r':
      return 'reject';
    default:
      return null;
  }
}

/** The id `delta` rows from `current` (the first row when nothing is selected), clamped to the list. */
export function moveSelection(ids: readonly number[], current: number | null, delta: number): number | null {
  if (ids.length === 0) return null;
  const i = current === null ? -1 : ids.indexOf(current);
  if (i < 0) return ids[0] ?? null;
  return ids[Math.max(0, Math.min(ids.length - 1, i + delta))] ?? null;
}
