// The day-by-day playback of the incidents: which days it steps through, which
// incidents are shown on a day, and the play/pause state. Pure: the page runs
// the timer and calls step().

import { dayStart, localOffset, nextDayStart, type OffsetFn } from './format.js';

/** More days than this (ten years) are not stepped through one by one. */
export const MAX_DAYS = 3660;

/** The starts of every day from the one holding `fromMs` to the one holding `lastMs`, in the zone. */
export function dayStarts(fromMs: number, lastMs: number, offset: OffsetFn = localOffset): number[] {
  const days: number[] = [];
  if (!Number.isFinite(fromMs) || !Number.isFinite(lastMs) || lastMs < fromMs) return days;
  for (let d = dayStart(fromMs, offset); d <= lastMs && days.length < MAX_DAYS; d = nextDayStart(d, offset)) days.push(d);
  return days;
}

/**
 * The days of the timeline: the filter's range when it has both ends, else
 * from the earliest to the latest incident time (an open end taken from the
 * incidents); none when nothing has a time.
 */
export function timelineDays(
  bounds: { from: number | null; to: number | null },
  times: readonly (number | null)[],
  offset: OffsetFn = localOffset,
): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of times) {
    if (t === null || !Number.isFinite(t)) continue;
    lo = Math.min(lo, t);
    hi = Math.max(hi, t);
  }
  const from = bounds.from ?? lo;
  const last = bounds.to !== null ? bounds.to - 1 : hi;
  return dayStarts(from, last, offset);
}

/**
 * The incidents shown when the timeline stands at day `index`: those whose
 * time is before the end of that day. At the last day (or with no days)
 * everything is shown, the incidents without a time too.
 */
export function shownAt<T extends { time: number | null }>(
  items: readonly T[],
  days: readonly number[],
  index: number,
  offset: OffsetFn = localOffset,
): T[] {
  if (days.length === 0 || index >= days.length - 1) return [...items];
  const end = nextDayStart(days[Math.max(0, index)]!, offset);
  return items.filter((i) => i.time !== null && i.time < end);
}

/** Play/pause and the shown day. At the end playback stops; playing from the end starts over at day 0. */
export class TimelineState {
  private index_ = 0;
  private playing_ = false;

  constructor(private count_ = 0) {
    this.index_ = Math.max(0, count_ - 1);
  }

  get index(): number {
    return this.index_;
  }
  get playing(): boolean {
    return this.playing_;
  }
  get count(): number {
    return this.count_;
  }
  /** True at the last day: everything is shown. */
  get atEnd(): boolean {
    return this.index_ >= this.count_ - 1;
  }

  /** New days (new data): stops and shows everything. */
  reset(count: number): void {
    this.count_ = Math.max(0, count);
    this.index_ = Math.max(0, this.count_ - 1);
    this.playing_ = false;
  }

  /** Starts playing; false when there is nothing to play (fewer than two days). */
  play(): boolean {
    if (this.count_ < 2) return false;
    if (this.atEnd) this.index_ = 0;
    this.playing_ = true;
    return true;
  }

  pause(): void {
    this.playing_ = false;
  }

  /** Moves to the next day while playing; returns whether playback goes on after it. */
  step(): boolean {
    if (!this.playing_) return false;
    if (!this.atEnd) this.index_++;
    if (this.atEnd) this.playing_ = false;
    return this.playing_;
  }

  /** Shows day `i` (the slider); pauses. */
  seek(i: number): void {
    this.playing_ = false;
    this.index_ = Math.max(0, Math.min(Math.max(0, this.count_ - 1), Math.floor(i)));
  }
}
