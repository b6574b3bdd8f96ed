// How the operations panel reads GET /v1/stats: which stage is end to end,
// latency against the budget, chart ticks. Pure.

import type { StageLatency } from './types.js';

const WARN_FRACTION = 0.8; // DESIGN.md section 8: warn when p95 passes 80% of the budget

/**
 * "ok", "warn" (past `warnMs`, by default 80% of the budget: the server's
 * latency.warn_p95_ms when it sends it) or "over" (past the budget).
 */
export function budgetClass(ms: number, budgetMs: number, warnMs?: number): string {
  if (!(budgetMs > 0) || !Number.isFinite(ms)) return 'ok';
  if (ms > budgetMs) return 'over';
  if (ms > (warnMs !== undefined && warnMs > 0 ? warnMs : WARN_FRACTION * budgetMs)) return 'warn';
  return 'ok';
}

/** Ticks of the log axis: the powers of ten in [min, max], and the budget when it is in range. */
export function logSplits(min: number, max: number, budget: number | null): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(Math.max(min, 1e-3))); e <= Math.ceil(Math.log10(Math.max(max, 1e-3))); e++) {
    const v = Number((10 ** e).toPrecision(1));
    if (v >= min && v <= max) out.push(v);
  }
  if (budget !== null && budget >= min && budget <= max && !out.includes(budget)) out.push(budget);
  return out.sort((a, b) => a - b);
}

/** The whole-path stage the chart follows: "end_to_end", else "event_to_alert", else the last one listed. */
export function endToEndStage(stages: readonly StageLatency[]): StageLatency | undefined {
  return stages.find((s) => s.stage === 'end_to_end') ?? stages.find((s) => s.stage === 'event_to_alert') ?? stages[stages.length - 1];
}

/** A time worth showing: it parses and is after 1970 (a server with no events yet may send a sentinel value). */
export function validTime(iso: string | null | undefined): boolean {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) && t > 0;
}
