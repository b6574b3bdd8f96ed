// Operations: GET /v1/stats once a second. A uPlot chart of the recent
// end-to-end p95/p99 against the latency budget (log scale: milliseconds and
// the 5 s budget on one axis), the per-stage p50/p95/p99 table, and the
// counters DESIGN.md section 8 asks to be visible.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { budgetClass, endToEndStage, logSplits, validTime } from '../stats_view.js';
import { formatClockTime, formatCount, formatMs } from '../time_format.js';
import type { Stats } from '../types.js';
import { h, setClass, setText } from './dom.js';

const HISTORY = 300; // samples (5 minutes at one a second)
export class OpsPanel {
  private readonly times: number[] = [];
  private readonly p95: (number | null)[] = [];
  private readonly p99: (number | null)[] = [];
  private readonly budget: (number | null)[] = [];
  private chart: uPlot | null = null;
  private readonly chartHost: HTMLElement;
  private readonly table: HTMLTableSectionElement;
  private readonly counters = new Map<string, HTMLElement>();
  private readonly budgetLabel: HTMLElement;
  private readonly staleNote: HTMLElement;

  constructor(root: HTMLElement) {
    this.chartHost = h('div', { class: 'ops-chart', id: 'latency-chart' });
    this.table = h('tbody');
    this.budgetLabel = h('span', { class: 'ops-budget' });
    this.staleNote = h('div', { class: 'ops-stale', id: 'ops-stale', role: 'status', hidden: true });
    const table = h(
      'table',
      { class: 'latency', id: 'latency-table' },
      h('thead', {}, h('tr', {}, h('th', { text: 'stage' }), h('th', { text: 'p50 ms' }), h('th', { text: 'p95 ms' }), h('th', { text: 'p99 ms' }))),
      this.table,
    );
    const grid = h('dl', { class: 'counters', id: 'counters' });
    const names: [string, string][] = [
      ['rate', 'events/s'],
      ['events', 'events'],
      ['lag', 'consumer lag'],
      ['dead_letters', 'dead letters'],
      ['late', 'late'],
      ['duplicates', 'duplicates'],
      ['suppressed', 'suppressed'],
      ['unacked', 'unacked'],
      ['overdue', 'overdue'],
      ['trend_watch', 'trend watch'],
      ['watermark', 'watermark'],
      ['queue', 'alert queue'],
    ];
    for (const [key, label] of names) {
      const dd = h('dd', { 'data-counter': key, text: '–' });
      this.counters.set(key, dd);
      grid.append(h('div', { class: key === 'watermark' || key === 'queue' ? 'counter counter-wide' : 'counter' }, h('dt', { text: label }), dd));
    }
    root.append(
      this.staleNote,
      h(
        'div',
        { class: 'ops-col ops-col-chart' },
        h('div', { class: 'ops-title' }, 'End-to-end latency p95 / p99 ', this.budgetLabel),
        this.chartHost,
      ),
      h('div', { class: 'ops-col ops-col-table' }, table),
      h('div', { class: 'ops-col ops-col-counters' }, grid),
    );
    new ResizeObserver(() => this.resize()).observe(this.chartHost);
  }

  /** Marks the figures as old (null: fresh again). */
  setStale(message: string | null): void {
    this.staleNote.hidden = message === null;
    setText(this.staleNote, message ?? '');
  }

  update(s: Stats): void {
    const budget = s.latency?.budget_ms ?? 0;
    const warn = s.latency?.warn_p95_ms;
    const whole = endToEndStage(s.latency?.stages ?? []);
    const label = [whole ? `stage ${whole.stage.replace(/_/g, ' ')}` : '', budget > 0 ? `budget ${formatMs(budget)} ms` : '']
      .filter(Boolean)
      .join(', ');
    setText(this.budgetLabel, label ? `(${label})` : '');
    const stages = s.latency?.stages ?? [];
    const rows = stages.map((st) => {
      const tr = h('tr', { 'data-stage': st.stage, class: st === endToEndStage(stages) ? 'e2e' : '' });
      tr.append(h('td', { text: st.stage.replace(/_/g, ' ') }));
      for (const v of [st.p50_ms, st.p95_ms, st.p99_ms]) {
        tr.append(h('td', { class: `num lat-${budgetClass(v, budget, warn)}`, text: formatMs(v) }));
      }
      return tr;
    });
    this.table.replaceChildren(...rows);

    this.set('rate', (s.events?.rate_per_s ?? 0).toFixed(1));
    this.set('events', formatCount(s.events?.total));
    this.set('lag', formatCount(s.consumer_lag), s.consumer_lag > 0 ? 'warn' : '');
    this.set('dead_letters', formatCount(s.dead_letters), s.dead_letters > 0 ? 'warn' : '');
    this.set('late', formatCount(s.late));
    this.set('duplicates', formatCount(s.duplicates));
    this.set('suppressed', formatCount(s.suppressed));
    this.set('unacked', formatCount(s.unacked));
    this.set('overdue', formatCount(s.overdue), s.overdue > 0 ? 'bad' : '');
    this.set('trend_watch', formatCount(s.trend_watch));
    this.set('watermark', validTime(s.watermark) ? formatClockTime(s.watermark) : '–');
    const q = s.queue;
    this.set('queue', q ? `${q.backend}${q.connected ? '' : ' DOWN'}` : '–', q && !q.connected ? 'bad' : '');

    const e2e = endToEndStage(stages);
    const t = Date.parse(s.now);
    this.times.push((Number.isNaN(t) ? Date.now() : t) / 1000);
    // Log scale: a zero would have no place on it, so it is drawn at 0.01 ms.
    this.p95.push(e2e ? Math.max(0.01, e2e.p95_ms) : null);
    this.p99.push(e2e ? Math.max(0.01, e2e.p99_ms) : null);
    this.budget.push(budget > 0 ? budget : null);
    if (this.times.length > HISTORY) {
      for (const a of [this.times, this.p95, this.p99, this.budget]) a.shift();
    }
    this.draw();
  }

  private set(key: string, text: string, cls = ''): void {
    const el = this.counters.get(key);
    if (!el) return;
    setText(el, text);
    setClass(el, cls);
  }

  private draw(): void {
    const data: uPlot.AlignedData = [this.times, this.p95, this.p99, this.budget];
    if (this.chart) {
      this.chart.setData(data);
      return;
    }
    const { width, height } = this.size();
    // A single sample has no time span to draw; the next poll brings the second.
    if (width < 50 || height < 50 || this.times.length < 2) return;
    this.chart = new uPlot(
      {
        width,
        height,
        legend: { show: true, live: false },
        cursor: { show: true, drag: { x: false, y: false } },
        scales: {
          x: { time: true },
          y: { distr: 3, log: 10, range: (_u, min, max) => [Math.min(0.1, min || 0.1), Math.max(10, max || 10) * 1.5] },
        },
        axes: [
          { stroke: '#9aa5b1', grid: { stroke: '#2b333d' }, ticks: { stroke: '#2b333d' }, space: 70 },
          {
            stroke: '#9aa5b1',
            grid: { stroke: '#2b333d' },
            ticks: { stroke: '#2b333d' },
            size: 48,
            // Powers of ten (and the budget), labelled "0.1", "1", "10", "100", "1s", "5s".
            splits: (_u, _axis, min, max) => logSplits(min, max, this.budget[this.budget.length - 1] ?? null),
            // uPlot passes null for ticks it leaves unlabelled.
            values: (_u, vals) => vals.map((v) => (v === null || v === undefined ? '' : v >= 1000 ? `${v / 1000}s` : `${v}`)),
          },
        ],
        series: [
          {},
          { label: 'p95 ms', stroke: '#4fc3f7', width: 2, value: (_u, v) => formatMs(v) },
          { label: 'p99 ms', stroke: '#ff8a65', width: 2, value: (_u, v) => formatMs(v) },
          { label: 'budget', stroke: '#e53935', width: 1, dash: [6, 4], value: (_u, v) => formatMs(v) },
        ],
      },
      data,
      this.chartHost,
    );
  }

  private size(): { width: number; height: number } {
    const r = this.chartHost.getBoundingClientRect();
    // The legend takes a line under the plot.
    return { width: Math.floor(r.width), height: Math.max(0, Math.floor(r.height) - 28) };
  }

  private resize(): void {
    if (!this.chart) {
      if (this.times.length) this.draw();
      return;
    }
    const s = this.size();
    if (s.width >= 50 && s.height >= 50) this.chart.setSize(s);
  }
}
