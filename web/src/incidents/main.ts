// The incidents page (analyst role): curated incidents on the city map,
// filtered by date range, type, district and status (GET /v1/intel/incidents),
// counts by type and district, a day-by-day timeline playback, and the
// detail of one incident (GET /v1/intel/incidents/{id}).

import '../style.css';

import { Api, ApiError } from '../api.js';
import { ErrorBanner, PageShell, roleAllows, roleMessage } from '../nav.js';
import type { MapData, WhoAmI } from '../types.js';
import { byId, setText, toast } from '../ui/dom.js';
import { districtNames } from './city_map.js';
import { countsToShow } from './counts.js';
import { emptyFilter, filterBounds, filterErrors, filterFromParams, filterToParams, incidentsPath, MAX_INCIDENTS, type IncidentFilter } from './filters.js';
import { failureText, formatDate, typeText } from './format.js';
import { IncidentMap } from './incident_map.js';
import { shownAt, TimelineState, timelineDays } from './timeline.js';
import { INCIDENT_TYPES, type Incident, type IncidentPage } from './types.js';
import { MultiChoice, renderCounts, renderDetail, renderList } from './views.js';

let api: Api | null = null;
let me: WhoAmI | null = null;
let page: IncidentPage | null = null;
let days: number[] = [];
let selected: number | null = null;
let detail: Incident | null = null;
let loadSeq = 0;
let playTimer: ReturnType<typeof setTimeout> | null = null;
/** The districts of the city map (the district filter's choices, with those the incidents name). */
let districtOptions: string[] = [];
const timeline = new TimelineState(0);

const banner = new ErrorBanner(byId('banner-error'));
const map = new IncidentMap(byId('inc-map'), (id) => void select(id));
const typeChoice = new MultiChoice(byId('f-type'), 'type', typeText);
const districtChoice = new MultiChoice(byId('f-district'), 'district', (d) => d);
typeChoice.setOptions(INCIDENT_TYPES);
const fromInput = byId<HTMLInputElement>('f-from');
const toInput = byId<HTMLInputElement>('f-to');
const slider = byId<HTMLInputElement>('tl-slider');
const playButton = byId<HTMLButtonElement>('tl-play');

// The filter (and an incident to open) may come in the fragment, beside the token.
const startParams = new URLSearchParams(window.location.hash.replace(/^#/, ''));
let filter: IncidentFilter = filterFromParams(startParams);
const openOnLoad = Number(startParams.get('incident')) || null;
showFilter(filter);

function showFilter(f: IncidentFilter): void {
  fromInput.value = f.from;
  toInput.value = f.to;
  typeChoice.values = f.types;
  districtChoice.values = f.districts;
  for (const box of byId('f-status').querySelectorAll<HTMLInputElement>('input[type=checkbox]')) box.checked = f.statuses.includes(box.value);
}

function readFilter(): IncidentFilter {
  return {
    from: fromInput.value,
    to: toInput.value,
    types: typeChoice.values,
    districts: districtChoice.values,
    statuses: [...byId('f-status').querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked')].map((b) => b.value),
  };
}

/** Keeps the filter in the address bar (without the token, which never goes there). */
function writeHash(f: IncidentFilter): void {
  const p = filterToParams(f);
  if (selected !== null) p.set('incident', String(selected));
  const s = p.toString();
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search + (s ? `#${s}` : ''));
}

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

function showRefused(serverText: string): void {
  const el = byId('role-message');
  setText(el, roleMessage('incidents', me, serverText));
  el.hidden = false;
  document.body.classList.add('role-refused');
}

async function load(): Promise<void> {
  if (!api) return;
  const seq = ++loadSeq;
  const f = filter;
  let p: IncidentPage;
  try {
    p = await act('Load the incidents', () => api!.get<IncidentPage>(incidentsPath(f, MAX_INCIDENTS, 0), 15000));
  } catch {
    return;
  }
  if (seq !== loadSeq) return;
  page = { items: p.items ?? [], total: p.total ?? 0, by_type: p.by_type ?? [], by_district: p.by_district ?? [] };
  districtChoice.setOptions([...new Set([...districtOptions, ...page.by_district.map(([d]) => d).filter(Boolean)])].sort());
  days = timelineDays(
    filterBounds(f),
    page.items.map((i) => i.time),
  );
  pause();
  timeline.reset(days.length);
  slider.max = String(Math.max(0, days.length - 1));
  const more = page.total > page.items.length ? ` (the first ${page.items.length} are drawn)` : '';
  setText(byId('inc-total'), `${page.total} incident${page.total === 1 ? '' : 's'}${more}`);
  render();
  map.fitToMarkers();
  document.documentElement.dataset.incidentsLoaded = String(seq);
  if (selected !== null && !page.items.some((i) => i.id === selected) && detail === null) selected = null;
}

/** Draws what the timeline's day shows: markers, counts, list, the slider. */
function render(): void {
  if (!page) return;
  const shown = shownAt(page.items, days, timeline.index);
  map.update(shown);
  map.select(selected);
  const all = timeline.atEnd;
  const counts = countsToShow(page, shown, all && page.items.length >= page.total);
  const day = days[timeline.index];
  const caption = all
    ? days.length
      ? `all ${page.total} incidents, ${formatDate(days[0])} to ${formatDate(days[days.length - 1])}`
      : `all ${page.total} incidents`
    : `up to ${formatDate(day)}: ${shown.length} of ${page.items.length}`;
  renderCounts(byId('inc-counts'), counts, caption);
  renderList(byId('inc-list-host'), shown, selected, (id) => void select(id));
  slider.value = String(timeline.index);
  slider.disabled = days.length < 2;
  playButton.disabled = days.length < 2;
  setText(byId('tl-day'), days.length ? `${formatDate(day)}${all ? ' (all)' : ''} · day ${timeline.index + 1} of ${days.length}` : 'no dated incidents');
  playButton.setAttribute('aria-pressed', String(timeline.playing));
  setText(playButton, timeline.playing ? '❚❚ Pause' : '▶ Play');
  // Set after the markers are drawn: tests observe these to read each day's markers.
  const tl = byId('timeline');
  tl.dataset.markers = String(document.querySelectorAll('#inc-map .incident-marker').length);
  tl.dataset.day = day === undefined ? '' : formatDate(day);
  tl.dataset.index = String(timeline.index);
  tl.dataset.playing = String(timeline.playing);
}

function speedMs(): number {
  return Number(byId<HTMLSelectElement>('tl-speed').value) || 800;
}

function play(): void {
  if (!timeline.play()) return;
  render();
  schedule();
}

function schedule(): void {
  playTimer = setTimeout(() => {
    playTimer = null;
    const more = timeline.step();
    render();
    if (more) schedule();
  }, speedMs());
}

function pause(): void {
  if (playTimer !== null) clearTimeout(playTimer);
  playTimer = null;
  timeline.pause();
}

async function select(id: number | null): Promise<void> {
  selected = id;
  map.select(id);
  writeHash(filter);
  for (const li of document.querySelectorAll<HTMLElement>('#inc-list li[data-incident-id]')) li.classList.toggle('is-selected', Number(li.dataset.incidentId) === id);
  if (id === null) {
    detail = null;
    showDetail();
    return;
  }
  try {
    const inc = await act(`Load incident ${id}`, () => api!.get<Incident>(`v1/intel/incidents/${id}`));
    if (selected !== id) return;
    detail = inc;
    showDetail();
  } catch {
    // named in the banner
  }
}

function showDetail(): void {
  renderDetail(byId('inc-detail'), detail, roleAllows(me?.role, 'curator'), changeStatus, () => void select(null));
}

async function changeStatus(inc: Incident, status: string, reason: string): Promise<void> {
  try {
    const updated = await act(`Set incident ${inc.id} ${status}`, () => api!.post<Incident>(`v1/intel/incidents/${inc.id}/status`, { status, reason }));
    toast(`Incident ${inc.id} is ${updated.status}`);
    if (selected === inc.id) {
      detail = updated;
      showDetail();
    }
    await load();
  } catch {
    // named in the banner
  }
}


function reset(): void {
  pause();
  api = null;
  me = null;
  page = null;
  days = [];
  detail = null;
  selected = null;
  loadSeq++;
  banner.clear();
  byId('role-message').hidden = true;
  document.body.classList.remove('role-refused');
  map.update([]);
  showDetail();
}

const shell = new PageShell('incidents', {
  onSession: (a, who) => {
    api = a;
    me = who;
    void load().then(() => {
      if (openOnLoad !== null && selected === null) void select(openOnLoad);
    });
    a.get<MapData>('v1/map', 15000)
      .then((m) => {
        map.setMapData(m);
        districtOptions = districtNames(m);
        districtChoice.setOptions([...new Set([...districtOptions, ...(page?.by_district ?? []).map(([d]) => d)])].sort());
        map.fitToMarkers();
      })
      .catch((e: unknown) => {
        if (!(e instanceof ApiError && e.status === 401)) banner.show('Load the city map', failureText('Load the city map (GET /v1/map)', e));
      });
  },
  onSignedOut: reset,
});

byId<HTMLFormElement>('inc-filters').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = readFilter();
  const errors = filterErrors(f);
  setText(byId('f-error'), errors.join('; '));
  if (errors.length) return;
  filter = f;
  for (const d of document.querySelectorAll<HTMLDetailsElement>('#inc-filters details')) d.open = false;
  writeHash(filter);
  void load();
});
byId('f-clear').addEventListener('click', () => {
  filter = emptyFilter();
  showFilter(filter);
  setText(byId('f-error'), '');
  writeHash(filter);
  void load();
});
playButton.addEventListener('click', () => {
  if (timeline.playing) {
    pause();
    render();
  } else {
    play();
  }
});
slider.addEventListener('input', () => {
  pause();
  timeline.seek(Number(slider.value));
  render();
});
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && detail) void select(null);
});
window.addEventListener('resize', () => map.invalidateSize());

shell.boot();
