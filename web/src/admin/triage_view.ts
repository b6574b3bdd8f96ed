// The triage settings editor: default thresholds, per-category overrides
// (add / remove), one row per incident type (thresholds and required fields
// as checkboxes). The form edits a TriageDraft in place; Save checks it
// (triage.ts) before anything is sent, and shows the server's 400 text
// (which names the path) the same way.

import { formatTime } from '../incidents/format.js';
import { h, setText } from '../ui/dom.js';
import {
  canonicalSettings,
  errorText,
  type OverrideDraft,
  type SettingsError,
  serverErrorPath,
  settingsFromDraft,
  TRIAGE_CATEGORIES,
  TRIAGE_FIELDS,
  type TriageDraft,
} from './triage.js';
import type { TriageSettings, TriageVersion } from './types.js';

export interface TriageActions {
  /** Resolves with the server's 400 text to show, or null when saved. */
  save(settings: TriageSettings): Promise<string | null>;
  revert(): void;
}

export interface TriageElements {
  meta: HTMLElement;
  approve: HTMLInputElement;
  reject: HTMLInputElement;
  categories: HTMLTableSectionElement;
  catName: HTMLInputElement;
  catAdd: HTMLButtonElement;
  types: HTMLTableElement;
  errors: HTMLElement;
  status: HTMLElement;
  save: HTMLButtonElement;
  revert: HTMLButtonElement;
}

function thresholdInput(value: string, path: string, label: string, onInput: (v: string) => void): HTMLInputElement {
  const input = h('input', {
    type: 'text',
    inputmode: 'decimal',
    class: 'tr-num',
    value,
    placeholder: '–',
    'data-path': path,
    'aria-label': label,
    autocomplete: 'off',
  });
  input.addEventListener('input', () => onInput(input.value));
  return input;
}

export class TriageView {
  private draft: TriageDraft | null = null;
  private saved: TriageVersion | null = null;
  private canChange = true;

  constructor(
    private readonly el: TriageElements,
    private readonly actions: TriageActions,
  ) {
    el.approve.addEventListener('input', () => this.edit((d) => (d.approve = el.approve.value)));
    el.reject.addEventListener('input', () => this.edit((d) => (d.reject = el.reject.value)));
    el.catAdd.addEventListener('click', () => this.addCategory());
    el.catName.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        this.addCategory();
      }
    });
    el.save.addEventListener('click', () => void this.submit());
    el.revert.addEventListener('click', () => actions.revert());
    this.renderTypeHead();
  }

  /** Shows a saved version and drafts it afresh (edits not saved are dropped). */
  show(version: TriageVersion, draft: TriageDraft): void {
    this.saved = version;
    this.draft = draft;
    const at = version.at ? formatTime(version.at) : '–';
    setText(this.el.meta, `version ${version.version} · by ${version.author || '–'} · ${at}`);
    this.el.meta.dataset.version = String(version.version);
    this.el.approve.value = draft.approve;
    this.el.reject.value = draft.reject;
    this.showErrors([]);
    this.renderCategories();
    this.renderTypes();
    this.updateStatus();
  }

  clear(): void {
    this.draft = null;
    this.saved = null;
    setText(this.el.meta, '');
    this.el.approve.value = '';
    this.el.reject.value = '';
    this.el.categories.replaceChildren();
    this.el.types.tBodies[0]?.replaceChildren();
    this.showErrors([]);
    setText(this.el.status, '');
  }

  setCanChange(can: boolean): void {
    this.canChange = can;
    this.applyDisabled();
  }

  private applyDisabled(): void {
    const root = this.el.save.closest('section') ?? document;
    for (const c of root.querySelectorAll<HTMLInputElement | HTMLButtonElement>('input, button')) {
      c.disabled = !this.canChange || !this.draft;
    }
  }

  private edit(fn: (d: TriageDraft) => void): void {
    if (!this.draft) return;
    fn(this.draft);
    this.updateStatus();
  }

  private updateStatus(): void {
    if (!this.draft || !this.saved) return;
    const r = settingsFromDraft(this.draft);
    const changed = !r.ok || canonicalSettings(r.settings) !== canonicalSettings(this.saved.settings as TriageSettings);
    setText(this.el.status, changed ? 'unsaved changes' : 'saved');
    this.el.status.dataset.changed = String(changed);
  }

  private addCategory(): void {
    if (!this.draft || !this.canChange) return;
    const name = this.el.catName.value.trim().toLowerCase();
    if (!name) return;
    if (this.draft.categories.some((c) => c.name === name)) {
      this.showErrors([{ path: `categories.${name}`, message: 'is already listed' }]);
      return;
    }
    this.draft.categories.push({ name, approve: '', reject: '', required: [] });
    this.el.catName.value = '';
    this.showErrors([]);
    this.renderCategories();
    this.updateStatus();
    this.el.categories.querySelector<HTMLInputElement>(`tr[data-category="${CSS.escape(name)}"] input`)?.focus();
  }

  private renderCategories(): void {
    const d = this.draft;
    if (!d) return;
    const rows = d.categories.map((c) => {
      const path = `categories.${c.name}`;
      const remove = h('button', { type: 'button', class: 'btn btn-small tr-remove', title: `Remove the ${c.name} overrides` }, 'Remove');
      remove.addEventListener('click', () => {
        d.categories = d.categories.filter((x) => x !== c);
        this.renderCategories();
        this.updateStatus();
      });
      return h(
        'tr',
        { 'data-category': c.name },
        h('th', { scope: 'row', class: 'tr-name' }, c.name),
        h('td', {}, thresholdInput(c.approve, `${path}.approve`, `${c.name} approve`, (v) => this.edit(() => (c.approve = v)))),
        h('td', {}, thresholdInput(c.reject, `${path}.reject`, `${c.name} reject`, (v) => this.edit(() => (c.reject = v)))),
        h('td', {}, remove),
      );
    });
    this.el.categories.replaceChildren(
      ...(rows.length ? rows : [h('tr', { class: 'empty' }, h('td', { colspan: 4, class: 'muted' }, 'No category overrides: the defaults apply.'))]),
    );
    // Suggest the categories not yet listed.
    const list = document.getElementById(this.el.catName.getAttribute('list') ?? '');
    if (list) list.replaceChildren(...TRIAGE_CATEGORIES.filter((n) => !d.categories.some((c) => c.name === n)).map((n) => h('option', { value: n })));
    this.applyDisabled();
  }

  private renderTypeHead(): void {
    const head = this.el.types.tHead ?? this.el.types.createTHead();
    head.replaceChildren(
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'type'),
        h('th', { scope: 'col' }, 'approve'),
        h('th', { scope: 'col' }, 'reject'),
        ...TRIAGE_FIELDS.map((f) => h('th', { scope: 'col', class: 'tr-field-head' }, h('span', {}, f))),
      ),
    );
  }

  private renderTypes(): void {
    const d = this.draft;
    if (!d) return;
    const body = this.el.types.tBodies[0] ?? this.el.types.createTBody();
    body.replaceChildren(...d.types.map((t) => this.typeRow(t)));
    this.applyDisabled();
  }

  private typeRow(t: OverrideDraft): HTMLTableRowElement {
    const path = `incident_types.${t.name}`;
    const row = h(
      'tr',
      { 'data-type': t.name },
      h('th', { scope: 'row', class: 'tr-name' }, t.name),
      h('td', {}, thresholdInput(t.approve, `${path}.approve`, `${t.name} approve`, (v) => this.edit(() => (t.approve = v)))),
      h('td', {}, thresholdInput(t.reject, `${path}.reject`, `${t.name} reject`, (v) => this.edit(() => (t.reject = v)))),
    );
    for (const f of TRIAGE_FIELDS) {
      const box = h('input', {
        type: 'checkbox',
        value: f,
        checked: t.required.includes(f),
        'aria-label': `${t.name} requires ${f}`,
        'data-path': `${path}.required_fields`,
      });
      box.addEventListener('change', () =>
        this.edit(() => {
          t.required = box.checked ? [...t.required.filter((x) => x !== f), f] : t.required.filter((x) => x !== f);
          row.classList.toggle('has-override', t.approve.trim() !== '' || t.reject.trim() !== '' || t.required.length > 0);
        }),
      );
      row.append(h('td', { class: 'tr-field' }, box));
    }
    row.classList.toggle('has-override', t.approve.trim() !== '' || t.reject.trim() !== '' || t.required.length > 0);
    return row;
  }

  private async submit(): Promise<void> {
    if (!this.draft || !this.canChange) return;
    const r = settingsFromDraft(this.draft);
    if (!r.ok) {
      this.showErrors(r.errors);
      return;
    }
    this.showErrors([]);
    this.el.save.disabled = true;
    try {
      const refusal = await this.actions.save(r.settings);
      if (refusal) this.showErrors([{ path: '', message: refusal }], refusal);
    } catch {
      // Named in the banner by the caller.
    } finally {
      this.el.save.disabled = !this.canChange || !this.draft;
    }
  }

  /** Lists the problems and marks the inputs they name; `serverText` marks by the server's "settings.<path>:" prefix. */
  private showErrors(errors: SettingsError[], serverText?: string): void {
    const root = this.el.save.closest('section') ?? document;
    for (const el of root.querySelectorAll('.is-invalid')) el.classList.remove('is-invalid');
    this.el.errors.replaceChildren(...errors.map((e) => h('li', {}, errorText(e))));
    this.el.errors.hidden = errors.length === 0;
    this.el.errors.dataset.source = serverText ? 'server' : errors.length ? 'client' : '';
    const paths = errors.map((e) => e.path).filter(Boolean);
    if (serverText) {
      const p = serverErrorPath(serverText);
      if (p) paths.push(p);
    }
    for (const p of paths) {
      // "incident_types.x with categories.y" names both rows.
      for (const part of p.split(' with ')) {
        for (const el of root.querySelectorAll<HTMLElement>('[data-path]')) {
          const dp = el.dataset.path ?? '';
          if (dp === part || dp.startsWith(`${part}.`)) el.classList.add('is-invalid');
        }
      }
    }
  }
}
