// The alert queue as a list: the top `limit` entries in queue order, rows
// reused and moved in place (hundreds of alerts change without rebuilding the
// list), and the age and SLA cells refreshed by tick() once a second.

import type { Entry } from '../alert_state.js';
import { alertLabel, placeLabel, verdictTag } from '../labels.js';
import { formatAge, formatSla, slaState } from '../time_format.js';
import type { StoredAlert } from '../types.js';
import { h, setClass, setText } from './dom.js';

interface Row {
  li: HTMLLIElement;
  entry: Entry;
  badge: HTMLElement;
  label: HTMLElement;
  flags: HTMLElement;
  score: HTMLElement;
  place: HTMLElement;
  count: HTMLElement;
  age: HTMLElement;
  sla: HTMLElement;
}

export interface QueueListOptions {
  limit: number;
  /** Shown when the list is empty. */
  emptyText: string;
  onSelect(id: string): void;
}

export class QueueList {
  private readonly rows = new Map<string, Row>();
  private order: string[] = [];
  private selected: string | null = null;

  constructor(
    private readonly list: HTMLElement,
    private readonly footer: HTMLElement,
    private readonly options: QueueListOptions,
  ) {
    list.setAttribute('role', 'listbox');
    list.addEventListener('click', (ev) => {
      const li = (ev.target as Element).closest<HTMLElement>('li[data-alert-id]');
      if (li?.dataset.alertId) this.options.onSelect(li.dataset.alertId);
    });
  }

  /** The ids on screen, top first. */
  visibleIds(): readonly string[] {
    return this.order;
  }

  /** Shows `entries` (already in queue order); `total` counts what the server holds when it is more. */
  render(entries: readonly Entry[], selected: string | null, nowMs: number, total = entries.length): void {
    const top = entries.slice(0, this.options.limit);
    const keep = new Set(top.map((e) => e.alert.alert_id));
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.li.remove();
        this.rows.delete(id);
      }
    }
    let cursor: ChildNode | null = this.list.firstChild;
    for (const e of top) {
      const id = e.alert.alert_id;
      let row = this.rows.get(id);
      if (!row) {
        row = this.makeRow(e);
        this.rows.set(id, row);
        this.fill(row, nowMs);
      } else if (row.entry !== e) {
        row.entry = e;
        this.fill(row, nowMs);
      }
      if (row.li !== cursor) this.list.insertBefore(row.li, cursor);
      else cursor = cursor.nextSibling;
    }
    // Anything left after the rows (the empty-list note) goes.
    while (cursor) {
      const next: ChildNode | null = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
    if (top.length === 0) this.list.append(h('li', { class: 'empty', text: this.options.emptyText }));
    this.order = top.map((e) => e.alert.alert_id);
    const hidden = Math.max(total, entries.length) - top.length;
    setText(this.footer, hidden > 0 ? `+${hidden} more not shown (top ${this.options.limit} by priority)` : '');
    this.footer.hidden = hidden <= 0;
    this.select(selected);
  }

  select(id: string | null): void {
    if (this.selected === id) return;
    const old = this.selected ? this.rows.get(this.selected) : undefined;
    if (old) {
      old.li.classList.remove('is-selected');
      old.li.setAttribute('aria-selected', 'false');
    }
    this.selected = id;
    const row = id ? this.rows.get(id) : undefined;
    if (row) {
      row.li.classList.add('is-selected');
      row.li.setAttribute('aria-selected', 'true');
      row.li.scrollIntoView({ block: 'nearest' });
    }
  }

  /** Refreshes the per-second cells (age, SLA) of the rows on screen. */
  tick(nowMs: number): void {
    for (const row of this.rows.values()) this.fillClock(row, nowMs);
  }

  private makeRow(e: Entry): Row {
    const badge = h('span', { class: 'badge' });
    const label = h('span', { class: 'row-type' });
    const flags = h('span', { class: 'row-flags' });
    const score = h('span', { class: 'row-score', title: 'priority score' });
    const place = h('span', { class: 'row-place' });
    const count = h('span', { class: 'row-count', title: 'events in this alert' });
    const age = h('span', { class: 'row-age' });
    const sla = h('span', { class: 'row-sla' });
    const li = h(
      'li',
      { 'data-alert-id': e.alert.alert_id, role: 'option', 'aria-selected': 'false' },
      badge,
      h(
        'div',
        { class: 'row-body' },
        h('div', { class: 'row-line' }, label, flags, score),
        h('div', { class: 'row-line row-sub' }, place, count, age, sla),
      ),
    );
    return { li, entry: e, badge, label, flags, score, place, count, age, sla };
  }

  private fill(row: Row, nowMs: number): void {
    const a: StoredAlert = row.entry.alert;
    row.li.dataset.priority = a.priority;
    setText(row.badge, a.priority);
    setClass(row.badge, `badge pri-${a.priority}`);
    setText(row.label, alertLabel(a));
    const flags: string[] = [];
    if (a.bias_review) flags.push('BIAS');
    if (a.verified) flags.push('verified');
    const v = verdictTag(a.verdict);
    if (v) flags.push(v);
    setText(row.flags, flags.join(' · '));
    row.flags.classList.toggle('has-bias', a.bias_review);
    row.flags.title = a.bias_review ? 'bias review: check before acting' : '';
    setText(row.score, a.score.toFixed(3));
    setText(row.place, placeLabel(a));
    setText(row.count, `×${a.count}`);
    row.age.title = `received ${a.received_at}`;
    this.fillClock(row, nowMs);
  }

  private fillClock(row: Row, nowMs: number): void {
    const e = row.entry;
    setText(row.age, formatAge(nowMs - e.receivedMs));
    const sla = slaState(e.alert, e.dueMs, nowMs);
    const t = formatSla(sla);
    setText(row.sla, t.text);
    setClass(row.sla, `row-sla ${t.cls}`);
    const cls =
      `row pri-${e.alert.priority}` +
      (sla.kind === 'acked' ? ' is-acked' : '') +
      (sla.kind === 'overdue' ? ' is-overdue' : '') +
      (this.selected === e.alert.alert_id ? ' is-selected' : '');
    setClass(row.li, cls);
  }
}
