// The curation page (curator role): the queue of extractions waiting for a
// decision, the selected item's article beside its fields, approve (with
// corrections), reject (with a reason), correct one field, j/k/a/r keys.

import '../style.css';

import { Api, ApiError } from '../api.js';
import { failureText } from '../incidents/format.js';
import { ErrorBanner, PageShell, roleMessage } from '../nav.js';
import type { MapData, WhoAmI } from '../types.js';
import { byId, setText, toast } from '../ui/dom.js';
import type { FieldName, FieldValue } from './corrections.js';
import { ItemView } from './item_view.js';
import { curationPath, keyCommand, moveSelection, PAGE_SIZE, pageLabel, pageOffset, reselect } from './query.js';
import { QueueView } from './queue_view.js';
import type { ApproveAnswer, CurationItem, CurationPage, ItemAnswer, StateFilter } from './types.js';

let api: Api | null = null;
let me: WhoAmI | null = null;
let items: CurationItem[] = [];
let total = 0;
let offset = 0;
let selected: number | null = null;
let loadSeq = 0;

const banner = new ErrorBanner(byId('banner-error'));
const stateSelect = byId<HTMLSelectElement>('cq-state');
const queue = new QueueView(byId('cq-list'), (id) => select(id));
const view = new ItemView(byId('article-col'), byId('fields-col'), {
  approve: async (item, corrections, note) => {
    const body: { corrections?: Record<string, FieldValue>; note?: string } = {};
    if (Object.keys(corrections).length) body.corrections = corrections;
    if (note) body.note = note;
    const what = `Approve item ${item.id}`;
    const r = await act(what, () => api!.post<ApproveAnswer>(`v1/intel/curation/${item.id}/approve`, body));
    view.dropDraft(item.id);
    toast(`Approved item ${item.id}${r.incident ? ` → incident ${r.incident.id}` : ''}`);
    await afterDecision(r.item);
  },
  reject: async (item, reason) => {
    const r = await act(`Reject item ${item.id}`, () => api!.post<ItemAnswer>(`v1/intel/curation/${item.id}/reject`, { reason }));
    view.dropDraft(item.id);
    toast(`Rejected item ${item.id}`);
    await afterDecision(r.item);
  },
  correct: async (item, field: FieldName, value) => {
    const r = await act(`Correct ${field} of item ${item.id}`, () => api!.post<ItemAnswer>(`v1/intel/curation/${item.id}/correct`, { field, value }));
    replaceItem(r.item);
    view.refresh(r.item, field);
    toast(`Saved ${field} of item ${item.id}`);
  },
});

/** Runs an API call; a failure (but 401, which signs out) is named in the banner and rethrown. */
async function act<T>(what: string, fn: () => Promise<T>): Promise<T> {
  if (!api) throw new Error('not signed in');
  try {
    const r = await fn();
    banner.clear(what);
    return r;
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) showRefused(e.message);
    else if (!(e instanceof ApiError && e.status === 401)) banner.show(what, failureText(what, e));
    throw e;
  }
}

function replaceItem(item: CurationItem): void {
  items = items.map((x) => (x.id === item.id ? item : x));
  queue.render(items, selected, emptyText());
}

/** A decided item leaves the open queue: reload and select the one that took its place. */
async function afterDecision(item: CurationItem): Promise<void> {
  replaceItem(item);
  await load();
}

function emptyText(): string {
  const s = stateSelect.value as StateFilter;
  return s === 'open' ? 'Nothing waits for curation.' : `No ${s === 'any' ? '' : `${s} `}items.`;
}

async function load(): Promise<void> {
  if (!api) return;
  const seq = ++loadSeq;
  const state = stateSelect.value as StateFilter;
  const what = 'Load the curation queue';
  let page: CurationPage;
  try {
    page = await act(what, () => api!.get<CurationPage>(curationPath(state, PAGE_SIZE, offset)));
  } catch {
    return;
  }
  if (seq !== loadSeq) return;
  if (page.items.length === 0 && offset > 0 && page.total > 0) {
    // The last page emptied (its items were decided): step back.
    offset = pageOffset(offset, -1, PAGE_SIZE, page.total);
    await load();
    return;
  }
  const oldIndex = selected === null ? 0 : Math.max(0, items.findIndex((x) => x.id === selected));
  items = page.items ?? [];
  total = page.total ?? items.length;
  const next = reselect(
    items.map((x) => x.id),
    selected,
    oldIndex,
  );
  selected = next;
  queue.render(items, selected, emptyText());
  queue.setCount(byId('cq-count'), total);
  setText(byId('cq-page'), pageLabel(offset, items.length, total));
  byId<HTMLButtonElement>('cq-prev').disabled = offset === 0;
  byId<HTMLButtonElement>('cq-next').disabled = offset + items.length >= total;
  const item = items.find((x) => x.id === selected) ?? null;
  if (!view.isShowing(item)) view.show(item);
  document.documentElement.dataset.queueLoaded = String(seq);
}

function select(id: number | null): void {
  selected = id;
  queue.select(id);
  view.show(items.find((x) => x.id === id) ?? null);
}

function showRefused(serverText: string): void {
  const el = byId('role-message');
  setText(el, roleMessage('curation', me, serverText));
  el.hidden = false;
  document.body.classList.add('role-refused');
}

function reset(): void {
  api = null;
  me = null;
  items = [];
  total = 0;
  offset = 0;
  selected = null;
  loadSeq++;
  banner.clear();
  byId('role-message').hidden = true;
  document.body.classList.remove('role-refused');
  queue.render([], null, '');
  setText(byId('cq-count'), '');
  setText(byId('cq-page'), '');
  view.show(null);
}

const shell = new PageShell('curation', {
  onSession: (a, who) => {
    api = a;
    me = who;
    void load();
    a.get<MapData>('v1/map', 15000)
      .then((m) => view.setMapData(m))
      .catch((e: unknown) => {
        if (!(e instanceof ApiError && e.status === 401)) banner.show('Load the city map', failureText('Load the city map (GET /v1/map)', e));
      });
  },
  onSignedOut: reset,
});

stateSelect.addEventListener('change', () => {
  offset = 0;
  selected = null;
  void load();
});
byId('cq-refresh').addEventListener('click', () => void load());
byId('cq-prev').addEventListener('click', () => {
  offset = pageOffset(offset, -1, PAGE_SIZE, total);
  void load();
});
byId('cq-next').addEventListener('click', () => {
  offset = pageOffset(offset, 1, PAGE_SIZE, total);
  void load();
});

document.addEventListener('keydown', (ev) => {
  if (!api) return;
  const t = ev.target as HTMLElement | null;
  const inField = !!t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
  const cmd = keyCommand(ev, inField);
  if (!cmd) return;
  switch (cmd) {
    case 'escape':
      if (inField) t!.blur();
      break;
    case 'next':
    case 'prev': {
      ev.preventDefault();
      const id = moveSelection(
        items.map((x) => x.id),
        selected,
        cmd === 'next' ? 1 : -1,
      );
      if (id !== selected) select(id);
      break;
    }
    case 'approve':
      ev.preventDefault();
      view.approve();
      break;
    case 'reject':
      ev.preventDefault();
      view.startReject();
      break;
  }
});

shell.boot();
