// The selected curation item: the article (title, source link, published
// date, text with the evidence sentence marked) beside what was extracted
// from it, as a correction form (each field editable, saved alone with
// "correct" or sent with the approval), the confidence with the triage
// outcome and reasons, the dedup match, a small map marker, the decisions
// (approve with an optional note, reject with a required reason) and the
// item's action history.

import L from 'leaflet';

import { addCityLayer, createCityMap } from '../incidents/city_map.js';
import { dedupText, formatConfidence, formatTime, formatWhen, typeText } from '../incidents/format.js';
import { INCIDENT_TYPES } from '../incidents/types.js';
import type { MapData } from '../types.js';
import { h, setText } from '../ui/dom.js';
import { changedFields, diffCorrections, FIELD_LABELS, FIELD_NAMES, fieldValue, formFromFields, type FieldForm, type FieldName, type FieldValue } from './corrections.js';
import type { CurationItem, ItemAction } from './types.js';

export interface ItemActions {
  approve(item: CurationItem, corrections: Record<string, FieldValue>, note: string): Promise<void>;
  reject(item: CurationItem, reason: string): Promise<void>;
  correct(item: CurationItem, field: FieldName, value: FieldValue): Promise<void>;
}

/** The text of one entry of the item's history. */
export function actionLine(a: ItemAction): string {
  const who = a.actor ? ` by ${a.actor}` : '';
  switch (a.kind) {
    case 'correct':
      return `corrected ${a.field}: "${a.old_value}" → "${a.new_value}"${who}`;
    case 'reject':
      return `rejected${who}${a.reason ? `: ${a.reason}` : ''}`;
    case 'approve':
      return `approved${who}${a.reason ? `: ${a.reason}` : ''}`;
    default:
      return `${a.kind}${who}${a.reason ? `: ${a.reason}` : ''}`;
  }
}

export class ItemView {
  private item: CurationItem | null = null;
  private form: FieldForm | null = null;
  private readonly inputs = new Map<FieldName, HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>();
  private readonly saveButtons = new Map<FieldName, HTMLButtonElement>();
  private map: L.Map | null = null;
  private marker: L.CircleMarker | null = null;
  private mapData: MapData | null = null;
  private busy = false;
  private shown = '';
  private formError: HTMLElement | null = null;
  private rejectBox: HTMLElement | null = null;
  private rejectReason: HTMLInputElement | null = null;
  private rejectError: HTMLElement | null = null;
  private approveButton: HTMLButtonElement | null = null;
  private note: HTMLInputElement | null = null;
  /** Edits not yet sent, per item, so moving through the queue keeps them. */
  private readonly drafts = new Map<number, FieldForm>();

  constructor(
    private readonly articleCol: HTMLElement,
    private readonly fieldsCol: HTMLElement,
    private readonly actions: ItemActions,
  ) {
    this.showEmpty();
  }

  setMapData(data: MapData): void {
    this.mapData = data;
    if (this.map) addCityLayer(this.map, data);
    this.placeMarker();
  }

  /** Forgets the edits of an item (after it was decided or corrected). */
  dropDraft(id: number): void {
    this.drafts.delete(id);
  }

  get current(): CurationItem | null {
    return this.item;
  }

  show(item: CurationItem | null): void {
    this.saveDraft();
    this.item = item;
    this.shown = item ? JSON.stringify(item) : '';
    if (!item) {
      this.showEmpty();
      return;
    }
    this.form = this.drafts.get(item.id) ?? formFromFields(item.extraction.fields);
    this.renderArticle(item);
    this.renderFields(item);
  }

  /** True when `item` is what the view shows already (a reload that changed nothing need not redraw). */
  isShowing(item: CurationItem | null): boolean {
    return item === null ? this.item === null : this.shown === JSON.stringify(item);
  }

  /**
   * Shows the server's new state of the item shown (after a correction):
   * the edits not yet sent stay, except `saved`'s, which the server now holds.
   */
  refresh(item: CurationItem, saved: FieldName | null): void {
    const pending = this.item && this.item.id === item.id && this.form ? changedFields(this.item.extraction.fields, this.form) : [];
    const old = this.form;
    this.drafts.delete(item.id);
    this.item = null;
    const form = formFromFields(item.extraction.fields);
    for (const f of pending) if (f !== saved && old) form[f] = old[f];
    this.drafts.set(item.id, form);
    this.show(item);
  }

  /** Opens the reject box (key r); the reason input gets the focus. */
  startReject(): void {
    if (!this.item || this.item.state !== 'open' || !this.rejectBox) return;
    this.rejectBox.hidden = false;
    this.rejectError!.hidden = true;
    this.rejectReason!.focus();
  }

  /** Approves with the corrections in the form (key a). */
  approve(): void {
    void this.doApprove();
  }

  private showEmpty(): void {
    this.articleCol.replaceChildren(h('div', { class: 'detail-empty' }, 'Select an item in the queue (j / k).'));
    this.fieldsCol.replaceChildren();
    this.destroyMap();
  }

  private saveDraft(): void {
    if (!this.item || !this.form) return;
    const changed = changedFields(this.item.extraction.fields, this.form);
    if (changed.length) this.drafts.set(this.item.id, { ...this.form });
    else this.drafts.delete(this.item.id);
  }

  private renderArticle(item: CurationItem): void {
    const a = item.article;
    const evidence = item.extraction.fields.evidence;
    const link = a.url
      ? h('a', { href: a.url, target: '_blank', rel: 'noopener noreferrer', id: 'article-link', class: 'article-link' }, a.url)
      : h('span', { class: 'hint' }, 'no link');
    this.articleCol.replaceChildren(
      h('h1', { class: 'article-title', id: 'article-title', text: a.title || '(no title)' }),
      h(
        'dl',
        { class: 'facts article-facts' },
        h('dt', {}, 'source'),
        h('dd', {}, link),
        h('dt', {}, 'published'),
        h('dd', { id: 'article-published', text: a.published === null ? 'not given' : formatTime(a.published) }),
        a.canonical_url && a.canonical_url !== a.url ? h('dt', {}, 'canonical') : null,
        a.canonical_url && a.canonical_url !== a.url ? h('dd', { class: 'mono', text: a.canonical_url }) : null,
        h('dt', {}, 'article'),
        h('dd', { text: `#${a.id}${a.feed !== null ? ` · feed ${a.feed}` : ''}` }),
      ),
      h('div', { class: 'article-text', id: 'article-text' }, ...paragraphs(a.text, evidence)),
    );
  }

  private renderFields(item: CurationItem): void {
    this.destroyMap();
    this.inputs.clear();
    this.saveButtons.clear();
    const x = item.extraction;
    const f = x.fields;
    const open = item.state === 'open';

    const head = h(
      'div',
      { class: 'it-head' },
      h('div', { class: 'it-title' }, h('span', { class: 'it-id', text: `Item #${item.id}` }), h('span', { class: `it-state state-${item.state}`, id: 'item-state', text: item.state })),
      h('div', { class: 'd-score', id: 'item-confidence' }, formatConfidence(x.confidence ?? item.confidence), h('small', {}, 'confidence')),
    );

    const triage = h(
      'div',
      { class: `it-triage triage-${x.triage?.outcome ?? 'pending'}`, id: 'item-triage' },
      h('div', {}, h('strong', { text: `triage: ${x.triage?.outcome ?? 'pending'}` }), ` · ${x.provider || 'provider?'}${x.stage ? ` (${x.stage})` : ''}`),
      (x.triage?.reasons ?? []).length ? h('ul', { class: 'it-reasons' }, ...x.triage.reasons.map((r) => h('li', { text: r }))) : null,
    );

    const decided = !open
      ? h(
          'div',
          { class: `it-decided state-${item.state}`, id: 'item-decided' },
          `${item.state === 'approved' ? 'Approved' : 'Rejected'}${item.decided_by ? ` by ${item.decided_by}` : ''}${item.decided !== null ? ` at ${formatTime(item.decided)}` : ''}`,
          item.incident !== null ? h('span', {}, ' → ', h('a', { href: `./incidents.html#incident=${item.incident}`, id: 'item-incident-link' }, `incident ${item.incident}`)) : null,
        )
      : null;

    const rows = h('div', { class: 'it-form', id: 'item-form' });
    for (const name of FIELD_NAMES) rows.append(this.fieldRow(name, open, f));
    this.formError = h('div', { class: 'error it-form-error', id: 'form-error', role: 'alert', hidden: true });

    const mapEl = h('div', { class: 'it-map', id: 'item-map' });
    const dedup = h(
      'div',
      { class: 'it-dedup', id: 'item-dedup' },
      h('strong', {}, 'dedup: '),
      h('span', { 'data-rule': item.article.dedup?.rule ?? 'none' }, dedupText(item.article.dedup ?? { rule: 'none', article: null, incident: null, score: 0 })),
      item.article.dedup?.incident != null
        ? h('span', {}, ' · ', h('a', { href: `./incidents.html#incident=${item.article.dedup.incident}` }, 'open the incident'))
        : null,
    );

    let actions: HTMLElement | null = null;
    if (open) {
      this.note = h('input', { type: 'text', id: 'approve-note', maxlength: 1000, placeholder: 'note (optional)', 'aria-label': 'note for the approval (optional)' });
      this.approveButton = h('button', { type: 'button', id: 'btn-approve', class: 'btn btn-primary', title: 'Approve (key a)' }, 'Approve');
      this.approveButton.addEventListener('click', () => void this.doApprove());
      const rejectButton = h('button', { type: 'button', id: 'btn-reject', class: 'btn btn-danger', title: 'Reject (key r)' }, 'Reject…');
      rejectButton.addEventListener('click', () => this.startReject());
      this.rejectReason = h('input', { type: 'text', id: 'reject-reason', maxlength: 1000, placeholder: 'why (required), e.g. not an incident', 'aria-label': 'reason for rejecting (required)' });
      this.rejectError = h('div', { class: 'error', id: 'reject-error', role: 'alert', hidden: true });
      const confirm = h('button', { type: 'button', id: 'btn-reject-confirm', class: 'btn btn-danger' }, 'Reject');
      const cancel = h('button', { type: 'button', class: 'btn', id: 'btn-reject-cancel' }, 'Cancel');
      confirm.addEventListener('click', () => void this.doReject());
      cancel.addEventListener('click', () => (this.rejectBox!.hidden = true));
      this.rejectReason.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') {
          ev.preventDefault();
          void this.doReject();
        }
      });
      this.rejectBox = h('div', { class: 'it-reject', id: 'reject-box', hidden: true }, this.rejectReason, confirm, cancel, this.rejectError);
      actions = h('div', { class: 'it-actions' }, h('div', { class: 'd-actions' }, this.approveButton, rejectButton, this.note), this.rejectBox);
    } else {
      this.rejectBox = this.rejectReason = this.rejectError = this.note = this.approveButton = null;
    }

    const history = h(
      'ol',
      { class: 'it-history', id: 'item-history' },
      ...(item.actions ?? []).map((a) =>
        h('li', { 'data-kind': a.kind }, h('span', { class: 'audit-ts', text: formatTime(a.at) }), h('span', { text: actionLine(a) })),
      ),
    );

    this.fieldsCol.replaceChildren(
      head,
      triage,
      decided ?? '',
      actions ?? '',
      rows,
      this.formError,
      mapEl,
      dedup,
      h('h3', {}, 'history'),
      (item.actions ?? []).length ? history : h('div', { class: 'hint', id: 'item-history' }, 'No actions yet.'),
    );
    this.refreshChanged();
    this.map = createCityMap(mapEl, { zoomControl: false });
    if (this.mapData) addCityLayer(this.map, this.mapData);
    this.placeMarker();
  }

  private fieldRow(name: FieldName, open: boolean, f: CurationItem['extraction']['fields']): HTMLElement {
    const value = this.form![name];
    const id = `fld-${name}`;
    let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
    if (name === 'type') {
      const types = INCIDENT_TYPES.includes(value) || !value ? INCIDENT_TYPES : [value, ...INCIDENT_TYPES];
      input = h('select', { id }, ...types.map((t) => h('option', { value: t, selected: t === value }, typeText(t))));
      (input as HTMLSelectElement).value = value;
    } else if (name === 'actors' || name === 'targets') {
      input = h('textarea', { id, rows: Math.max(2, value.split('\n').length), spellcheck: 'false' });
      input.value = value;
      input.placeholder = name === 'actors' ? 'role: description (victim, suspect, officer, witness, agency)' : 'one per line';
    } else {
      input = h('input', { id, type: name === 'time' ? 'datetime-local' : 'text', inputmode: name === 'lat' || name === 'lon' ? 'decimal' : null, spellcheck: 'false' });
      input.value = value;
    }
    input.disabled = !open;
    input.setAttribute('aria-label', FIELD_LABELS[name]);
    input.addEventListener('input', () => {
      this.form![name] = input.value;
      this.refreshChanged();
      if (name === 'lat' || name === 'lon') this.placeMarker();
    });
    this.inputs.set(name, input);

    const save = h('button', { type: 'button', class: 'btn btn-small fld-save', 'data-field': name, title: `Save this ${FIELD_LABELS[name]} now (correct)` }, 'Save');
    save.hidden = !open;
    save.addEventListener('click', () => void this.doCorrect(name));
    this.saveButtons.set(name, save);

    const note = fieldNote(name, f);
    return h(
      'div',
      { class: 'fld', 'data-field': name },
      h('label', { for: id, text: FIELD_LABELS[name] }),
      h('div', { class: 'fld-input' }, input, note ? h('div', { class: 'hint fld-note', text: note }) : null),
      save,
    );
  }

  /** Marks changed fields, enables their Save buttons, and names the count on Approve. */
  private refreshChanged(): void {
    if (!this.item || !this.form) return;
    const changed = new Set(changedFields(this.item.extraction.fields, this.form));
    for (const [name, input] of this.inputs) {
      input.closest('.fld')?.classList.toggle('is-changed', changed.has(name));
      const save = this.saveButtons.get(name);
      if (save) save.disabled = !changed.has(name) || this.busy;
    }
    if (this.approveButton) {
      setText(this.approveButton, changed.size ? `Approve with ${changed.size} correction${changed.size > 1 ? 's' : ''}` : 'Approve');
      this.approveButton.disabled = this.busy;
    }
  }

  private placeMarker(): void {
    if (!this.map || !this.form) return;
    const lat = fieldValue('lat', this.form.lat);
    const lon = fieldValue('lon', this.form.lon);
    const ll = 'value' in lat && 'value' in lon && typeof lat.value === 'number' && typeof lon.value === 'number' ? L.latLng(lat.value, lon.value) : null;
    if (!ll) {
      this.marker?.remove();
      this.marker = null;
      return;
    }
    if (!this.marker) {
      this.marker = L.circleMarker(ll, { radius: 8, color: '#ffffff', weight: 2, fillColor: '#4fc3f7', fillOpacity: 0.95 }).addTo(this.map);
      this.marker.getElement()?.setAttribute('class', 'leaflet-interactive item-marker');
    } else {
      this.marker.setLatLng(ll);
    }
    this.map.setView(ll, Math.max(this.map.getZoom(), 13));
  }

  private destroyMap(): void {
    this.marker = null;
    this.map?.remove();
    this.map = null;
  }

  private setBusy(busy: boolean): void {
    this.busy = busy;
    this.fieldsCol.classList.toggle('is-busy', busy);
    this.refreshChanged();
  }

  private showFormError(text: string): void {
    if (!this.formError) return;
    this.formError.hidden = !text;
    setText(this.formError, text);
  }

  private async doApprove(): Promise<void> {
    const item = this.item;
    if (!item || !this.form || item.state !== 'open' || this.busy) return;
    const { corrections, errors } = diffCorrections(item.extraction.fields, this.form);
    if (errors.length) {
      this.showFormError(`Not approved: ${errors.join('; ')}`);
      return;
    }
    this.showFormError('');
    this.setBusy(true);
    try {
      await this.actions.approve(item, corrections, this.note?.value.trim() ?? '');
    } catch {
      // The page's banner names the failure; the form keeps the edits.
    } finally {
      this.setBusy(false);
    }
  }

  private async doReject(): Promise<void> {
    const item = this.item;
    if (!item || item.state !== 'open' || this.busy || !this.rejectReason) return;
    const reason = this.rejectReason.value.trim();
    if (!reason) {
      this.rejectError!.hidden = false;
      setText(this.rejectError!, 'A reason is required to reject an item.');
      this.rejectReason.focus();
      return;
    }
    this.rejectError!.hidden = true;
    this.setBusy(true);
    try {
      await this.actions.reject(item, reason);
    } catch {
      // named in the banner
    } finally {
      this.setBusy(false);
    }
  }

  private async doCorrect(name: FieldName): Promise<void> {
    const item = this.item;
    if (!item || !this.form || this.busy) return;
    const r = fieldValue(name, this.form[name]);
    if ('error' in r) {
      this.showFormError(`Not saved: ${r.error}`);
      return;
    }
    this.showFormError('');
    this.setBusy(true);
    try {
      await this.actions.correct(item, name, r.value);
    } catch {
      // named in the banner
    } finally {
      this.setBusy(false);
    }
  }
}

/** The words under a field: where the time and the place came from. */
function fieldNote(name: FieldName, f: CurationItem['extraction']['fields']): string {
  switch (name) {
    case 'time':
      return `${formatWhen(f.time, f.time_precision)} · precision ${f.time_precision || 'none'}${f.time_text ? ` · from "${f.time_text}"` : ''}`;
    case 'place':
      return [f.qualified, f.place_precision ? `precision ${f.place_precision}` : ''].filter(Boolean).join(' · ');
    default:
      return '';
  }
}

/** The article's paragraphs, the evidence sentence marked where it occurs. */
function paragraphs(text: string, evidence: string): HTMLElement[] {
  const parts = (text || '').split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) return [h('p', { class: 'hint' }, 'The article has no text.')];
  let marked = false;
  return parts.map((p) => {
    const i = !marked && evidence ? p.indexOf(evidence) : -1;
    if (i < 0) return h('p', { text: p });
    marked = true;
    return h('p', {}, p.slice(0, i), h('mark', { title: 'the evidence of the type', text: evidence }), p.slice(i + evidence.length));
  });
}

