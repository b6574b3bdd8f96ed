// The incidents page's side panels: counts by type and district (bars), the
// list of the incidents shown, the selected incident's detail (actors,
// events, case and charges, sources with how each joined, history) with the
// status change for curators, and the multi-choice filter boxes.

import { h, setText } from '../ui/dom.js';
import { barPercent, totalOf } from './counts.js';
import { districtText, formatConfidence, formatDate, formatTime, typeText, viaText } from './format.js';
import { FAMILY_COLOURS, INCIDENT_STATUSES, typeFamily, type CountPairs, type Incident, type IncidentSummary } from './types.js';

export function renderCounts(
  host: HTMLElement,
  c: { byType: CountPairs; byDistrict: CountPairs; fromServer: boolean },
  caption: string,
): void {
  const table = (title: string, id: string, pairs: CountPairs, label: (k: string) => string, colour: (k: string) => string) =>
    h(
      'div',
      { class: 'count-block' },
      h('h3', {}, `${title} `, h('span', { class: 'count', text: `(${totalOf(pairs)})` })),
      pairs.length === 0
        ? h('div', { class: 'hint', text: 'none' })
        : h(
            'table',
            { class: 'count-table', id },
            ...pairs.slice(0, 30).map(([k, n]) =>
              h(
                'tr',
                { 'data-key': k, 'data-count': n },
                h('td', { class: 'count-key', text: label(k) }),
                h('td', { class: 'num', text: String(n) }),
                h('td', { class: 'bar-col' }, h('div', { class: 'bar' }, h('div', { class: 'bar-fill', style: `width:${barPercent(n, pairs)}%;background:${colour(k)}` }))),
              ),
            ),
          ),
      pairs.length > 30 ? h('div', { class: 'hint', text: `and ${pairs.length - 30} more` }) : null,
    );
  host.replaceChildren(
    h('div', { class: 'hint count-caption', id: 'counts-caption', text: caption }),
    table('by type', 'count-type', c.byType, typeText, (k) => FAMILY_COLOURS[typeFamily(k)]),
    table('by district', 'count-district', c.byDistrict, districtText, () => 'var(--accent)'),
  );
}

export function renderList(host: HTMLElement, items: readonly IncidentSummary[], selected: number | null, onSelect: (id: number) => void): void {
  const sorted = [...items].sort((a, b) => (b.time ?? -Infinity) - (a.time ?? -Infinity) || b.id - a.id);
  const rows = sorted.slice(0, 200).map((it) => {
    const li = h(
      'li',
      { class: `inc-row status-${it.status}${it.id === selected ? ' is-selected' : ''}`, 'data-incident-id': it.id },
      h('span', { class: `inc-dot family-${typeFamily(it.type)}`, 'aria-hidden': 'true' }),
      h('span', { class: 'inc-row-type', text: typeText(it.type) }),
      h('span', { class: 'inc-row-place', text: it.district || it.place || 'no place' }),
      h('span', { class: 'inc-row-date', text: formatDate(it.time) }),
      it.lat === null || it.lon === null ? h('span', { class: 'hint', title: 'not on the map: no coordinates', text: '∅' }) : null,
    );
    li.addEventListener('click', () => onSelect(it.id));
    return li;
  });
  host.replaceChildren(
    h('h3', {}, 'incidents shown ', h('span', { class: 'count', text: `(${items.length})` })),
    rows.length ? h('ul', { class: 'inc-list', id: 'inc-list' }, ...rows) : h('div', { class: 'hint', text: 'None for these filters.' }),
    items.length > 200 ? h('div', { class: 'hint', text: `the newest 200 of ${items.length}` }) : '',
  );
}

export interface StatusChange {
  (incident: Incident, status: string, reason: string): Promise<void>;
}

export function renderDetail(host: HTMLElement, inc: Incident | null, canChangeStatus: boolean, changeStatus: StatusChange, onClose: () => void): void {
  if (!inc) {
    host.replaceChildren();
    host.hidden = true;
    return;
  }
  host.hidden = false;
  const close = h('button', { type: 'button', class: 'btn btn-small', id: 'detail-close', 'aria-label': 'close the detail' }, 'Close');
  close.addEventListener('click', onClose);
  const section = (title: string, body: Node | null, empty: string) => [h('h3', {}, title), body ?? h('div', { class: 'hint', text: empty })];

  const actors = inc.actors?.length
    ? h('ul', { class: 'plain', id: 'detail-actors' }, ...inc.actors.map((a) => h('li', {}, h('span', { class: 'role-tag', text: a.role }), ` ${a.description}`)))
    : null;
  const events = inc.events?.length
    ? h(
        'ol',
        { class: 'plain', id: 'detail-events' },
        ...inc.events.map((e) => h('li', {}, h('span', { class: 'audit-ts', text: e.time === null ? 'no time' : formatTime(e.time) }), ` ${e.kind}`, e.description ? `: ${e.description}` : '')),
      )
    : null;
  const c = inc.case;
  const caseBlock = c
    ? h(
        'div',
        { id: 'detail-case' },
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'case'),
          h('dd', { text: c.case_number || '–' }),
          h('dt', {}, 'court'),
          h('dd', { text: c.court || '–' }),
          h('dt', {}, 'disposition'),
          h('dd', { text: `${c.disposition || 'pending'}${c.disposition_time ? ` (${formatDate(c.disposition_time)})` : ''}` }),
        ),
        c.charges?.length
          ? h(
              'table',
              { class: 'charges' },
              h('tr', {}, h('th', {}, 'charge'), h('th', {}, 'statute'), h('th', {}, 'count')),
              ...c.charges.map((ch) => h('tr', {}, h('td', { text: ch.description }), h('td', { class: 'mono', text: ch.statute }), h('td', { class: 'num', text: String(ch.count) }))),
            )
          : h('div', { class: 'hint', text: 'no charges' }),
      )
    : null;
  const sources = inc.sources?.length
    ? h(
        'ul',
        { class: 'plain', id: 'detail-sources' },
        ...inc.sources.map((s) =>
          h(
            'li',
            { 'data-via': s.via },
            h('a', { href: s.url, target: '_blank', rel: 'noopener noreferrer', class: 'src-link', text: s.url || `article ${s.article}` }),
            h('div', { class: 'hint', text: `article #${s.article} · ${viaText(s.via)} · added ${formatTime(s.added)}` }),
          ),
        ),
      )
    : null;
  const history = inc.history?.length
    ? h(
        'ol',
        { class: 'plain it-history', id: 'detail-history' },
        ...inc.history.map((e) =>
          h(
            'li',
            {},
            h('span', { class: 'audit-ts', text: formatTime(e.at) }),
            ` ${e.actor ? `${e.actor}: ` : ''}${e.field ? `${e.field} "${e.old_value}" → "${e.new_value}"` : 'created'}${e.reason ? ` (${e.reason})` : ''}`,
          ),
        ),
      )
    : null;

  let statusBox: HTMLElement | null = null;
  if (canChangeStatus) {
    const sel = h('select', { id: 'status-select', 'aria-label': 'new status' }, ...INCIDENT_STATUSES.map((s) => h('option', { value: s, selected: s === inc.status }, s)));
    const reason = h('input', { type: 'text', id: 'status-reason', placeholder: 'reason', maxlength: 1000, 'aria-label': 'reason for the status change' });
    const btn = h('button', { type: 'button', class: 'btn btn-small', id: 'status-apply' }, 'Set status');
    const err = h('span', { class: 'error', role: 'alert' });
    btn.addEventListener('click', () => {
      if (sel.value === inc.status) {
        setText(err, `already ${inc.status}`);
        return;
      }
      if (!reason.value.trim()) {
        setText(err, 'a reason is required');
        return;
      }
      setText(err, '');
      btn.disabled = true;
      changeStatus(inc, sel.value, reason.value.trim()).finally(() => (btn.disabled = false));
    });
    statusBox = h('div', { class: 'd-actions status-box' }, sel, reason, btn, err);
  }

  host.replaceChildren(
    h(
      'div',
      { class: 'd-head' },
      h(
        'div',
        { class: 'd-title' },
        h('div', { class: 'd-type', id: 'detail-type', text: `#${inc.id} ${typeText(inc.type)}` }),
        h('div', { class: 'd-place', text: `${inc.place || 'no place'} · ${districtText(inc.district)}` }),
      ),
      h('div', { class: 'd-score' }, formatConfidence(inc.confidence), h('small', {}, 'confidence')),
      close,
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'time'),
      h('dd', { text: formatTime(inc.time) }),
      h('dt', {}, 'status'),
      h('dd', { id: 'detail-status', class: `status-${inc.status}`, text: inc.status }),
      h('dt', {}, 'location'),
      h('dd', { text: inc.lat !== null && inc.lon !== null ? `${inc.lat.toFixed(5)}, ${inc.lon.toFixed(5)}` : 'not located' }),
    ),
    statusBox ?? '',
    ...section('actors', actors, 'none recorded'),
    ...section('events', events, 'none recorded'),
    ...section('case', caseBlock, 'no case'),
    ...section('sources', sources, 'none'),
    ...section('history', history, 'no changes'),
  );
}

/**
 * A filter of several choices: a <details> whose summary names the choice
 * ("type: any", "type: shooting +2") and whose body holds one checkbox per option.
 */
export class MultiChoice {
  private readonly summary: HTMLElement;
  private readonly body: HTMLElement;
  private chosen = new Set<string>();

  constructor(
    private readonly host: HTMLElement,
    private readonly name: string,
    private readonly label: (v: string) => string,
  ) {
    this.summary = h('summary', {});
    this.body = h('div', { class: 'f-options' });
    host.replaceChildren(this.summary, this.body);
    this.setOptions([]);
  }

  setOptions(options: readonly string[]): void {
    const all = [...new Set([...options, ...this.chosen])];
    this.body.replaceChildren(
      ...all.map((v) => {
        const box = h('input', { type: 'checkbox', value: v, checked: this.chosen.has(v) });
        box.addEventListener('change', () => {
          if (box.checked) this.chosen.add(v);
          else this.chosen.delete(v);
          this.refresh();
        });
        return h('label', { class: 'f-option' }, box, ` ${this.label(v)}`);
      }),
    );
    if (all.length === 0) this.body.append(h('div', { class: 'hint', text: 'no choices yet' }));
    this.refresh();
  }

  get values(): string[] {
    return [...this.chosen];
  }

  set values(v: string[]) {
    this.chosen = new Set(v);
    for (const box of this.body.querySelectorAll<HTMLInputElement>('input[type=checkbox]')) box.checked = this.chosen.has(box.value);
    const missing = v.filter((x) => !this.body.querySelector(`input[value="${CSS.escape(x)}"]`));
    if (missing.length) this.setOptions([...this.body.querySelectorAll<HTMLInputElement>('input[type=checkbox]')].map((b) => b.value));
    this.refresh();
  }

  private refresh(): void {
    const v = this.values;
    setText(this.summary, `${this.name}: ${v.length === 0 ? 'any' : `${this.label(v[0]!)}${v.length > 1 ? ` +${v.length - 1}` : ''}`}`);
    this.host.classList.toggle('is-set', v.length > 0);
  }
}
