// Counts of incidents by type and by district. Pure.

import type { CountPairs } from './types.js';

export const NO_KEY = '(none)';

/** [key, count] pairs, most first, then by key; an empty key counts as "(none)". */
export function countBy<T>(items: readonly T[], key: (item: T) => string | null | undefined): CountPairs {
  const m = new Map<string, number>();
  for (const it of items) {
    const k = key(it) || NO_KEY;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return sortCounts([...m.entries()]);
}

export function sortCounts(pairs: CountPairs): CountPairs {
  return [...pairs].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The sum of the counts. */
export function totalOf(pairs: CountPairs): number {
  return pairs.reduce((s, [, n]) => s + n, 0);
}

/**
 * The counts to show: the server's (over every incident the filter selects,
 * also past the page limit) when the whole set is shown, else counts of the
 * incidents shown (a timeline day).
 */
export function countsToShow<T extends { type: string; district: string }>(
  server: { by_type: CountPairs; by_district: CountPairs } | null,
  shown: readonly T[],
  showingAll: boolean,
): { byType: CountPairs; byDistrict: CountPairs; fromServer: boolean } {
  if (showingAll && server && Array.isArray(server.by_type) && Array.isArray(server.by_district)) {
    return { byType: sortCounts(server.by_type), byDistrict: sortCounts(server.by_district), fromServer: true };
  }
  return { byType: countBy(shown, (i) => i.type), byDistrict: countBy(shown, (i) => i.district), fromServer: false };
}

/** Bar widths in percent of the largest count (0 for an empty list). */
export function barPercent(n: number, pairs: CountPairs): number {
  const max = pairs.reduce((m, [, c]) => Math.max(m, c), 0);
  return max > 0 ? Math.round((n / max) * 100) : 0;
}
