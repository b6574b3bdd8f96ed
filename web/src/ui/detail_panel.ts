// The selected alert: why it got its priority (each score term, with the
// weights when the server gives them), what it is made of (sources, events,
// district, times), the operator side (SLA, ack, verdict) and the actions.

import type { Entry } from '../alert_state.js';
import { alertLabel, placeLabel, reasonsText, verdictTag } from '../labels.js';
import { formatClockTime, formatSla, slaState } from '../time_format.js';
import type { AuditTrail, ScoreTerms, StoredAlert } from '../types.js';
import { TERM_NAMES } from '../types.js';
import { h, setClass, setText } from './dom.js';

export interface DetailActions {
  ack(id: string): Promise<void>;
  feedback(id: string, verdict: 'true_positive' | 'false_positive', note: string): Promise<void>;
  audit(id: string): Promise<AuditTrail>;
}

const TERM_LABELS: Record<keyof ScoreTerms, string> = {
  threat_severity: 'threat severity',
  model_confidence: 'model confidence',
  corroboration: 'corroboration',
  temporal_urgency: 'temporal urgency',
  spatial_sensitivity: 'spatial sensitivity',
  boost: 'boost',
};

export class DetailPanel {
  private entry: Entry | null = null;
  private weights: Partial<Record<keyof ScoreTerms, number>> | null = null;
  private readonly empty: HTMLElement;
  private readonly body: HTMLElement;
  private readonly sla: HTMLElement;
  private readonly ackButton: HTMLButtonElement;
  private readonly tpButton: HTMLButtonElement;
  private readonly fpButton: HTMLButtonElement;
  private readonly auditButton: HTMLButtonElement;
  private readonly note: HTMLInputElement;
  private readonly headHost: HTMLElement;
  private readonly content: HTMLElement;
  private readonly audit: AuditPanel;
  private busy = false;

  constructor(
    root: HTMLElement,
    private readonly actions: DetailActions,
  ) {
    this.empty = h('div', { class: 'detail-empty' }, 'Select an alert: click it in the queue or on the map, or use ↑ ↓.');
    this.sla = h('div', { class: 'd-sla', id: 'detail-sla' });
    this.ackButton = h('button', { type: 'button', id: 'btn-ack', class: 'btn btn-primary', title: 'Acknowledge (key a)' }, 'Acknowledge');
    this.tpButton = h('button', { type: 'button', id: 'btn-tp', class: 'btn', 'aria-pressed': 'false' }, 'True positive');
    this.fpButton = h('button', { type: 'button', id: 'btn-fp', class: 'btn', 'aria-pressed': 'false' }, 'False positive');
    this.auditButton = h('button', { type: 'button', id: 'btn-audit', class: 'btn' }, 'Audit trail');
    this.note = h('input', {
      type: 'text',
      id: 'feedback-note',
      maxlength: 1000,
      placeholder: 'note for the verdict (optional)',
      'aria-label': 'note for the verdict (optional)',
    });
    this.headHost = h('div', { class: 'd-head-host' });
    this.content = h('div', { class: 'd-content' });
    this.body = h(
      'div',
      { class: 'detail-body', hidden: true },
      this.headHost,
      this.sla,
      h('div', { class: 'd-actions' }, this.ackButton, this.tpButton, this.fpButton, this.auditButton),
      this.note,
      this.content,
    );
    this.audit = new AuditPanel();
    root.append(this.empty, this.body, this.audit.root);
    this.ackButton.addEventListener('click', () => void this.runAck());
    this.tpButton.addEventListener('click', () => void this.runFeedback('true_positive'));
    this.fpButton.addEventListener('click', () => void this.runFeedback('false_positive'));
    this.auditButton.addEventListener('click', () => void this.openAudit());
  }

  setWeights(w: Partial<Record<keyof ScoreTerms, number>> | null | undefined): void {
    this.weights = w && Object.keys(w).length ? w : null;
    if (this.entry) this.renderContent(this.entry.alert);
  }

  get currentId(): string | null {
    return this.entry?.alert.alert_id ?? null;
  }

  /** Shows `entry` (null: nothing selected). Re-renders only when the alert changed. */
  show(entry: Entry | null, nowMs: number): void {
    const changedAlert = entry?.alert.alert_id !== this.entry?.alert.alert_id;
    if (entry === this.entry) return;
    this.entry = entry;
    this.empty.hidden = entry !== null;
    this.body.hidden = entry === null;
    if (changedAlert) {
      this.note.value = '';
      this.audit.close();
    }
    if (!entry) return;
    this.renderContent(entry.alert);
    this.tick(nowMs);
  }

  closeAudit(): boolean {
    return this.audit.close();
  }

  tick(nowMs: number): void {
    const e = this.entry;
    if (!e) return;
    const a = e.alert;
    const s = slaState(a, e.dueMs, nowMs);
    const t = formatSla(s);
    let text: string;
    switch (s.kind) {
      case 'due':
        text = `Acknowledge within ${t.text} (due ${formatClockTime(a.ack_due)})`;
        break;
      case 'overdue':
        text = `Acknowledgement ${t.text} (was due ${formatClockTime(a.ack_due)})`;
        break;
      case 'acked':
        text = `${s.late ? 'Acknowledged late' : 'Acknowledged'} by ${a.acked_by || '?'} at ${formatClockTime(a.acked_at)}`;
        break;
      default:
        text = a.status === 'trend_watch' ? 'Trend watch: no acknowledgement SLA' : `${a.priority}: no acknowledgement SLA`;
    }
    setText(this.sla, text);
    setClass(this.sla, `d-sla ${t.cls}`);
  }

  /** The 'a' key: acknowledges the shown alert. */
  acknowledge(): void {
    void this.runAck();
  }

  private async runAck(): Promise<void> {
    const e = this.entry;
    if (!e || this.busy || e.alert.acked_at) return;
    await this.withBusy(() => this.actions.ack(e.alert.alert_id));
  }

  private async runFeedback(verdict: 'true_positive' | 'false_positive'): Promise<void> {
    const e = this.entry;
    if (!e || this.busy) return;
    await this.withBusy(() => this.actions.feedback(e.alert.alert_id, verdict, this.note.value.trim()));
  }

  private async openAudit(): Promise<void> {
    const e = this.entry;
    if (!e) return;
    const id = e.alert.alert_id;
    this.audit.open(id);
    try {
      const trail = await this.actions.audit(id);
      if (this.entry?.alert.alert_id === id) this.audit.fill(trail);
    } catch (err) {
      this.audit.fail((err as Error).message);
    }
  }

  private async withBusy(fn: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.updateButtons();
    try {
      await fn();
    } catch {
      // the caller reported it
    } finally {
      this.busy = false;
      this.updateButtons();
    }
  }

  private updateButtons(): void {
    const a = this.entry?.alert;
    this.ackButton.disabled = this.busy || !a || !!a.acked_at;
    setText(this.ackButton, a?.acked_at ? 'Acknowledged' : 'Acknowledge');
    this.tpButton.disabled = this.busy || !a;
    this.fpButton.disabled = this.busy || !a;
    this.tpButton.setAttribute('aria-pressed', String(a?.verdict === 'true_positive'));
    this.fpButton.setAttribute('aria-pressed', String(a?.verdict === 'false_positive'));
  }

  private renderContent(a: StoredAlert): void {
    this.updateButtons();
    const head = h(
      'div',
      { class: 'd-head' },
      h('span', { class: `badge badge-big pri-${a.priority}`, id: 'detail-priority', text: a.priority }),
      h(
        'div',
        { class: 'd-title' },
        h('div', { class: 'd-type', text: alertLabel(a) }),
        h('div', { class: 'd-place', text: `${placeLabel(a)} · ${a.alert_id}` }),
      ),
      h('div', { class: 'd-score', title: 'priority score' }, h('small', { text: 'score' }), a.score.toFixed(3)),
    );
    const bias = a.bias_review
      ? h(
          'div',
          { class: 'bias-banner', id: 'detail-bias', role: 'alert' },
          h('strong', { text: 'BIAS REVIEW' }),
          ' This district gets more model-derived alerts than its share of events (four-fifths rule). Review before acting.',
        )
      : null;
    const status =
      a.status === 'trend_watch' ? h('div', { class: 'trend-note', text: 'Trend watch: below the alert gate, kept for context.' }) : null;

    const terms = h('table', { class: 'terms', id: 'detail-terms' });
    const w = this.weights;
    terms.append(
      h(
        'tr',
        {},
        h('th', { text: 'term' }),
        h('th', { text: 'value' }),
        h('th', { class: 'bar-col', text: '' }),
        w ? h('th', { text: 'weight' }) : null,
        w ? h('th', { text: 'adds' }) : null,
      ),
    );
    let sum = 0;
    for (const name of TERM_NAMES) {
      const v = a.terms?.[name] ?? 0;
      const weight = name === 'boost' ? 1 : w?.[name];
      const adds = weight === undefined ? null : weight * v;
      if (adds !== null) sum += adds;
      const bar = h('div', { class: 'bar' }, h('div', { class: 'bar-fill', style: `width:${Math.round(Math.max(0, Math.min(1, v)) * 100)}%` }));
      terms.append(
        h(
          'tr',
          { 'data-term': name },
          h('td', { text: TERM_LABELS[name] }),
          h('td', { class: 'num', text: v.toFixed(3) }),
          h('td', { class: 'bar-col' }, bar),
          w ? h('td', { class: 'num', text: name === 'boost' ? '+' : weight === undefined ? '–' : weight.toFixed(2) }) : null,
          w ? h('td', { class: 'num', text: adds === null ? '–' : adds.toFixed(3) }) : null,
        ),
      );
    }
    if (w) {
      terms.append(
        h(
          'tr',
          { class: 'sum' },
          h('td', { text: 'score (clipped to 0..1)' }),
          h('td', { class: 'num', text: a.score.toFixed(3) }),
          h('td', {}),
          h('td', {}),
          h('td', { class: 'num', text: Math.max(0, Math.min(1, sum)).toFixed(3) }),
        ),
      );
    }

    const verdict = verdictTag(a.verdict);
    const facts: [string, string][] = [
      ['status', a.status],
      ['confidence', a.confidence === null ? 'none (default used)' : a.confidence.toFixed(3)],
      ['verified', a.verified ? 'yes: corroborated by another source' : 'no'],
      ['sources', a.sources.join(', ') || '–'],
      ['count', String(a.count)],
      ['revision', String(a.revision)],
      ['district', a.district ?? '–'],
      ['location', a.lat !== null && a.lon !== null ? `${a.lat.toFixed(5)}, ${a.lon.toFixed(5)}` : 'no place'],
      ['event time', formatClockTime(a.event_time)],
      ['first / last seen', `${formatClockTime(a.first_seen)} / ${formatClockTime(a.last_seen)}`],
      ['emitted', formatClockTime(a.emitted_at)],
      ['received', formatClockTime(a.received_at)],
      ['updated', formatClockTime(a.updated_at)],
      ['ack due', a.ack_due ? formatClockTime(a.ack_due) : 'no SLA'],
      ['acked', a.acked_at ? `${formatClockTime(a.acked_at)} by ${a.acked_by || '?'}${a.ack_late ? ' (late)' : ''}` : 'not yet'],
      [
        'verdict',
        verdict ? `${verdict === 'TP' ? 'true positive' : 'false positive'} by ${a.verdict_by || '?'} at ${formatClockTime(a.verdict_at)}` : 'none',
      ],
    ];
    if (a.verdict_note) facts.push(['note', a.verdict_note]);
    if (a.origin) facts.push(['origin', a.origin]);
    const dl = h('dl', { class: 'facts' });
    for (const [k, v] of facts) dl.append(h('dt', { text: k }), h('dd', { text: v, 'data-fact': k }));

    const events = h('ul', { class: 'event-ids', id: 'detail-events' });
    for (const id of a.event_ids) events.append(h('li', { text: id }));

    const top: (HTMLElement | null)[] = [head, bias, status];
    this.headHost.replaceChildren(...top.filter((x): x is HTMLElement => x !== null));
    const parts: (HTMLElement | null)[] = [
      h('h3', { text: 'Why this priority' }),
      terms,
      w ? null : h('div', { class: 'hint', text: 'Term values 0..1; the server did not send the weights.' }),
      dl,
      h('h3', { text: `Events (${a.count}${a.event_ids.length < a.count ? `, ${a.event_ids.length} listed` : ''})` }),
      events,
    ];
    this.content.replaceChildren(...parts.filter((x): x is HTMLElement => x !== null));
  }
}

/** The audit trail of one alert (GET /v1/alerts/{id}/audit), over the detail column. */
class AuditPanel {
  readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly list: HTMLElement;

  constructor() {
    this.title = h('h3', { text: 'Audit trail' });
    this.list = h('div', { class: 'audit-list' });
    const close = h('button', { type: 'button', class: 'btn btn-small', id: 'audit-close', title: 'Close (Esc)' }, 'Close');
    close.addEventListener('click', () => this.close());
    this.root = h(
      'section',
      { id: 'audit-panel', class: 'audit-panel', hidden: true, role: 'dialog', 'aria-label': 'audit trail' },
      h('div', { class: 'audit-head' }, this.title, close),
      this.list,
    );
  }

  open(id: string): void {
    setText(this.title, `Audit trail of ${id}`);
    this.list.replaceChildren(h('div', { class: 'hint', text: 'loading…' }));
    this.root.hidden = false;
  }

  fill(trail: AuditTrail): void {
    const records = trail.records ?? [];
    if (records.length === 0) {
      this.list.replaceChildren(h('div', { class: 'hint', text: 'No audit records.' }));
      return;
    }
    const rows = records.map((r) =>
      h(
        'div',
        { class: `audit-rec audit-${r.decision}`, 'data-decision': r.decision },
        h(
          'div',
          { class: 'audit-line' },
          h('span', { class: 'audit-seq', text: `${r.log ?? 'audit'} #${r.seq}` }),
          h('span', { class: 'audit-decision', text: r.decision }),
          h('span', { class: 'audit-ts', text: formatClockTime(r.ts) }),
        ),
        h('div', { class: 'audit-ref', text: r.ref }),
        h('div', { class: 'audit-reasons', text: reasonsText(r.reasons) }),
      ),
    );
    this.list.replaceChildren(...rows);
  }

  fail(message: string): void {
    this.list.replaceChildren(h('div', { class: 'hint error', text: `Could not load the audit trail: ${message}` }));
  }

  /** True when it was open. */
  close(): boolean {
    const was = !this.root.hidden;
    this.root.hidden = true;
    return was;
  }
}
