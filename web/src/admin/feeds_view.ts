// The feeds table and the add-feed form. Rows carry data-feed-id and
// data-status so tests and styles find them; the change controls are
// disabled (with the page's note) when the token may not change anything.

import { formatTime } from '../incidents/format.js';
import { h, setText } from '../ui/dom.js';
import { formatSchedule, parseSchedule, relativeTime } from './schedule.js';
import type { Feed } from './types.js';

export interface FeedActions {
  fetchNow(feed: Feed): Promise<void>;
  setStatus(feed: Feed, status: 'active' | 'paused'): Promise<void>;
  /** Resolves with the server's refusal text (400/409) to show under the form, or null when added. */
  add(body: { url: string; title?: string; schedule_s: number }): Promise<string | null>;
}

const STATUS_TEXT: Record<string, string> = { active: 'active', paused: 'paused', failing: 'failing' };

function when(ms: number | null | undefined, now: number): HTMLElement {
  if (ms === null || ms === undefined) return h('span', { class: 'muted' }, 'never');
  return h('span', { title: relativeTime(ms, now) }, formatTime(ms), h('span', { class: 'feed-rel' }, ` (${relativeTime(ms, now)})`));
}

export class FeedsView {
  private canChange = true;
  private feeds: Feed[] = [];
  private readonly body: HTMLTableSectionElement;
  private readonly form: HTMLFormElement;
  private readonly formError: HTMLElement;

  constructor(
    table: HTMLTableElement,
    form: HTMLFormElement,
    private readonly count: HTMLElement,
    private readonly actions: FeedActions,
  ) {
    this.body = table.tBodies[0] ?? table.createTBody();
    this.form = form;
    this.formError = form.querySelector<HTMLElement>('.form-error') ?? h('div', { class: 'form-error error' });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.submit();
    });
  }

  setCanChange(can: boolean): void {
    this.canChange = can;
    for (const el of this.form.querySelectorAll<HTMLInputElement | HTMLButtonElement | HTMLSelectElement>('input, select, button')) el.disabled = !can;
    this.render(this.feeds);
  }

  render(feeds: Feed[], now = Date.now()): void {
    this.feeds = feeds;
    setText(this.count, feeds.length ? String(feeds.length) : '');
    if (!feeds.length) {
      this.body.replaceChildren(h('tr', { class: 'empty' }, h('td', { colspan: 9 }, 'No feeds yet. Add one below.')));
      return;
    }
    this.body.replaceChildren(...feeds.map((f) => this.row(f, now)));
  }

  private row(f: Feed, now: number): HTMLTableRowElement {
    const status = String(f.status);
    const fetchBtn = h('button', { type: 'button', class: 'btn btn-small feed-fetch', disabled: !this.canChange, title: 'Fetch this feed now' }, 'Fetch now');
    fetchBtn.addEventListener('click', () => this.busy(fetchBtn, () => this.actions.fetchNow(f)));
    const paused = status === 'paused';
    const toggle = h(
      'button',
      { type: 'button', class: 'btn btn-small feed-toggle', disabled: !this.canChange, 'data-action': paused ? 'resume' : 'pause' },
      paused ? 'Resume' : 'Pause',
    );
    toggle.addEventListener('click', () => this.busy(toggle, () => this.actions.setStatus(f, paused ? 'active' : 'paused')));
    return h(
      'tr',
      { 'data-feed-id': f.id, 'data-status': status, class: `feed-row status-${status}` },
      h('td', { class: 'feed-title' }, f.title || h('span', { class: 'muted' }, '(no title)')),
      h('td', { class: 'feed-url mono' }, h('a', { href: f.url, target: '_blank', rel: 'noopener noreferrer' }, f.url)),
      h('td', { class: 'feed-status' }, h('span', { class: `status-chip status-${status}` }, STATUS_TEXT[status] ?? status)),
      h('td', { class: 'feed-schedule' }, `every ${formatSchedule(f.schedule_s)}`),
      h('td', { class: 'feed-last' }, when(f.last_fetch, now)),
      h('td', { class: 'feed-next' }, paused ? h('span', { class: 'muted' }, 'paused') : when(f.next_fetch, now)),
      h('td', { class: `feed-failures num${f.consecutive_failures > 0 ? ' bad' : ''}` }, String(f.consecutive_failures)),
      h('td', { class: 'feed-error' }, f.last_error ? h('span', { class: 'error', title: f.last_error }, f.last_error) : ''),
      h('td', { class: 'feed-actions' }, fetchBtn, ' ', toggle),
    );
  }

  /** Disables the button while its request runs (a failure is the banner's; the button comes back). */
  private busy(btn: HTMLButtonElement, fn: () => Promise<void>): void {
    btn.disabled = true;
    fn()
      .catch(() => undefined)
      .finally(() => {
        btn.disabled = !this.canChange;
      });
  }

  private async submit(): Promise<void> {
    if (!this.canChange) return;
    const get = (name: string) => (this.form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null)?.value ?? '';
    const url = get('url').trim();
    const title = get('title').trim();
    this.showError('');
    if (!/^https?:\/\/\S+$/i.test(url)) {
      this.showError('url: expected an http:// or https:// address');
      return;
    }
    const schedule = parseSchedule(get('every'), get('unit'));
    if (!schedule.ok) {
      this.showError(schedule.error);
      return;
    }
    const button = this.form.querySelector<HTMLButtonElement>('button[type="submit"]');
    if (button) button.disabled = true;
    try {
      const refusal = await this.actions.add({ url, ...(title ? { title } : {}), schedule_s: schedule.seconds });
      if (refusal) this.showError(refusal);
      else this.form.reset();
    } catch {
      // Named in the banner by the caller.
    } finally {
      if (button) button.disabled = !this.canChange;
    }
  }

  private showError(text: string): void {
    setText(this.formError, text);
    this.formError.hidden = !text;
  }
}
