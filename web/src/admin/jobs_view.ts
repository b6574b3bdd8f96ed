// The job queues' counts and the newest jobs, with the stream's connection
// state. Cells carry data-queue / data-count (and the rows data-job-id,
// data-state) so the browser tests read the numbers the page shows.

import type { StreamState } from '../stream.js';
import { formatClockTime } from '../time_format.js';
import { h, setText } from '../ui/dom.js';
import { type JobBoard, streamStateText } from './jobs.js';
import { COUNT_NAMES } from './types.js';

export class JobsView {
  constructor(
    private readonly counts: HTMLTableElement,
    private readonly recent: HTMLTableElement,
    private readonly conn: HTMLElement,
  ) {
    const head = counts.tHead ?? counts.createTHead();
    head.replaceChildren(h('tr', {}, h('th', { scope: 'col' }, 'queue'), ...COUNT_NAMES.map((c) => h('th', { scope: 'col', class: 'num' }, c))));
  }

  render(board: JobBoard): void {
    const body = this.counts.tBodies[0] ?? this.counts.createTBody();
    body.replaceChildren(
      ...board.queues.map((q) =>
        h(
          'tr',
          { 'data-queue': q.queue },
          h('th', { scope: 'row' }, q.queue),
          ...COUNT_NAMES.map((c) =>
            h('td', { class: `num${c === 'dead' && q[c] > 0 ? ' bad' : ''}`, 'data-count': c, 'data-value': q[c] }, String(q[c])),
          ),
        ),
      ),
    );
    const list = this.recent.tBodies[0] ?? this.recent.createTBody();
    if (!board.recent.length) {
      list.replaceChildren(h('tr', { class: 'empty' }, h('td', { colspan: 7, class: 'muted' }, 'No jobs yet.')));
      return;
    }
    list.replaceChildren(
      ...board.recent.map((j) =>
        h(
          'tr',
          { 'data-job-id': j.id, 'data-state': j.state, class: `job-row job-${j.state}` },
          h('td', { class: 'num' }, String(j.id)),
          h('td', {}, j.queue),
          h('td', {}, h('span', { class: `status-chip job-state-${j.state}` }, j.state)),
          h('td', { class: 'muted' }, j.change ?? ''),
          h('td', { class: 'num' }, String(j.attempts)),
          h('td', { class: 'mono' }, formatClockTime(j.updated)),
          h('td', { class: 'job-error' }, j.error ? h('span', { class: 'error', title: j.error }, j.error) : ''),
        ),
      ),
    );
  }

  setConnection(state: StreamState, detail: string): void {
    this.conn.dataset.state = state;
    setText(this.conn.querySelector('.conn-text') ?? this.conn, streamStateText(state, detail));
  }
}
