// The curation queue: one row per item (oldest first, as the server orders
// them), the selected one outlined. Rows carry data-item-id for the keys and tests.

import { formatConfidence, formatTime, typeText } from '../incidents/format.js';
import { h, setText } from '../ui/dom.js';
import type { CurationItem } from './types.js';

export class QueueView {
  constructor(
    private readonly list: HTMLElement,
    private readonly onSelect: (id: number) => void,
  ) {}

  render(items: readonly CurationItem[], selected: number | null, emptyText: string): void {
    if (items.length === 0) {
      this.list.replaceChildren(h('li', { class: 'empty', text: emptyText }));
      return;
    }
    this.list.replaceChildren(
      ...items.map((it) => {
        const f = it.extraction?.fields;
        const li = h(
          'li',
          {
            class: `cq-row state-${it.state}${it.id === selected ? ' is-selected' : ''}`,
            'data-item-id': it.id,
            'data-state': it.state,
            'aria-selected': it.id === selected ? 'true' : 'false',
            role: 'option',
          },
          h(
            'div',
            { class: 'cq-line' },
            h('span', { class: 'cq-type', text: typeText(f?.type ?? '') }),
            h('span', { class: 'cq-place', text: f?.district || f?.place || 'no place' }),
            h('span', { class: `cq-conf triage-${it.extraction?.triage?.outcome ?? 'pending'}`, text: formatConfidence(it.confidence) }),
          ),
          h('div', { class: 'cq-title', text: it.article?.title || '(no title)' }),
          h(
            'div',
            { class: 'cq-sub' },
            h('span', { text: `#${it.id}` }),
            h('span', { text: formatTime(it.created) }),
            it.state !== 'open' ? h('span', { class: `cq-state state-${it.state}`, text: it.state }) : null,
          ),
        );
        li.addEventListener('click', () => this.onSelect(it.id));
        return li;
      }),
    );
  }

  /** Marks the selected row and scrolls it into view (the list is not rebuilt). */
  select(id: number | null): void {
    for (const li of this.list.querySelectorAll<HTMLElement>('li[data-item-id]')) {
      const on = Number(li.dataset.itemId) === id;
      li.classList.toggle('is-selected', on);
      li.setAttribute('aria-selected', on ? 'true' : 'false');
      if (on) li.scrollIntoView({ block: 'nearest' });
    }
  }

  setCount(el: HTMLElement, total: number): void {
    setText(el, `(${total})`);
  }
}
